"""Simulated students of the ``gradcheck`` assignment: the solution, the blank release, typical bugs.

Plain data read by the grading demo (``cs231kit.grading.simulate``). A submission is the release
notebook whose solution cells hold the source notebook's solution text (marker lines removed),
then each patch replaces ``old`` (which occurs exactly once in the cell ``cell``) by ``new``.
``failing`` lists the autograded test cells that must lose all their points; every other
autograded test must get full points (``None``: every test fails).

Every list below was measured by executing the patched notebook. A bug in a gate or a layer also
fails the tests of the functions built from it (the graphs, the two-layer network): their
gradients are wrong too. No bug reaches the tests of other functions through the checker, because
every backward pass is checked with the course's numerical gradient, never the student's.
"""

ASSIGNMENT = "gradcheck"

STUDENTS = [
    dict(name="reference", description="the solution", patches=[], failing=[]),
    dict(name="blank", description="the release, untouched", release=True, failing=None),
    dict(
        name="relu_passes_negative",
        description="ReLU backward without the mask: the upstream gradient also passes where x < 0, "
                    "so the two-layer network's W1 and b1 gradients are wrong too",
        patches=[dict(cell="relu", old="    dx = dout * (x > 0)", new="    dx = dout.copy()")],
        failing=["test_relu_visible", "test_relu_hidden", "test_two_layer_net_visible", "test_two_layer_net_hidden"],
    ),
    dict(
        name="affine_dx_not_reshaped",
        description="affine backward returns dx as an (N, D) matrix, not in the shape of x: right for 2-D x "
                    "(so the network, whose X is (N, D), is unaffected), wrong for images",
        patches=[dict(cell="affine", old="    dx = (dout @ w.T).reshape(x.shape)", new="    dx = dout @ w.T")],
        failing=["test_affine_visible", "test_affine_hidden"],
    ),
    dict(
        name="numerical_gradient_no_restore",
        description="numerical gradient that leaves each entry at x - h: x comes back changed, and every "
                    "later entry is differentiated at a shifted point (wrong for a function that couples entries)",
        patches=[dict(cell="numerical_gradient",
                      old="        x[index] = saved  # restore exactly: saved - h + h may differ from saved in the last bit\n",
                      new="")],
        failing=["test_numerical_gradient_visible", "test_numerical_gradient_hidden",
                 "test_numerical_gradient_restores_x"],
    ),
    dict(
        name="mul_gate_no_swap",
        description="mul backward multiplies dout by the input's own value (da = dout * a): the staged graphs "
                    "built from it get wrong gradients too",
        patches=[dict(cell="binary_gates", old="    da = dout * b\n    db = dout * a",
                      new="    da = dout * a\n    db = dout * b")],
        failing=["test_binary_gates_visible", "test_binary_gates_hidden", "test_add_mul_graph_visible",
                 "test_add_mul_graph_hidden", "test_sigmoid_neuron_visible", "test_sigmoid_neuron_hidden"],
    ),
]
