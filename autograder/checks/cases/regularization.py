"""The tolerances of the ``regularization`` assignment: one place for the hidden checks
(``autograder/checks/regularization.py``, in the kernel) and the probes
(``autograder/verify/regularization.py``, out of process), which both load it.

Its random functions are graded by laws whose inputs and seeds live in ``cs231kit.laws``; what is
left here is the tolerance of the numeric answer. Never a reference implementation: the
verification child reads this file (``tests/test_verification.py`` checks that it holds no answer).
"""

ANSWER_ATOL = 1e-6
"""Numeric answers: how close to the value the lecture's reasoning gives."""
