"""Out-of-process verification of the ``loss`` assignment (see ``cs231kit.grading.verify``).

Each probe mirrors what its test cells check, on inputs of the same kind, and runs in the sandbox
for the student's code and for the reference alike. This file is visible to the sandbox (it holds
no reference implementation); ``autograder/checks/`` is not, but for the inputs it shares with the
checks, ``autograder/checks/cases/``.
"""

from pathlib import Path

import numpy as np

from cs231kit.course import load_course_module
from cs231kit.grading.probing import gradient_samples, line_counts
from cs231kit.grading.verify import InKernelOnly, Probe

shared = load_course_module("autograder/checks/cases/loss.py", root=Path(__file__).resolve().parents[2])
"""The hidden inputs and tolerances, shared with the hidden checks of ``autograder/checks/loss.py``."""

# Test cells that no probe backs, and why.
TRAINING_RUN = "the accuracy of the notebook's own tuning run (training is not repeated out of process)"
IN_KERNEL_ONLY = {
    "test_svm_val_accuracy": InKernelOnly(TRAINING_RUN, ("svm_loss_vectorized: gradient against its own loss",)),
    "test_softmax_val_accuracy": InKernelOnly(TRAINING_RUN, ("softmax_loss_vectorized: gradient against its own loss",)),
}
LOOP_SLACK = 2


def lecture_losses(name):
    """The lecture's three images alone, then together (reg = 0): the loss of each call."""
    def run(namespace):
        fn, scores, labels = namespace[name], shared.LECTURE_SCORES, shared.LECTURE_LABELS
        singles = [fn(scores.copy(), np.eye(3)[i:i + 1], labels[i:i + 1], 0.0)[0] for i in range(3)]
        return {"loss": [*singles, fn(scores.copy(), np.eye(3), labels.copy(), 0.0)[0]]}
    return run


def own_gradient(name):
    """dW against centred differences of the function's own loss, reg = 0 and reg = 0.5."""
    def run(namespace):
        rng = np.random.default_rng(31)
        W, X, y, _ = shared.loss_case(12, 7, 4, 0.0, 32)
        return {f"reg{reg:g}": gradient_samples(namespace[name], W, (X, y, reg), rng) for reg in (0.0, 0.5)}
    return run


def against_reference(name, cases=shared.PROBE_LOSS_CASES):
    """Loss, dW and the untouched W on each case, plus gradient samples."""
    def run(namespace):
        rng = np.random.default_rng(41)
        return {f"case{i}": gradient_samples(namespace[name], W, (X, y, reg), rng)
                for i, (W, X, y, reg) in enumerate(shared.loss_case(*case) for case in cases)}
    return run


def stable_scores(name):
    """Scores near +1000, -1000 and mixed (reg = 0): the loss, and how much dW moves with the offset."""
    def run(namespace):
        fn, outputs = namespace[name], {}
        for label, signs in (("plus", 1.0), ("minus", -1.0), ("mixed", None)):
            rng = np.random.default_rng(51)
            W, X, y, _ = shared.loss_case(12, 6, 5, 0.0, 52)
            X[:, -1] = np.where(np.arange(12) % 2 == 0, 1.0, -1.0) if signs is None else signs
            W[-1, :] = 1000.0 + rng.standard_normal(5)
            loss, dW = fn(W.copy(), X.copy(), y.copy(), 0.0)
            moderate = W.copy()
            moderate[-1, :] -= 1000.0
            dW_moderate = np.asarray(fn(moderate, X.copy(), y.copy(), 0.0)[1])
            outputs[label] = {"loss": loss, "dW_shift": (np.asarray(dW) - dW_moderate) / (1 + np.abs(dW_moderate).max())}
        return outputs
    return run


def penalties(name, cases):
    """``(penalty, dW)`` and the untouched W for each ``(W, reg)``."""
    def run(namespace):
        outputs = {}
        for i, (W, reg) in enumerate(cases):
            given = W.copy()
            penalty, dW = namespace[name](given, reg)
            outputs[f"case{i}"] = {"penalty": penalty, "dW": dW, "W_after": given}
        return outputs
    return run


