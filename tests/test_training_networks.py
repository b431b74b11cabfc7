"""``cs231kit.training.per_parameter`` and ``train_network``: the minibatch loop of the networks."""

import numpy as np
import pytest

from cs231kit.training import TrainingDiverged, per_parameter, sgd, train_network


def _quadratic_loss(params, X, y, rng):
    """0.5 * sum((w - target)**2) per parameter, with the batch mean of X as the target of "a"."""
    target = X.mean()
    loss = 0.5 * sum(np.sum((w - target) ** 2) for w in params.values())
    return loss, {name: w - target for name, w in params.items()}


def test_per_parameter_applies_the_rule_to_each_parameter_with_its_own_state():
    def counting(w, dw, state):
        state = {**state, "calls": state.get("calls", 0) + 1}
        return w - state["learning_rate"] * dw, state

    step = per_parameter(counting, learning_rate=0.5)
    params, grads = {"a": np.ones(2), "b": np.zeros(3)}, {"a": np.ones(2), "b": -np.ones(3)}
    after, states = step(params, grads)
    after, states = step(after, grads, states)
    np.testing.assert_array_equal(after["a"], [0.0, 0.0])
    np.testing.assert_array_equal(after["b"], [1.0, 1.0, 1.0])
    assert states == {"a": {"learning_rate": 0.5, "calls": 2}, "b": {"learning_rate": 0.5, "calls": 2}}
    np.testing.assert_array_equal(params["a"], [1.0, 1.0])  # pure with a pure rule


def test_every_epoch_visits_every_example_once_and_the_run_is_reproducible():
    seen = []

    def recording_loss(params, X, y, rng):
        seen.extend(X[:, 0].tolist())
        return _quadratic_loss(params, X, y, rng)

    X, y = np.arange(10.0)[:, None], np.zeros(10, dtype=int)
    params = {"a": np.zeros(2)}
    result = train_network(recording_loss, params, X, y, step=per_parameter(sgd, learning_rate=0.1), num_epochs=3,
                           batch_size=4, seed=1, evaluate=lambda p: {"a": float(p["a"][0])})
    assert sorted(seen) == sorted(list(range(10)) * 3) and len(result.loss_history) == 3 * 3
    assert len(result.evaluations) == 3 and result.loss_history[-1] < result.loss_history[0]
    again = train_network(_quadratic_loss, params, X, y, step=per_parameter(sgd, learning_rate=0.1), num_epochs=3,
                          batch_size=4, seed=1)
    np.testing.assert_array_equal(again.params["a"], result.params["a"])
    assert not params["a"].any()
    every_second = train_network(_quadratic_loss, params, X, y, step=per_parameter(sgd, learning_rate=0.1),
                                 num_epochs=3, batch_size=4, seed=1, evaluate=lambda p: {"a": float(p["a"][0])},
                                 evaluate_every=2)
    assert every_second.evaluations == result.evaluations[1:2]  # after epoch 2 only, the same parameters


def test_augment_sees_every_batch_with_the_runs_generator_and_divergence_raises():
    calls = []

    def augment(X_batch, rng):
        calls.append(isinstance(rng, np.random.Generator))
        return X_batch + 1.0

    X, y = np.zeros((6, 1)), np.zeros(6, dtype=int)
    result = train_network(_quadratic_loss, {"a": np.zeros(1)}, X, y, step=per_parameter(sgd, learning_rate=1.0),
                           num_epochs=1, batch_size=6, augment=augment)
    assert calls == [True] and result.params["a"][0] == pytest.approx(1.0)
    with pytest.raises(TrainingDiverged):
        train_network(lambda p, X_, y_, rng: (np.nan, p), {"a": np.zeros(1)}, X, y,
                      step=per_parameter(sgd), num_epochs=1)
