"""Tests of cs231kit.training: the minibatch loop, update rules, divergence, prediction and tuning."""

import pickle

import numpy as np
import pytest
from loss_fixtures import softmax_loss  # tests/ is on sys.path under pytest

from cs231kit.training import (
    TrainingDiverged,
    TrainingResult,
    TuningResult,
    accuracy,
    predict,
    sgd,
    train_linear_classifier,
    tune_hyperparameters,
)

CENTRES = np.array([[4.0, 0.0], [-4.0, 0.0], [0.0, 4.0]])
DIVERGING_LR = 1e12


def blobs(n_per_class=100, seed=0, dtype=np.float64):
    """Three well separated Gaussian blobs in 2-D with a bias column: X (3n, 3), y (3n,)."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(3), n_per_class)
    points = CENTRES[y] + rng.standard_normal((y.size, 2))
    return np.hstack([points, np.ones((y.size, 1))]).astype(dtype), y


def train(**kwargs):
    X, y = blobs()
    options = dict(learning_rate=0.5, reg=1e-4, num_iters=100, batch_size=50)
    return train_linear_classifier(softmax_loss, X, y, **{**options, **kwargs})


def test_softmax_on_separable_blobs_reaches_high_accuracy():
    result = train()
    X, y = blobs(seed=1)  # fresh points from the same blobs
    assert isinstance(result, TrainingResult) and not result.diverged
    assert result.W.shape == (3, 3)
    assert len(result.loss_history) == 100
    assert np.mean(result.loss_history[-10:]) < 0.5 * result.loss_history[0]
    assert accuracy(result.W, X, y) >= 0.95


def test_training_is_deterministic_for_equal_seeds():
    first, again, other = train(seed=3), train(seed=3), train(seed=4)
    np.testing.assert_array_equal(first.W, again.W)
    assert first.loss_history == again.loss_history
    assert first.loss_history != other.loss_history


def test_weights_keep_the_dtype_of_X_and_W0_is_left_alone():
    X, y = blobs(dtype=np.float32)
    W0 = np.zeros((3, 3))
    result = train_linear_classifier(softmax_loss, X, y, W0=W0, num_iters=5, learning_rate=0.1)
    assert result.W.dtype == np.float32
    assert not W0.any()
    assert result.loss_history[0] == pytest.approx(np.log(3), rel=1e-6)  # W = 0: uniform probabilities
    wider = train_linear_classifier(softmax_loss, X, y, W0=np.zeros((3, 4)), num_iters=2)  # a class y lacks
    assert wider.W.shape == (3, 4)
    with pytest.raises(ValueError, match=r"W0 has shape \(2, 3\).*expected \(3, 3\)"):
        train_linear_classifier(softmax_loss, X, y, W0=np.zeros((2, 3)))


def test_sgd_is_pure_and_follows_the_rule():
    w, dw = np.arange(6.0).reshape(2, 3), np.ones((2, 3))
    state = {"learning_rate": 0.5}
    copies = (w.copy(), dw.copy(), dict(state))
    next_w, next_state = sgd(w, dw, state)
    np.testing.assert_array_equal(next_w, copies[0] - 0.5)
    np.testing.assert_array_equal(w, copies[0])
    np.testing.assert_array_equal(dw, copies[1])
    assert state == copies[2] and next_state is not state
    assert sgd(w, dw)[1] == {"learning_rate": 1e-3}
    assert sgd(w.astype(np.float32), dw)[0].dtype == np.float32


def test_custom_update_rule_is_used_and_its_state_threads_through():
    calls = []

    def counting_sgd(w, dw, state):
        calls.append(dict(state))
        next_w, next_state = sgd(w, dw, state)
        return next_w, {**next_state, "steps": state.get("steps", 0) + 1}

    train(update_rule=counting_sgd, num_iters=4, learning_rate=0.25)
    assert calls == [{"learning_rate": 0.25}] + [{"learning_rate": 0.25, "steps": k} for k in (1, 2, 3)]


def test_huge_learning_rate_raises_training_diverged():
    with np.errstate(all="ignore"), pytest.raises(TrainingDiverged) as caught:
        train(learning_rate=DIVERGING_LR)
    error = caught.value
    assert isinstance(error, FloatingPointError)
    assert error.iteration >= 1 and len(error.loss_history) == error.iteration
    assert f"at iteration {error.iteration}" in str(error)
    assert "learning_rate=1e+12" in str(error) and "smaller learning rate" in str(error)
    clone = pickle.loads(pickle.dumps(error))
    assert (clone.iteration, clone.loss_history, str(clone)) == (error.iteration, error.loss_history, str(error))


def test_divergence_can_stop_and_return_the_last_finite_weights():
    with np.errstate(all="ignore"):
        result = train(learning_rate=DIVERGING_LR, on_divergence="stop")
    assert result.diverged
    assert 1 <= len(result.loss_history) < 100
    assert np.all(np.isfinite(result.loss_history)) and np.all(np.isfinite(result.W))
    with pytest.raises(ValueError, match="on_divergence"):
        train(on_divergence="ignore")


def test_loss_functions_breaking_the_contract_get_a_clear_error():
    def svm_loss_vectorized(W, X, y, reg):
        return None

    X, y = blobs()
    with pytest.raises(TypeError, match=r"svm_loss_vectorized returned None; it must return \(loss, dW\)"):
        train_linear_classifier(svm_loss_vectorized, X, y)
    with pytest.raises(TypeError, match="floating-point"):
        train_linear_classifier(softmax_loss, X.astype(np.uint8), y)


def test_progress_bar_runs(capsys):
    assert len(train(num_iters=3, progress=True).loss_history) == 3
    assert "training" in capsys.readouterr().err


def test_predict_and_accuracy_on_a_hand_computed_example():
    W = np.array([[1.0, 0.0], [0.0, 1.0]])
    X = np.array([[2.0, 1.0], [0.0, 3.0], [1.0, 1.5]])  # scores = X: argmax 0, 1, 1
    np.testing.assert_array_equal(predict(W, X), [0, 1, 1])
    assert predict(W, X).dtype.kind == "i"
    assert accuracy(W, X, np.array([0, 1, 0])) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match=r"\(2,\).*N=3"):
        accuracy(W, X, np.array([0, 1]))


def test_tuning_picks_the_best_run_and_records_nan_for_diverged_runs():
    X_train, y_train = blobs(seed=0)
    X_val, y_val = blobs(n_per_class=30, seed=1)
    learning_rates, regs = [1e-6, 0.5, DIVERGING_LR], [0.0, 1e-3]
    with np.errstate(all="ignore"):
        tuned = tune_hyperparameters(softmax_loss, X_train, y_train, X_val, y_val, learning_rates=learning_rates,
                                     regs=regs, num_iters=60, batch_size=50)
    assert isinstance(tuned, TuningResult)
    assert set(tuned.results) == {(lr, reg) for lr in learning_rates for reg in regs}
    assert all(np.isnan(tuned.results[DIVERGING_LR, reg]).all() for reg in regs)
    finite = {params: val for params, (_, val) in tuned.results.items() if not np.isnan(val)}
    assert tuned.best_val_accuracy == max(finite.values()) >= 0.95
    assert tuned.best_params[0] == 0.5
    assert accuracy(tuned.best_W, X_val, y_val) == tuned.best_val_accuracy
    assert len(tuned.loss_histories[0.5, 0.0]) == 60