def random_penalty_cases():
    """Random W (no exact zeros, away from the L1 kink) of several shapes, reg = 0 included."""
    return [(np.random.default_rng(seed).standard_normal(shape), reg) for shape, reg, seed in shared.PROBE_PENALTY_CASES]


# The lecture's weights w1, w2 (reg = 1), then random weights with reg = 0.7, as in the visible tests.
LECTURE_WEIGHTS = [(np.array([[1.0], [0.0], [0.0], [0.0]]), 1.0), (np.full((4, 1), 0.25), 1.0),
                   (np.random.default_rng(0).standard_normal((5, 3)), 0.7)]


def answers(*names):
    """The values of the notebook's answer variables."""
    return lambda namespace: {name: namespace[name] for name in names}


def _loss_probes(name, tests_prefix, stable=False):
    """The probes of one loss function: lecture example, own gradient, reference (and stability)."""
    probes = [
        Probe(f"{name} on the lecture's example", (f"{tests_prefix}_known_answer",), lecture_losses(name),
              rtol=1e-5),
        Probe(f"{name}: gradient against its own loss", (f"{tests_prefix}_gradient",), own_gradient(name),
              reference_keys=()),
        Probe(f"{name} against the reference", (f"{tests_prefix}_hidden",), against_reference(name),
              rtol=shared.LOSS_RTOL),
    ]
    if name.endswith("_vectorized"):
        probes.append(Probe(f"{name} on two sizes (Python lines run)", (f"{tests_prefix}_no_loops",),
                            lambda definitions: line_counts(definitions, name,
                                                            [shared.loss_case(*c) for c in shared.LOOP_CASES]),
                            reference_keys=(), loop_slack=LOOP_SLACK))
    if stable:
        probes.append(Probe(f"{name} with scores near ±1000", (f"{tests_prefix}_stable",), stable_scores(name),
                            rtol=shared.LOSS_RTOL, atol=1e-6))
    return probes


PROBES = (
    Probe("svm_loss_min and svm_loss_max", ("test_svm_q2_bounds",), answers("svm_loss_min", "svm_loss_max"),
          atol=shared.ANSWER_ATOL),
    Probe("svm_loss_at_init", ("test_svm_q3_init",), answers("svm_loss_at_init"), atol=shared.ANSWER_ATOL),
    Probe("svm_loss_increase_with_correct_class", ("test_svm_q4_correct_class",),
          answers("svm_loss_increase_with_correct_class"), atol=shared.ANSWER_ATOL),
    *_loss_probes("svm_loss_naive", "test_svm_naive"),
    *_loss_probes("svm_loss_vectorized", "test_svm_vectorized"),
    Probe("l2_penalty on the lecture's weights", ("test_l2_penalty_visible",), penalties("l2_penalty", LECTURE_WEIGHTS)),
    Probe("l2_penalty against the reference", ("test_l2_penalty_hidden",),
          penalties("l2_penalty", random_penalty_cases())),
    Probe("l1_penalty on the lecture's weights", ("test_l1_penalty_visible",),
          penalties("l1_penalty", LECTURE_WEIGHTS[1:])),  # w1 has zeros, where any subgradient is right
    Probe("l1_penalty against the reference", ("test_l1_penalty_hidden",),
          penalties("l1_penalty", random_penalty_cases())),
    Probe("softmax_loss_min and softmax_loss_max", ("test_softmax_q1_bounds",),
          answers("softmax_loss_min", "softmax_loss_max"), atol=shared.ANSWER_ATOL),
    Probe("softmax_loss_at_init", ("test_softmax_q2_init",), answers("softmax_loss_at_init"), atol=shared.ANSWER_ATOL),
    *_loss_probes("softmax_loss_naive", "test_softmax_naive"),
    *_loss_probes("softmax_loss_vectorized", "test_softmax_vectorized", stable=True),
)
