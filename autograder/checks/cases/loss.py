"""The hidden inputs and tolerances of the ``loss`` assignment: one place for the hidden checks
(``autograder/checks/loss.py``, in the kernel) and the probes (``autograder/verify/loss.py``, out of
process), which both load it.

Inputs, seeds and tolerances only, never a reference implementation: the verification child reads
this file (``tests/test_verification.py`` checks that it holds no answer). The checks and the probes
draw on different seeds, so a submission tuned to one set of inputs meets others in the other.
"""

import numpy as np

LOSS_RTOL = 1e-6
"""Relative tolerance of a student's loss and dW against the reference (both are exact formulas)."""
ANSWER_ATOL = 1e-2
"""Absolute tolerance of numeric answers to the conceptual questions (2.3 for log 10 is fine)."""

# (N, D, C, reg, seed): N = 1 and C = 2 included, reg = 0 and reg > 0. What each separates from the
# right answer: N > 1 a sum not divided by N (and N = 1 an average over the wrong axis); reg > 0 a
# missing or halved penalty gradient 2 reg W (reg = 0 hides it); C = 2 a margin counted for the
# correct class; a larger batch an index that only works for small N or C.
LOSS_CASES = ((1, 4, 3, 0.0, 101), (5, 3, 2, 0.1, 102), (8, 6, 4, 0.05, 103), (1, 5, 2, 0.3, 104),
              (30, 12, 10, 0.01, 105))
"""The hidden checks' cases."""
LARGE_CASE = (200, 50, 10, 0.002, 106)
"""An extra, larger case for the vectorised versions only (the naive ones are slow)."""
LOOP_CASES = ((8, 6, 4, 0.05, 107), (64, 20, 10, 0.05, 108))
"""The no-loops cases: a vectorised loss runs the same Python lines whatever N, D and C. The hidden
check calls the function on the first (to make sure it is implemented); the probe counts the lines of both."""
PROBE_LOSS_CASES = ((5, 4, 3, 0.0, 11), (1, 6, 2, 0.5, 12), (9, 5, 4, 0.1, 13), (64, 30, 10, 1e-3, 14))
"""The probes' cases."""

# (shape of W, reg, seed) of the penalties.
PENALTY_CASES = (((3, 2), 0.5, 201), ((7, 10), 0.0, 202), ((1, 1), 2.0, 203), ((20, 5), 1e-3, 204))
PROBE_PENALTY_CASES = (((3, 2), 0.5, 21), ((7, 10), 0.0, 22), ((1, 1), 2.0, 23), ((20, 5), 1e-3, 24))

LECTURE_SCORES = np.array([[3.2, 5.1, -1.7], [1.3, 4.9, 2.0], [2.2, 2.5, -3.1]])
LECTURE_LABELS = np.array([0, 1, 2])
"""The lecture's three images: their class scores and their labels."""


def loss_case(N, D, C, reg, seed):
    """Seeded float64 inputs ``(W, X, y, reg)``: scores of order 1, so some SVM margins are active."""
    rng = np.random.default_rng(seed)
    return rng.standard_normal((D, C)) / np.sqrt(D), rng.standard_normal((N, D)), rng.integers(0, C, size=N), reg
