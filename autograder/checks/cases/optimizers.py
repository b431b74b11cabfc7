"""The hidden inputs and tolerances of the ``optimizers`` assignment: one place for the hidden checks
(``autograder/checks/optimizers.py``, in the kernel) and the probes (``autograder/verify/optimizers.py``,
out of process), which both load it.

Inputs, seeds and tolerances only, never a reference implementation: the verification child reads
this file (``tests/test_verification.py`` checks that it holds no answer).
"""

import numpy as np

RULE_RTOL = 1e-9
"""Update rules against a reference computing the same float64 formula."""
STRATEGY_RTOL = 1e-7
"""Search strategies and Polyak averaging (many steps of float64 arithmetic)."""
QUADRATIC_CONDITION = 20.0
"""The ill-conditioned quadratic every rule must converge on: f = (x^2 + 20 y^2) / 2 from (-4, 1)."""
CONVERGED_DISTANCE = 1e-3
"""Distance to the quadratic's minimum that counts as converged."""
NUM_STEPS = 5
"""Consecutive steps of the hidden sequence of every update rule."""

# rule -> the hidden hyperparameters (every one, CS231n key names; epsilon large enough that its place
# matters), the running buffers in the state, and the state and step budget on the quadratic (the rule
# must come within CONVERGED_DISTANCE of the minimum at least once: with a constant learning rate
# RMSProp and Adam then hover around it).
RULE_CASES = {
    "sgd": dict(hidden={"learning_rate": 0.3}, buffers=(), quadratic={"learning_rate": 0.09}, budget=150),
    "sgd_momentum": dict(hidden={"learning_rate": 0.3, "momentum": 0.7}, buffers=("velocity",),
                         quadratic={"learning_rate": 0.05, "momentum": 0.8}, budget=150),
    "nesterov_momentum": dict(hidden={"learning_rate": 0.3, "momentum": 0.7}, buffers=("velocity",),
                              quadratic={"learning_rate": 0.05, "momentum": 0.8}, budget=150),
    "adagrad": dict(hidden={"learning_rate": 0.3, "epsilon": 1e-2}, buffers=("cache",),
                    quadratic={"learning_rate": 2.0, "epsilon": 1e-8}, budget=150),
    "rmsprop": dict(hidden={"learning_rate": 0.3, "decay_rate": 0.8, "epsilon": 1e-2}, buffers=("cache",),
                    quadratic={"learning_rate": 0.03, "decay_rate": 0.99, "epsilon": 1e-8}, budget=300),
    "adam": dict(hidden={"learning_rate": 0.3, "beta1": 0.8, "beta2": 0.95, "epsilon": 1e-2}, buffers=("m", "v", "t"),
                 quadratic={"learning_rate": 0.1, "beta1": 0.8, "beta2": 0.99, "epsilon": 1e-8}, budget=300),
}
"""The update rules of the assignment, in the order of the notebook."""

SCHEDULE_PARAMETERS = {
    "step_decay": dict(learning_rate=0.1, factor=0.3, every=25),
    "exponential_decay": dict(learning_rate=0.1, k=0.01),
    "inverse_time_decay": dict(learning_rate=0.1, k=0.05),
    "cosine_decay": dict(learning_rate=0.1, num_iterations=200),
}
"""Schedule -> the hidden parameters."""
SCHEDULE_ITERATIONS = (0, 1, 24, 25, 26, 49, 50, 100, 137, 199, 200)
"""The hidden iterations: they hit every drop of step_decay."""


def rule_sequence(shape=(4, 3), seed=401):
    """Seeded float64 ``w`` and ``NUM_STEPS`` gradients of mixed sizes (1e-3 to 5, entry by entry)."""
    rng = np.random.default_rng(seed)
    w = rng.standard_normal(shape)
    return w, [rng.standard_normal(shape) * rng.choice([1e-3, 0.1, 1.0, 5.0], size=shape) for _ in range(NUM_STEPS)]


class CountingLoss:
    """A loss function ``(W, X, y, reg) -> (loss, dW)`` that counts its calls and remembers every ``reg``
    it was given: the search strategies must evaluate the data loss (``reg`` 0), once per candidate.

    Parameters
    ----------
    loss_fn : callable
        The softmax loss it wraps (the checks' reference, or the probes' own).
    """

    __name__ = "the reference softmax loss"

    def __init__(self, loss_fn):
        self.loss_fn, self.calls, self.regs = loss_fn, 0, set()

    def __call__(self, W, X, y, reg):
        self.calls += 1
        self.regs.add(reg)
        return self.loss_fn(W, X, y, reg)
