"""Tests of the learning-rate schedule hook of cs231kit.training.train_linear_classifier."""

import numpy as np
import pytest
from loss_fixtures import softmax_loss  # tests/ is on sys.path under pytest

from cs231kit.training import TrainingDiverged, sgd, train_linear_classifier

X_BLOBS = np.array([[2.0, 0.0, 1.0], [-2.0, 0.5, 1.0], [0.0, 2.0, 1.0], [0.5, -2.0, 1.0]])
Y_BLOBS = np.array([0, 1, 2, 0])


def recording_sgd(calls):
    """Plain SGD that appends the state it receives to ``calls``."""
    def rule(w, dw, state):
        calls.append(dict(state))
        return sgd(w, dw, state)
    return rule


def train(**kwargs):
    return train_linear_classifier(softmax_loss, X_BLOBS, Y_BLOBS, batch_size=4, **{"reg": 0.0, **kwargs})


def test_the_schedule_sets_the_learning_rate_of_every_iteration():
    calls = []
    train(update_rule=recording_sgd(calls), num_iters=5, learning_rate=123.0, lr_schedule=lambda t: 0.5 / (1 + t))
    assert [state["learning_rate"] for state in calls] == [0.5, 0.25, 0.5 / 3, 0.125, 0.1]


def test_the_schedule_leaves_the_buffers_of_the_rule_alone():
    calls = []

    def counting_rule(w, dw, state):
        calls.append(dict(state))
        next_w, next_state = sgd(w, dw, state)
        return next_w, {**next_state, "steps": state.get("steps", 0) + 1}

    train(update_rule=counting_rule, num_iters=3, lr_schedule=lambda t: 0.1 * (t + 1))
    assert calls == [{"learning_rate": 0.1}, {"learning_rate": 0.2, "steps": 1},
                     {"learning_rate": pytest.approx(0.3), "steps": 2}]


def test_a_constant_schedule_equals_a_fixed_learning_rate():
    fixed = train(learning_rate=0.3, num_iters=20, seed=4)
    scheduled = train(learning_rate=1e-9, lr_schedule=lambda t: 0.3, num_iters=20, seed=4)
    np.testing.assert_array_equal(fixed.W, scheduled.W)
    assert fixed.loss_history == scheduled.loss_history


def test_numpy_learning_rates_become_floats():
    calls = []
    train(update_rule=recording_sgd(calls), num_iters=2, lr_schedule=lambda t: np.float32(0.5) ** (t + 1))
    assert all(type(state["learning_rate"]) is float for state in calls)


def test_divergence_reports_the_scheduled_learning_rate():
    with np.errstate(all="ignore"), pytest.raises(TrainingDiverged) as caught:
        train(num_iters=50, reg=1e-4, lr_schedule=lambda t: 1e12 * (t + 1))
    assert f"learning_rate={1e12 * (caught.value.iteration + 1):g}" in str(caught.value)


def test_the_result_holds_the_last_state_of_the_rule():
    def counting_sgd(w, dw, state):
        next_w, next_state = sgd(w, dw, state)
        return next_w, {**next_state, "steps": state.get("steps", 0) + 1}

    result = train(update_rule=counting_sgd, num_iters=6, lr_schedule=lambda t: 0.1 / (t + 1))
    assert result.state == {"learning_rate": pytest.approx(0.1 / 6), "steps": 6}
    assert train(num_iters=0).state == {"learning_rate": 1e-3}
