"""Tests of cs231kit.vis.plot_trajectories on the Agg backend: contours, paths, markers, labels."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cs231kit.landscapes import all_landscapes, run_update_rule, saddle  # noqa: E402
from cs231kit.training import sgd  # noqa: E402
from cs231kit.vis import plot_trajectories  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.mark.parametrize("name", sorted(all_landscapes()))
def test_contours_alone_are_labelled_and_fill_the_window(name):
    landscape = all_landscapes()[name]
    ax = plot_trajectories(landscape, resolution=40)
    assert ax.get_title() == landscape.name
    assert ax.get_xlabel().startswith("x") and ax.get_ylabel().startswith("y")
    assert (ax.get_xlim(), ax.get_ylim()) == tuple(tuple(map(float, b)) for b in landscape.bounds)
    assert ax.collections, "no contour lines were drawn"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["minima"]


def test_every_path_is_drawn_with_its_start_and_end_marked():
    landscape = saddle()
    paths = {"slow": run_update_rule(sgd, landscape, num_steps=5, state={"learning_rate": 0.01}),
             "fast": run_update_rule(sgd, landscape, num_steps=8, state={"learning_rate": 0.2})}
    fig, ax = plt.subplots()
    assert plot_trajectories(landscape, paths, ax=ax, title="two rates", num_levels=10, resolution=30) is ax
    assert ax.get_title() == "two rates"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["minima", "slow", "fast"]
    lines = {line.get_label(): line for line in ax.get_lines()}
    np.testing.assert_array_equal(lines["fast"].get_xydata(), paths["fast"])
    starts = [line for line in ax.get_lines() if line.get_marker() == "o"]
    ends = [line for line in ax.get_lines() if line.get_marker() == "x"]
    np.testing.assert_array_equal([line.get_xydata()[0] for line in starts], [p[0] for p in paths.values()])
    np.testing.assert_array_equal([line.get_xydata()[0] for line in ends], [p[-1] for p in paths.values()])
    assert starts[1].get_color() == ends[1].get_color() == lines["fast"].get_color()
