"""The tolerances and the step sweep of the ``gradcheck`` assignment: one place for the hidden checks
(``autograder/checks/gradcheck.py`` with its references, in the kernel) and the probes
(``autograder/verify/gradcheck.py``, out of process), which both load it.

Inputs and tolerances only, never a reference implementation: the verification child reads this
file (``tests/test_verification.py`` checks that it holds no answer).
"""

import numpy as np

VALUE_RTOL = 1e-7
"""Forward values and losses against the reference: exact formulas agree to rounding."""
GRADIENT_RTOL = 1e-6
"""Backward passes against the exact reference gradient (relative to the largest entry)."""
NUMERICAL_TOL = 1e-7
"""A student's finite differences against the trusted ones (relative error): same formula and step,
so rounding only."""
SWEEP_X0 = 1.0
SWEEP_STEPS = np.logspace(-14, -1, 53)
"""The notebook's step-size sweep: centered differences of sin at SWEEP_X0 for these steps h."""
STEP_FACTOR = 30
"""A best step read off the plot passes within this factor of the measured one."""
