"""Tests of cs231kit.vis on the Agg backend: labels, titles, one axes per class, pixel values."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cs231kit.gradcheck import check_gradient, relative_error_map  # noqa: E402
from cs231kit.training import TrainingResult, TuningResult  # noqa: E402
from cs231kit.vis import (  # noqa: E402
    class_templates,
    plot_gradient_errors,
    plot_loss_history,
    plot_tuning_results,
    show_class_templates,
    show_examples,
)

CLASS_NAMES = ["plane", "car", "bird"]


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_plot_loss_history_labels_axes_and_draws_each_history():
    ax = plot_loss_history([3.0, 2.0, 1.5], label="sgd")
    assert (ax.get_xlabel(), ax.get_ylabel(), ax.get_title()) == ("iteration", "loss", "Training loss")
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [3.0, 2.0, 1.5])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["sgd"]
    histories = {"lr=1e-7": [2.0, 1.0], "lr=1e-6": TrainingResult(np.zeros((2, 2)), [2.0, 0.5, 0.2])}
    same_ax = plot_loss_history(histories, ax=ax, title="Two learning rates")
    assert same_ax is ax and len(ax.lines) == 3 and ax.get_title() == "Two learning rates"


def test_class_templates_rescale_each_column_on_its_own():
    rng = np.random.default_rng(0)
    W = rng.standard_normal((2 * 2 * 3 + 1, 3))
    W[:, 1] *= 100  # scale must not matter
    W[:-1, 2] = 7.0  # a constant template
    W[-1] = 1e6  # the bias row must be ignored
    templates = class_templates(W, image_shape=(2, 2, 3))
    assert templates.shape == (3, 2, 2, 3) and templates.dtype == np.uint8
    for c in range(2):  # loop twin of the vectorised rescaling
        column = W[:-1, c]
        expected = np.round(255 * (column - column.min()) / (column.max() - column.min()))
        np.testing.assert_array_equal(templates[c].ravel(), expected)
        assert templates[c].min() == 0 and templates[c].max() == 255
    assert not templates[2].any()


def test_class_templates_name_the_sizes_on_a_mismatch():
    with pytest.raises(ValueError, match=r"12 rows after dropping the bias row.*\(32, 32, 3\) has 3072"):
        class_templates(np.zeros((13, 3)))


def test_show_class_templates_has_one_titled_axes_per_class():
    W = np.random.default_rng(1).standard_normal((4 * 4 * 3 + 1, 3))
    fig = show_class_templates(W, CLASS_NAMES, image_shape=(4, 4, 3))
    assert [ax.get_title() for ax in fig.axes] == CLASS_NAMES
    np.testing.assert_array_equal(fig.axes[1].images[0].get_array(), class_templates(W, image_shape=(4, 4, 3))[1])
    assert fig.get_suptitle()
    with pytest.raises(ValueError, match="C=3 columns but 2 class names"):
        show_class_templates(W, CLASS_NAMES[:2], image_shape=(4, 4, 3))


def test_show_class_templates_lays_ten_classes_out_in_two_rows():
    fig = show_class_templates(np.zeros((3073, 10)), [str(c) for c in range(10)])
    assert len(fig.axes) == 10


def tuning_result():
    results = {(1e-7, 0.0): (0.30, 0.28), (1e-7, 1e3): (0.35, 0.33), (1e-6, 0.0): (0.40, 0.39),
               (1e-6, 1e3): (float("nan"), float("nan"))}
    return TuningResult(results, (1e-6, 0.0), 0.39, np.zeros((3, 3)))


def test_plot_tuning_results_labels_axes_colourbar_and_marks_best_and_diverged():
    fig = plot_tuning_results(tuning_result())
    ax, bar = fig.axes
    assert "learning rate" in ax.get_xlabel() and "reg" in ax.get_ylabel() and ax.get_title()
    assert bar.get_ylabel() == "validation accuracy"
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert "diverged" in legend and any(text.startswith("best: lr=1e-06, reg=0") for text in legend)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "symlog"  # reg = 0 needs a linear region


def examples(n_per_class=4):
    labels = np.repeat(np.arange(3), n_per_class)
    images = (np.arange(labels.size)[:, None, None, None] * np.ones((1, 2, 2, 3))).astype(np.uint8)
    return images, labels


def shown_ids(fig):
    """The image shown on each axes (the images encode their index), None for blank axes."""
    return [int(ax.images[0].get_array()[0, 0, 0]) if ax.images else None for ax in fig.axes]


def test_show_examples_draws_one_titled_column_per_class_from_that_class():
    images, labels = examples()
    fig = show_examples(images, labels, CLASS_NAMES, per_class=3, seed=1)
    assert len(fig.axes) == 9
    assert [ax.get_title() for ax in fig.axes[:3]] == CLASS_NAMES
    ids = np.array(shown_ids(fig)).reshape(3, 3)
    for c in range(3):
        assert set(labels[ids[:, c]]) == {c} and len(set(ids[:, c])) == 3
    assert shown_ids(show_examples(images, labels, CLASS_NAMES, per_class=3, seed=1)) == shown_ids(fig)


def test_show_examples_leaves_blanks_and_wants_uint8():
    images, labels = examples(n_per_class=2)
    assert shown_ids(show_examples(images, labels, CLASS_NAMES, per_class=3)).count(None) == 3
    with pytest.raises(TypeError, match="uint8.*float64"):
        show_examples(images.astype(np.float64), labels, CLASS_NAMES)


def test_plot_gradient_errors_from_a_report_and_from_a_map():
    W = np.random.default_rng(2).standard_normal((6, 3))
    report = check_gradient(lambda W_: np.sum(W_**2), W, 2 * W, max_checks=10)
    ax = plot_gradient_errors(report)
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("class (column of W)", "input dimension (row of W)")
    assert ax.get_title() == "relative error of dW"
    shown = ax.images[0].get_array()
    assert shown.shape == (6, 3) and np.ma.count_masked(shown) == 18 - 10  # unchecked entries stay blank
    assert ax.figure.axes[1].get_ylabel() == "log10 relative error"
    ax = plot_gradient_errors(relative_error_map(W, -W))
    np.testing.assert_allclose(ax.images[0].get_array(), 0.0)  # opposite signs: relative error 1
    with pytest.raises(ValueError, match=r"2-D.*\(4,\)"):
        plot_gradient_errors(np.zeros(4))
