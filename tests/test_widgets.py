"""Tests of cs231kit.widgets: the playgrounds driven programmatically, as a student's clicks would.

Every test sets a control's value (or clicks a button) and checks the recomputed state against an
independent computation: the loss of the current W, a gradient step, the argmax decision regions,
the optimizer's path from ``run_update_rule``.
"""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cs231kit import widgets  # noqa: E402
from cs231kit.landscapes import all_landscapes, run_update_rule  # noqa: E402
from cs231kit.training import sgd  # noqa: E402
from loss_fixtures import hinge_loss, softmax_loss  # noqa: E402

LOSSES = {"softmax": softmax_loss, "SVM": hinge_loss}


def momentum(w, dw, state=None):
    """SGD with momentum, pure, for the optimizer playground."""
    state = {"learning_rate": 1e-2, "momentum": 0.9, **(state or {})}
    velocity = state["momentum"] * state.get("velocity", np.zeros_like(w)) - state["learning_rate"] * dw
    return w + velocity, {**state, "velocity": velocity}


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _softmax_loss_by_hand(W, X, y, reg):
    """The softmax loss from its definition, one example at a time."""
    losses = []
    for x, label in zip(np.hstack([X, np.ones((len(X), 1))]), y):
        scores = x @ W
        losses.append(-scores[label] + np.log(np.sum(np.exp(scores))))
    return np.mean(losses) + reg * np.sum(W * W)


def test_three_class_points_are_three_labelled_clusters():
    X, y = widgets.three_class_points(num_per_class=15, seed=3)
    assert X.shape == (45, 2) and np.array_equal(np.bincount(y), [15, 15, 15])
    centres = np.array([X[y == k].mean(axis=0) for k in range(3)])
    assert np.all(np.abs(np.linalg.norm(centres, axis=1) - 2.0) < 0.6)


def test_static_playground_has_a_figure_and_no_controls():
    playground = widgets.linear_classifier_playground(LOSSES, interactive=False)
    assert playground.controls == {}
    regions_ax, loss_ax = playground.figure.axes[:2]
    assert regions_ax.get_title().startswith(f"softmax loss {playground.loss():.4f}")


def test_weight_slider_changes_w_loss_and_title():
    playground = widgets.linear_classifier_playground(LOSSES, interactive=True)
    playground.controls["W[2,1]"].value = 1.5          # the bias of class 1
    playground.controls["reg"].value = 0.01
    assert playground.W[2, 1] == 1.5 and playground.reg == pytest.approx(0.01)
    expected = _softmax_loss_by_hand(playground.W, playground.X, playground.y, playground.reg)
    assert playground.loss() == pytest.approx(expected, rel=1e-12)
    assert playground.figure.axes[0].get_title().startswith(f"softmax loss {expected:.4f}")


def test_decision_regions_are_the_argmax_of_the_scores():
    playground = widgets.linear_classifier_playground(LOSSES, interactive=True)
    playground.controls["W[0,0]"].value = 2.0
    xs, ys, classes = playground.regions(resolution=30)
    W = playground.W
    scores = xs[..., None] * W[0] + ys[..., None] * W[1] + W[2]
    assert np.array_equal(classes, np.argmax(scores, axis=-1))
    assert playground.accuracy() == np.mean(np.argmax(np.hstack([playground.X, np.ones((60, 1))]) @ W, 1)
                                            == playground.y)


def test_step_button_takes_a_gradient_step_of_the_selected_loss_and_moves_the_sliders():
    playground = widgets.linear_classifier_playground(LOSSES, interactive=True)
    playground.controls["loss"].value = "SVM"
    playground.controls["learning_rate"].value = 0.05
    W_before, X_bias = playground.W.copy(), playground.X_bias
    loss_before, dW = hinge_loss(W_before, X_bias, playground.y, playground.reg)
    playground.controls["step"].click()
    np.testing.assert_allclose(playground.W, W_before - 0.05 * dW, rtol=0, atol=1e-12)
    assert playground.history == [pytest.approx(loss_before)]
    assert playground.controls["W[1,2]"].value == pytest.approx(np.clip(playground.W[1, 2], -3, 3))
    playground.controls["10 steps"].click()
    assert len(playground.history) == 11 and playground.loss() < loss_before
    assert playground.figure.axes[0].get_title().startswith(f"SVM loss {playground.loss():.4f}")


def test_optimizer_playground_follows_its_controls():
    playground = widgets.optimizer_playground({"sgd": sgd, "momentum": momentum}, interactive=True)
    playground.controls["landscape"].value = "saddle"
    playground.controls["rule"].value = "momentum"
    playground.controls["learning_rate"].value = 0.02
    playground.controls["momentum"].value = 0.5
    playground.controls["num_steps"].value = 30
    landscape = all_landscapes()["saddle"]
    expected = run_update_rule(momentum, landscape, num_steps=30, state={"learning_rate": 0.02, "momentum": 0.5})
    np.testing.assert_allclose(playground.path(), expected)
    ax = playground.figure.axes[0]
    assert ax.get_title().startswith("saddle point: 30 steps")
    assert "momentum 0.5" in ax.get_legend().get_texts()[-1].get_text()


def test_rules_without_momentum_get_no_momentum_in_their_state():
    playground = widgets.optimizer_playground({"sgd": sgd, "momentum": momentum}, interactive=True)
    playground.controls["learning_rate"].value = 0.05
    assert playground.state() == {"learning_rate": pytest.approx(0.05)}
    expected = run_update_rule(sgd, all_landscapes()["quadratic"], num_steps=50, state={"learning_rate": 0.05})
    np.testing.assert_allclose(playground.path(), expected, rtol=1e-12)


class _RecordingDisplay:
    """Stands in for IPython.display in a kernel: records what is displayed."""

    def __init__(self):
        self.shown = []

    def display(self, obj, display_id=None, raw=False):
        self.shown.append(obj)


def test_in_a_kernel_without_ipywidgets_the_figure_is_shown_without_controls(monkeypatch):
    recorder = _RecordingDisplay()
    monkeypatch.setattr(widgets, "_kernel_display", lambda: recorder)
    monkeypatch.setitem(__import__("sys").modules, "ipywidgets", None)  # import ipywidgets now fails
    playground = widgets.optimizer_playground({"sgd": sgd})
    assert playground.controls == {} and recorder.shown == [playground.figure]
    with pytest.raises(ImportError):
        widgets.optimizer_playground({"sgd": sgd}, interactive=True)
