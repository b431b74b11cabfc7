"""Simulated students of the ``regularization`` assignment: the solution, the blank release, typical bugs.

Plain data read by the grading demo (``cs231kit.grading.simulate``); see ``autograder/simulated/loss.py``
for the format. Every ``failing`` list was measured by running the demo on the patched notebooks,
cascades included: the network uses the student's dropout, so a dropout bug that shows in test mode
or in the gradient also fails a network test.
"""

ASSIGNMENT = "regularization"

DROPOUT_FORWARD_TESTS = ["test_dropout_forward_visible", "test_dropout_forward_hidden"]
DROPOUT_BACKWARD_TESTS = ["test_dropout_backward_visible", "test_dropout_backward_hidden"]

STUDENTS = [
    dict(name="reference", description="the solution", patches=[], failing=[]),
    dict(name="blank", description="the release, untouched", release=True, failing=None),
    dict(
        name="dropout_scales_at_test",
        description="the original (not inverted) dropout: training keeps units unscaled and test mode multiplies "
                    "by p, so test mode is not the identity, the backward pass lacks the 1/p and the network's "
                    "test-time scores are scaled by p",
        patches=[dict(cell="dropout_forward",
                      old="    if mode == \"test\" or p == 1:\n        return x, None\n"
                          "    mask = ((rng.random(x.shape) < p) / p).astype(x.dtype, copy=False)\n",
                      new="    if mode == \"test\":\n        return x * p, None\n"
                          "    mask = (rng.random(x.shape) < p).astype(x.dtype)\n")],
        failing=[*DROPOUT_FORWARD_TESTS, *DROPOUT_BACKWARD_TESTS, "test_two_layer_net_visible",
                 "test_two_layer_net_hidden"],
    ),
    dict(
        name="p_as_drop_probability",
        description="p read as the probability of DROPPING a unit: units kept with probability 1 - p and scaled "
                    "by 1 / (1 - p), which is right in expectation but keeps the wrong fraction",
        patches=[dict(cell="dropout_forward",
                      old="    mask = ((rng.random(x.shape) < p) / p)",
                      new="    mask = ((rng.random(x.shape) >= p) / (1 - p))")],
        failing=[*DROPOUT_FORWARD_TESTS, *DROPOUT_BACKWARD_TESTS],
    ),
    dict(
        name="backward_draws_new_mask",
        description="the forward pass caches (p, rng) and the backward pass draws a new mask from it, so the "
                    "gradient flows through other units than the ones the forward pass kept",
        patches=[dict(cell="dropout_forward", old="    return x * mask, mask\n", new="    return x * mask, (p, rng)\n"),
                 dict(cell="dropout_backward",
                      old="    mask = cache\n    if mask is None:\n        return dout\n    return dout * mask\n",
                      new="    if cache is None:\n        return dout\n    p, rng = cache\n"
                          "    return dout * ((rng.random(dout.shape) < p) / p)\n")],
        failing=[*DROPOUT_BACKWARD_TESTS, "test_two_layer_net_visible", "test_two_layer_net_hidden"],
    ),
    dict(
        name="crop_without_padding",
        description="random_crop that never pads: windows only inside the image, so a 32 x 32 crop of a 32 x 32 "
                    "image is always the image itself",
        patches=[dict(cell="random_crop",
                      old="    padded = np.pad(images, ((0, 0), (padding, padding), (padding, padding), (0, 0)))\n"
                          "    rows = rng.integers(0, H + 2 * padding - size + 1, size=N)\n"
                          "    cols = rng.integers(0, W + 2 * padding - size + 1, size=N)\n",
                      new="    padded = images\n"
                          "    rows = rng.integers(0, H - size + 1, size=N)\n"
                          "    cols = rng.integers(0, W - size + 1, size=N)\n")],
        failing=["test_crop_visible", "test_crop_hidden"],
    ),
    dict(
        name="flip_wrong_axis",
        description="random_horizontal_flip that reverses the rows (axis 1 of the batch): upside down, not mirrored",
        patches=[dict(cell="random_horizontal_flip", old="    out[flip] = images[flip, :, ::-1]\n",
                      new="    out[flip] = images[flip, ::-1]\n")],
        failing=["test_flip_visible", "test_flip_hidden"],
    ),
    dict(
        name="fine_tune_updates_frozen",
        description="fine_tune with lr_mult[name] or 1.0: a multiplier of 0 is falsy, so frozen layers train at "
                    "the full learning rate",
        patches=[dict(cell="freeze_fine_tune",
                      old="    return {name: w.copy() if lr_mult[name] == 0 else w - (lr * lr_mult[name]) * grads[name]\n"
                          "            for name, w in params.items()}\n",
                      new="    return {name: w - (lr * (lr_mult[name] or 1.0)) * grads[name] for name, w in params.items()}\n")],
        failing=["test_freeze_fine_tune_visible", "test_freeze_fine_tune_hidden"],
    ),
]
