"""Simulated students of the ``optimizers`` assignment: the solution, the blank release, typical bugs.

Plain data read by the grading demo (``cs231kit.grading.simulate``); see ``autograder/simulated/loss.py``
for the format. Every ``failing`` list was measured by running the demo on the patched notebooks.
A broken update rule also breaks the ungraded training and trajectory cells that use it (a
momentum that climbs makes the later training runs diverge), but no graded test depends on them.
"""

ASSIGNMENT = "optimizers"

STUDENTS = [
    dict(name="reference", description="the solution", patches=[], failing=[]),
    dict(name="blank", description="the release, untouched", release=True, failing=None),
    dict(
        name="adam_without_bias_correction",
        description="Adam that steps with the raw moments m and v: its first step is about 3.16 learning rates",
        patches=[dict(cell="adam", old="    m_hat = m / (1 - beta1 ** t)\n", new="    m_hat = m\n"),
                 dict(cell="adam", old="    v_hat = v / (1 - beta2 ** t)\n", new="    v_hat = v\n")],
        failing=["test_adam_visible", "test_adam_hidden"],
    ),
    dict(
        name="momentum_wrong_sign",
        description="momentum whose velocity adds +learning_rate * dw, so every step climbs the loss",
        patches=[dict(cell="sgd_momentum", old='velocity", np.zeros_like(w)) - state["learning_rate"] * dw',
                      new='velocity", np.zeros_like(w)) + state["learning_rate"] * dw')],
        failing=["test_sgd_momentum_visible", "test_sgd_momentum_hidden"],
    ),
    dict(
        name="rmsprop_epsilon_inside_sqrt",
        description="RMSProp dividing by np.sqrt(cache + epsilon): invisible with epsilon = 1e-8 and large "
                    "gradients (the visible test), wrong with the hidden test's epsilon = 1e-2",
        patches=[dict(cell="rmsprop", old='(np.sqrt(cache) + state["epsilon"])',
                      new='np.sqrt(cache + state["epsilon"])')],
        failing=["test_rmsprop_hidden"],
    ),
    dict(
        name="adagrad_updates_cache_in_place",
        description="AdaGrad with cache += dw * dw: right values, but it writes into the caller's state",
        patches=[dict(cell="adagrad", old='    cache = state.get("cache", np.zeros_like(w)) + dw * dw\n',
                      new='    cache = state.get("cache", np.zeros_like(w))\n    cache += dw * dw\n')],
        failing=["test_adagrad_visible", "test_adagrad_hidden"],
    ),
]
