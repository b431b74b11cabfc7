"""Simulated students of the ``loss`` assignment: the solution, the blank release, typical bugs.

Plain data read by the grading demo (``cs231kit.grading.simulate``). A submission is the release
notebook whose solution cells hold the source notebook's solution text (marker lines removed),
then each patch replaces ``old`` (which occurs exactly once in the cell ``cell``) by ``new``.
``failing`` lists the autograded test cells that must lose all their points; every other
autograded test must get full points (``None``: every test fails).

Every list below was measured by executing the patched notebook, including the cascades into the
training cells: a wrong SVM gradient also makes the tuned SVM miss its validation-accuracy bar.
"""

ASSIGNMENT = "loss"

STUDENTS = [
    dict(name="reference", description="the solution", patches=[], failing=[]),
    dict(name="blank", description="the release, untouched", release=True, failing=None),
    dict(
        name="svm_grad_sign_flipped",
        description="vectorised SVM: +1 for the correct class and -1 for active margins in dL/dscores "
                    "(the hinge's derivative with the sign flipped), so training climbs the loss",
        patches=[dict(cell="svm_loss_vectorized",
                      old="    dscores = (margins > 0).astype(W.dtype)",
                      new="    dscores = -(margins > 0).astype(W.dtype)")],
        failing=["test_svm_vectorized_gradient", "test_svm_vectorized_hidden", "test_svm_val_accuracy"],
    ),
    dict(
        name="svm_naive_missing_reg_gradient",
        description="naive SVM: adds reg * sum(W * W) to the loss but forgets 2 * reg * W in dW",
        patches=[dict(cell="svm_loss_naive",
                      old="    dW = dW / N + 2 * reg * W",
                      new="    dW = dW / N")],
        failing=["test_svm_naive_gradient", "test_svm_naive_hidden"],
    ),
    dict(
        name="svm_counts_correct_class",
        description="vectorised SVM: sums the margins before zeroing the j = y_i entries, so every example "
                    "adds 1 to the loss (the gradient is still right, so training is unaffected)",
        patches=[dict(cell="svm_loss_vectorized",
                      old="    margins[np.arange(N), y] = 0                     # the sum skips j = y_i\n"
                          "    loss = margins.sum() / N + reg * np.sum(W * W)\n",
                      new="    loss = margins.sum() / N + reg * np.sum(W * W)\n"
                          "    margins[np.arange(N), y] = 0                     # the sum skips j = y_i\n")],
        failing=["test_svm_vectorized_known_answer", "test_svm_vectorized_hidden"],
    ),
    dict(
        name="svm_vectorized_loops",
        description="'vectorised' SVM that loops over the classes: right values, but a Python loop",
        patches=[dict(cell="svm_loss_vectorized",
                      old="    margins = np.maximum(0, scores - correct + 1)    # (N, C)\n",
                      new="    margins = np.zeros_like(scores)\n"
                          "    for j in range(scores.shape[1]):\n"
                          "        margins[:, j] = np.maximum(0, scores[:, j] - correct[:, 0] + 1)\n")],
        failing=["test_svm_vectorized_no_loops"],
    ),
    dict(
        name="softmax_naive_missing_1_over_n",
        description="naive softmax: averages the loss over N but not the gradient",
        patches=[dict(cell="softmax_loss_naive",
                      old="    dW = dW / N + 2 * reg * W",
                      new="    dW = dW + 2 * reg * W")],
        failing=["test_softmax_naive_gradient", "test_softmax_naive_hidden"],
    ),
    dict(
        name="softmax_overflow",
        description="vectorised softmax without the max shift: exact for moderate scores, inf/nan near +-1000",
        patches=[dict(cell="softmax_loss_vectorized",
                      old="    shifted = scores - scores.max(axis=1, keepdims=True)     # each row's maximum becomes 0",
                      new="    shifted = scores")],
        failing=["test_softmax_vectorized_stable"],
    ),
    dict(
        name="l1_copied_l2_gradient",
        description="L1 penalty with the L2 gradient 2 * reg * W pasted in",
        patches=[dict(cell="l1_penalty", old="    dW = reg * np.sign(W)", new="    dW = 2 * reg * W")],
        failing=["test_l1_penalty_visible", "test_l1_penalty_hidden"],
    ),
    dict(
        name="l2_aliasing_mutates_w",
        description="L2 penalty with dW = W followed by dW *= 2 * reg: right values, but W is changed in place",
        patches=[dict(cell="l2_penalty", old="    dW = 2 * reg * W", new="    dW = W\n    dW *= 2 * reg")],
        failing=["test_l2_penalty_visible", "test_l2_penalty_hidden"],
    ),
    dict(
        name="conceptual_slips",
        description="answers C (not C - 1) for the SVM loss at initialisation and 1/C (a probability, not "
                    "a loss) for the softmax loss at initialisation",
        patches=[dict(cell="svm_q3_answer", old="svm_loss_at_init = num_classes - 1",
                      new="svm_loss_at_init = num_classes"),
                 dict(cell="softmax_q2_answer", old="softmax_loss_at_init = np.log(num_classes)",
                      new="softmax_loss_at_init = 1 / num_classes")],
        failing=["test_svm_q3_init", "test_softmax_q2_init"],
    ),
    dict(
        name="learning_rates_too_small",
        description="correct code, but a tuning grid whose learning rates are far too small for 300 steps",
        patches=[dict(cell="tuning_grid", old="svm_learning_rates = [3e-7, 1e-6]",
                      new="svm_learning_rates = [1e-9, 1e-8]")],
        failing=["test_svm_val_accuracy"],
    ),
]
