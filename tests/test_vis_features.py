"""Tests of the feature helpers of cs231kit.vis (HOG glyphs, hue histograms, codebook, confusion matrix)."""

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402  (after choosing the backend)
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from cs231kit.vis import (  # noqa: E402
    codebook_mosaic,
    confusion_matrix,
    hog_glyph_segments,
    plot_confusion_matrix,
    plot_hue_histograms,
    show_codebook,
    show_hog_glyphs,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _one_bin(bin_index, shape=(2, 3, 9)):
    hist = np.zeros(shape)
    hist[..., bin_index] = 1.0
    return hist


def test_glyphs_are_centred_on_cells_and_follow_the_edge():
    segments, weights = hog_glyph_segments(_one_bin(4), cell_size=8)  # bin 4: gradients near 90 deg
    assert segments.shape == (2 * 3 * 9, 2, 2) and weights.shape == (54,)
    centres = segments.mean(axis=1).reshape(2, 3, 9, 2)
    np.testing.assert_allclose(centres[1, 2, 0], [2 * 8 + 3.5, 8 + 3.5])  # (x = column, y = row)
    strong = segments[weights > 0]
    # A vertical gradient (90 deg) means a horizontal edge: the glyph is horizontal.
    np.testing.assert_allclose(strong[:, 0, 1], strong[:, 1, 1], atol=1e-12)
    np.testing.assert_allclose(np.abs(strong[:, 1, 0] - strong[:, 0, 0]), 7.0)


def test_glyph_of_a_near_zero_degree_gradient_is_near_vertical():
    segments, weights = hog_glyph_segments(_one_bin(0, (1, 1, 9)), cell_size=8)
    (x0, y0), (x1, y1) = segments[weights > 0][0]
    assert abs(y1 - y0) > 5 * abs(x1 - x0)


def test_show_hog_glyphs_draws_one_line_per_bin_and_labels_axes():
    image = np.random.default_rng(0).integers(0, 256, (16, 24, 3), dtype=np.uint8)
    ax = show_hog_glyphs(image, _one_bin(2))
    (lines,) = ax.collections
    assert len(lines.get_segments()) == 54
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title() == "HOG cell histograms"
    with pytest.raises(ValueError, match="2 x 3 cells"):
        show_hog_glyphs(image, np.zeros((3, 3, 9)))
    with pytest.raises(ValueError, match="one image"):
        hog_glyph_segments(np.zeros((4, 2, 3, 9)))


def test_hue_histograms_colour_each_bar_by_its_hue():
    hists = np.array([[0.5, 0.5, 0, 0, 0, 0], [0, 0, 0, 0, 0, 1.0]])
    fig = plot_hue_histograms(hists, titles=["a", "b"])
    assert [ax.get_title() for ax in fig.axes] == ["a", "b"]
    bars = fig.axes[0].patches
    assert len(bars) == 6 and [b.get_height() for b in bars] == [0.5, 0.5, 0, 0, 0, 0]
    np.testing.assert_allclose(bars[0].get_facecolor()[:3], [1.0, 0.5, 0.0])  # hue 1/12: orange-red
    assert fig.axes[1].get_xlabel() == "hue" and fig.axes[1].get_ylabel() == "fraction of pixels"
    with pytest.raises(ValueError, match="2 histograms but 1 titles"):
        plot_hue_histograms(hists, titles=["a"])


def test_codebook_mosaic_tiles_rescaled_patches_with_gaps():
    codebook = np.arange(5 * 16, dtype=np.float64).reshape(5, 16)
    mosaic = codebook_mosaic(codebook, (4, 4), ncols=3)
    assert mosaic.shape == (2 * 5 - 1, 3 * 5 - 1) and mosaic.dtype == np.uint8
    first = mosaic[:4, :4]
    assert first.min() == 0 and first.max() == 255 and first[0, 1] < first[1, 0]  # row by row
    np.testing.assert_array_equal(mosaic[4], 255)         # gap between the two rows of tiles
    np.testing.assert_array_equal(mosaic[5:, 10:], 255)   # the sixth tile is unused
    assert codebook_mosaic(np.ones((2, 12)), (2, 2, 3), ncols=2).shape == (2, 5, 3)
    with pytest.raises(ValueError, match=r"\(k, 36\)"):
        codebook_mosaic(codebook, (6, 6))


def test_show_codebook_draws_one_image_with_a_title():
    ax = show_codebook(np.eye(4), (2, 2), title="words")
    assert len(ax.images) == 1 and ax.get_title() == "words"


def test_confusion_matrix_counts_pairs_and_the_plot_normalises_rows():
    y_true, y_pred = np.array([0, 0, 1, 2, 2, 2]), np.array([0, 1, 1, 2, 2, 0])
    np.testing.assert_array_equal(confusion_matrix(y_true, y_pred, 3), [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    ax = plot_confusion_matrix(y_true, y_pred, ["a", "b", "c"])
    np.testing.assert_allclose(ax.images[0].get_array()[2], [1 / 3, 0, 2 / 3])
    assert (ax.get_xlabel(), ax.get_ylabel()) == ("predicted class", "true class")
    assert [t.get_text() for t in ax.texts][:3] == ["0.50", "0.50", "0.00"]
    with pytest.raises(ValueError, match="shape"):
        confusion_matrix(y_true, y_pred[:3], 3)
