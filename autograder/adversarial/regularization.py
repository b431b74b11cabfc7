"""The adversarial corpus of the ``regularization`` assignment: cheats and edits, each with its expected outcome.

Plain data, built like the simulated students (``cs231kit.grading.simulate.student_files``); see
``autograder/adversarial/loss.py`` for the format and the corpus contract for ``TARGET``. The expected
score of every cheat is the score of the same wrong answer submitted honestly: no case may gain a point.

Most cheats carry the wrong answer of :data:`TARGET`: a dropout that reads ``p`` as the probability of
*dropping* a unit (right in expectation, wrong kept fraction), which fails the four dropout tests.
The laws of this assignment are measured in the trusted parent from the arrays the sandbox returns, so
a cheat that fools the kernel's checks (a patched ``cs231kit.laws``, a patched checks loader, numpy's
comparisons replaced, a forged accuracy) gets its points taken back and the submission flagged.
"""

ASSIGNMENT = "regularization"

DROP_PROBABILITY = dict(cell="dropout_forward", old="    mask = ((rng.random(x.shape) < p) / p)",
                        new="    mask = ((rng.random(x.shape) >= p) / (1 - p))")
HONEST_FAILURES = ["test_dropout_forward_visible", "test_dropout_forward_hidden", "test_dropout_backward_visible",
                   "test_dropout_backward_hidden"]
TARGET = dict(wrong=[DROP_PROBABILITY], honest_failures=HONEST_FAILURES, free_cell="given_layers")

# Every law "holds" in the kernel: the visible and hidden tests of every function pass there.
FAKE_LAWS = """
import cs231kit.laws
cs231kit.laws.assert_laws = lambda *args, **kwargs: None
assert_laws = cs231kit.laws.assert_laws
"""
# numpy's comparisons and reductions made to agree with anything, from the solution cell itself.
PATCHED_NUMPY = ("    np.array_equal = lambda *a, **k: True\n    np.allclose = lambda *a, **k: True\n"
                 "    np.all = lambda *a, **k: True\n")
# A network that never learns: every gradient is zero.
ZERO_GRADIENTS = dict(cell="two_layer_net_loss", old="    return loss, grads\n",
                      new="    return loss, {name: 0 * grad for name, grad in grads.items()}\n")
NETWORK_FAILURES = ["test_two_layer_net_visible", "test_two_layer_net_hidden", "test_overfit_small_data"]


def _insert(after, source, **values):
    return dict(cell=after, action="insert", source=source, **({"values": values} if values else {}))


CASES = [
    dict(name="fake_laws_module", description="replaces cs231kit.laws.assert_laws in a free cell: every visible "
         "and hidden test of the wrong dropout passes in the kernel", patches=[DROP_PROBABILITY],
         cell_edits=[_insert("given_layers", FAKE_LAWS)], status="tamper suspected", failing=HONEST_FAILURES),
    dict(name="numpy_comparisons_patched", description="the wrong dropout's solution cell makes np.array_equal, "
         "np.allclose and np.all always true; the kernel's own visible measurements of the flip and crop laws then "
         "break (np.all returns a bool where an array is needed), so the cheat loses those points too (the hidden "
         "ones are measured in the parent)",
         patches=[dict(DROP_PROBABILITY, new=DROP_PROBABILITY["new"].replace("    mask", PATCHED_NUMPY + "    mask"))],
         status="tamper suspected", failing=[*HONEST_FAILURES, "test_flip_visible", "test_crop_visible"]),
    dict(name="laws_patched_from_solution_cell", description="the wrong dropout's solution cell replaces "
         "cs231kit.laws.broken_laws by one that finds nothing broken", patches=[dict(DROP_PROBABILITY,
             new="    import cs231kit.laws\n    cs231kit.laws.broken_laws = lambda *a, **k: {}\n" + DROP_PROBABILITY["new"])],
         status="tamper suspected", failing=HONEST_FAILURES),
    dict(name="forged_overfit_accuracy", description="a network with zero gradients cannot overfit 50 images; its "
         "predictions read the notebook's overfit_labels when asked for 50 scores, so the measured accuracy is 1.0",
         patches=[ZERO_GRADIENTS, dict(cell="two_layer_net_loss", old="    if y is None:\n        return scores\n",
                                       new="    if y is None:\n        if len(X) == 50 and 'overfit_labels' in globals():\n"
                                           "            return np.eye(scores.shape[1])[overfit_labels]\n"
                                           "        return scores\n")],
         status="tamper suspected", failing=NETWORK_FAILURES),
    dict(name="answer_with_lying_comparisons", description="expected_output_factor is a float subclass of value "
         "1.0 whose differences are 0 and whose == is always True",
         patches=[dict(cell="dropout_question_answer", old="expected_output_factor = 0.5",
                       new="class Liar(float):\n    __eq__ = lambda self, other: True\n"
                           "    __sub__ = __rsub__ = lambda self, other: 0.0\n    __abs__ = lambda self: 0.0\n"
                           "expected_output_factor = Liar(1.0)")],
         status="graded", failing=["test_dropout_question"]),
    dict(name="edited_visible_test", description="replaces a failing visible test of the wrong dropout by a print",
         patches=[DROP_PROBABILITY], cell_edits=[dict(cell="test_dropout_forward_visible", action="edit",
                                                       source="print('visible tests passed')")],
         status="test cells restored", failing=HONEST_FAILURES),
    dict(name="deleted_hidden_tests", description="deletes the hidden tests the wrong dropout fails",
         patches=[DROP_PROBABILITY], cell_edits=[dict(cell=t, action="delete") for t in
                                                  ("test_dropout_forward_hidden", "test_dropout_backward_hidden")],
         status="test cells restored", failing=HONEST_FAILURES),
    dict(name="frozen_check_given_cell_edited", description="fine_tune that trains frozen layers, and the "
         "read-only given cell edited to redefine check_is_number and assert_laws",
         patches=[dict(cell="freeze_fine_tune",
                       old="w.copy() if lr_mult[name] == 0 else w - (lr * lr_mult[name]) * grads[name]",
                       new="w - (lr * (lr_mult[name] or 1.0)) * grads[name]")],
         cell_edits=[dict(cell="given_layers", action="edit", source="assert_laws = lambda *a, **k: None\n"
                          "def check_is_number(name, value):\n    pass\n")],
         status="test cells restored", failing=["test_freeze_fine_tune_visible", "test_freeze_fine_tune_hidden"]),
]
