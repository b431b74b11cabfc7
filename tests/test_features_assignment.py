"""The `features` assignment: trusted references, hidden checks, the solution notebook, the simulated class.

No kernel runs here (the whole-notebook execution, the release sync and the graded demo live in
``tests/test_course.py``). What is tested:

* the references of ``autograder/checks/features.py`` against scikit-image's HOG (1e-6, random and
  real images of several sizes), matplotlib's HSV conversion, scikit-learn's k-means and scaler,
  hand-made images and laws (hypothesis);
* the hidden cases avoid the only inputs where two correct implementations may disagree (pixels
  exactly on a bin edge), and the empty-cluster case really has an empty cluster;
* every hidden check accepts the notebook's solution and rejects typical bugs with an actionable message;
* the simulated students: every patch applies, and the hidden function tests each must fail are
  exactly those that fail when their patched functions are checked directly.
"""

import re
import statistics
from pathlib import Path

import numpy as np
import pytest
import skimage.data
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib.colors import rgb_to_hsv
from numpy.lib.stride_tricks import sliding_window_view
from skimage.feature import hog

from cs231kit.course import load_course_module
from cs231kit.data import append_bias
from notebook_cells import (assert_nbgrader_conventions, assert_simulated_class_is_well_formed, failing_hidden_checks,
                            nbgrader, patched_sources, read_notebook, run_cells, solution_sources)

pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # broken twins divide by zero on purpose

REPO = Path(__file__).resolve().parents[1]
SOURCE = REPO / "solutions" / "features" / "features.ipynb"
checks = load_course_module("autograder/checks/features.py", root=REPO)
simulated = load_course_module("autograder/simulated/features.py", root=REPO)

SKIMAGE_ATOL = checks.shared.HOG_ATOL
HOG_ARGS = dict(orientations=9, pixels_per_cell=(8, 8), cells_per_block=(2, 2), block_norm="L2-Hys")
REAL_IMAGES = {  # scikit-image's photographs: grey and RGB, square and not, with leftover pixels
    "camera (grey 512x512)": skimage.data.camera()[None],
    "chelsea (RGB 300x451)": skimage.data.chelsea()[None],
    "astronaut crop (RGB 123x217)": skimage.data.astronaut()[100:223, 50:267][None],
}
# Hidden function tests of the notebook: grade_id -> (function name, check name).
HIDDEN_FUNCTION_TESTS = {
    "test_color_histogram_hidden": ("color_histogram_hsv", "check_color_histogram_hsv"),
    "test_rgb_to_gray_hidden": ("rgb_to_gray", "check_rgb_to_gray"),
    "test_image_gradients_hidden": ("image_gradients", "check_image_gradients"),
    "test_orientation_hidden": ("gradient_magnitude_orientation", "check_gradient_magnitude_orientation"),
    "test_cell_histograms_hidden": ("cell_histograms", "check_cell_histograms"),
    "test_block_normalize_hidden": ("block_normalize", "check_block_normalize"),
    "test_hog_features_hidden": ("hog_features", "check_hog_features"),
    "test_hog_no_per_image_loop": ("hog_features", "check_hog_no_per_image_loop"),
    "test_patches_hidden": ("extract_random_patches", "check_extract_random_patches"),
    "test_kmeans_hidden": ("kmeans", "check_kmeans"),
    "test_bow_features_hidden": ("bow_features", "check_bow_features"),
    "test_build_feature_matrices_hidden": ("build_feature_matrices", "check_build_feature_matrices"),
}


def skimage_hog(images):
    """scikit-image's HOG of every image of a batch, on the reference grey levels."""
    return np.stack([hog(gray, **HOG_ARGS) for gray in checks.gray_reference(images)])


def _setup_namespace():
    """What the notebook's setup cell gives the solution cells."""
    return {"np": np, "rgb_to_hsv": rgb_to_hsv, "sliding_window_view": sliding_window_view,
            "append_bias": append_bias, "LUMA_WEIGHTS": (0.299, 0.587, 0.114)}


@pytest.fixture(scope="module")
def solution():
    return run_cells(solution_sources(read_notebook(SOURCE)), "solution", _setup_namespace())


# ------------------------------------------------------------------------------ references


@pytest.mark.parametrize("what, images", checks.hidden_images() + list(REAL_IMAGES.items()), ids=lambda v: str(v)[:30])
def test_hog_reference_matches_scikit_image(what, images):
    assert np.abs(checks.hog_reference(images) - skimage_hog(images)).max() < SKIMAGE_ATOL


@pytest.mark.parametrize("what, images", list(REAL_IMAGES.items()), ids=list(REAL_IMAGES))
def test_solution_hog_matches_scikit_image_on_real_images(solution, what, images):
    assert np.abs(solution["hog_features"](images) - skimage_hog(images)).max() < SKIMAGE_ATOL


def test_solution_hog_matches_scikit_image_on_a_random_batch(solution):
    images = np.random.default_rng(3).integers(0, 256, size=(64, 40, 56, 3), dtype=np.uint8)
    assert np.abs(solution["hog_features"](images) - skimage_hog(images)).max() < SKIMAGE_ATOL


def test_hog_of_the_single_edge_images_is_in_the_expected_bins():
    # Diagonal: gradients at -45 deg -> bin 6; vertical edge bright on the left: 180 deg -> bin 0;
    # horizontal edge bright below: 90 deg -> bin 4 (also on the border columns, where g_col is 0).
    cells = checks.cell_histograms_reference(*checks.magnitude_orientation_reference(
        *checks.gradients_reference(checks.gray_reference(checks.shared.edge_images()))))
    per_bin = cells.sum(axis=(1, 2))
    assert per_bin[0].argmax() == 6 and per_bin[1].argmax() == 0 and per_bin[2].argmax() == 4
    assert np.count_nonzero(per_bin[1]) == 1 and np.count_nonzero(per_bin[2]) == 1


def test_hue_reference_equals_matplotlib_and_the_histogram_agrees_up_to_edge_pixels():
    for what, images in checks.hidden_images():
        if images.ndim == 4:
            hue = rgb_to_hsv(np.asarray(images, np.float64) / 255)[..., 0]
            np.testing.assert_allclose(checks.hue_reference(images), hue, atol=1e-12)
            by_matplotlib = np.stack([np.histogram(h, bins=10, range=(0, 1))[0] / h.size for h in hue])
            error = np.abs(checks.color_histogram_reference(images) - by_matplotlib).sum(axis=1)
            assert np.all(error <= checks._hue_tolerance(images, 10)), what


def test_solid_colours_have_the_textbook_hues():
    colours = np.array([[[[255, 0, 0], [255, 255, 0], [0, 255, 0], [0, 255, 255], [0, 0, 255], [255, 0, 255],
                          [90, 90, 90]]]], dtype=np.uint8)
    np.testing.assert_allclose(checks.hue_reference(colours)[0, 0], [0, 1 / 6, 1 / 3, 1 / 2, 2 / 3, 5 / 6, 0])


@settings(deadline=None, max_examples=15)
@given(st.integers(1, 3), st.integers(16, 33), st.integers(16, 33), st.integers(0, 2**32 - 1), st.integers(1, 60))
def test_hog_reference_is_unchanged_by_a_constant_and_histograms_sum_to_one(N, H, W, seed, constant):
    images = np.random.default_rng(seed).integers(0, 190, size=(N, H, W, 3)).astype(np.float64)
    np.testing.assert_allclose(checks.hog_reference(images + constant), checks.hog_reference(images), atol=1e-9)
    np.testing.assert_allclose(checks.color_histogram_reference(images, 7).sum(axis=1), 1.0)
    assert np.all(checks.block_normalize_reference(images[:, :2, :2, :]) <= 1.0)


@pytest.mark.slow  # importing and warming up scikit-learn's k-means takes about 4 s
def test_kmeans_reference_agrees_with_scikit_learn_lloyd():
    from sklearn.cluster import KMeans

    for case in checks.shared.KMEANS_CASES:
        X, k, iters, seed = checks.shared.kmeans_case(*case)
        init = X[np.random.default_rng(seed).choice(len(X), size=k, replace=False)]
        centroids, inertia = checks.kmeans_reference(X, k, iters, np.random.default_rng(seed))
        assert np.all(np.diff(inertia) <= 1e-9 * inertia[:-1])
        fitted = KMeans(k, init=init, n_init=1, max_iter=iters, tol=0, algorithm="lloyd").fit(X)
        np.testing.assert_allclose(centroids, fitted.cluster_centers_, atol=1e-8)


def test_the_empty_cluster_case_has_an_empty_cluster():
    X, k, iters, seed = checks.shared.empty_cluster_case()
    start = X[np.random.default_rng(seed).choice(len(X), size=k, replace=False)]
    nearest, _ = checks._nearest(X, start)
    assert len(np.unique(start, axis=0)) < k and len(np.unique(nearest)) < k
    centroids, _ = checks.kmeans_reference(X, k, iters, np.random.default_rng(seed))
    assert np.all(np.isfinite(centroids))


def _kmeans_with_empty_rule(X, k, iters, rng, empty_rule):
    """Lloyd's algorithm as the reference runs it, but an empty cluster's centroid set by ``empty_rule``."""
    centroids = X[rng.choice(len(X), size=k, replace=False)].copy()
    for _ in range(iters):
        nearest, _ = checks._nearest(X, centroids)
        for j in range(k):
            members = X[nearest == j]
            centroids[j] = members.mean(axis=0) if len(members) else empty_rule(centroids[j], X, rng)
    return centroids


def test_the_empty_cluster_case_separates_keeping_a_centroid_from_resetting_it_to_zero():
    X, k, iters, seed = checks.shared.empty_cluster_case()
    expected, _ = checks.kmeans_reference(X, k, iters, np.random.default_rng(seed))
    kept = _kmeans_with_empty_rule(X, k, iters, np.random.default_rng(seed), lambda c, X, rng: c)
    reset = _kmeans_with_empty_rule(X, k, iters, np.random.default_rng(seed), lambda c, X, rng: np.zeros_like(c))
    assert np.allclose(kept, expected) and not np.allclose(reset, expected, atol=1e-6)


def test_feature_matrices_reference_agrees_with_column_by_column_statistics():
    train, val, test = checks.features_case()
    columns = np.hstack(train).T
    means = [statistics.fmean(column) for column in columns]
    stds = [statistics.pstdev(column) or 1.0 for column in columns]  # the constant column keeps a scale of 1
    assert stds[3] == 1.0
    for blocks, X in zip((train, val, test), checks.feature_matrices_reference(train, val, test)):
        expected = (np.hstack(blocks) - np.array(means)) / np.array(stds)
        np.testing.assert_allclose(X[:, :-1], expected, rtol=1e-5, atol=1e-5)
        assert X.dtype == np.float32 and np.all(X[:, -1] == 1)


def test_bow_reference_on_a_hand_made_image():
    stripes = np.tile(np.where(np.arange(16) % 4 < 2, 200.0, 0.0), (16, 1))[None]
    pattern = stripes[0, :4, :4].ravel() - stripes[0, :4, :4].mean()
    codebook = np.vstack([np.zeros(16), pattern, -pattern])
    # stride 2: patches at columns 0, 4, 8, 12 match the stripes, those at 2, 6, 10 their negative
    np.testing.assert_allclose(checks.bow_reference(stripes, codebook, 4, 2), [[0, 4 / 7, 3 / 7]])


def _assert_no_orientation_on_a_bin_edge(images, what):
    """Two correct implementations can only disagree on a pixel whose angle is within rounding of a bin
    edge: a gradient that is tiny instead of 0 (two colours of equal luma) or an angle on a multiple of 20."""
    g_row, g_col = checks.gradients_reference(checks.gray_reference(images))
    for g in (g_row, g_col):
        assert not np.any((g != 0) & (np.abs(g) < 1e-6)), what
    magnitude, angle = checks.magnitude_orientation_reference(g_row, g_col)
    distance = np.abs(angle / 20 - np.round(angle / 20))
    assert not np.any((magnitude > 0) & (angle != 0) & (distance < 1e-9)), what


def test_hidden_cases_have_no_pixel_on_a_bin_edge():
    for what, images in checks.hidden_images() + [("invariance case", checks.image_case(2, 32, 32, True, "float64", 62))]:
        _assert_no_orientation_on_a_bin_edge(images, what)


def test_probe_cases_have_no_pixel_on_a_bin_edge():
    """The out-of-process probes compare with the solution's outputs, not within the hidden checks'
    edge tolerance: their images may have no pixel on an orientation or a hue bin edge at all."""
    probes = load_course_module("autograder/verify/features.py", root=REPO)
    for k, images in enumerate(probes.image_cases() + [probes.brightness_case()]):
        _assert_no_orientation_on_a_bin_edge(images, f"probe case {k}")
        for nbins in probes.HUE_BINS:
            assert np.all(checks._hue_tolerance(images, nbins) <= 1e-9), f"probe case {k}, nbins={nbins}"


# ------------------------------------------------------------------ the solution and the checks


@pytest.mark.parametrize("grade_id", sorted(HIDDEN_FUNCTION_TESTS))
def test_solution_passes_every_hidden_function_check(solution, grade_id):
    function, check = HIDDEN_FUNCTION_TESTS[grade_id]
    getattr(checks, check)(solution[function])


def test_solution_stages_equal_the_references(solution):
    for what, images in checks.hidden_images():
        gray = checks.gray_reference(images)
        np.testing.assert_allclose(solution["rgb_to_gray"](images), gray, rtol=1e-12)
        np.testing.assert_allclose(solution["color_histogram_hsv"](images, 10),
                                   checks.color_histogram_reference(images, 10), atol=checks._hue_tolerance(images, 10).max())
        np.testing.assert_allclose(solution["hog_features"](images), checks.hog_reference(images), atol=1e-9)


def _broken(solution, name, replacement):
    """A copy of the solution namespace whose function ``name`` is replaced (the others call it by name)."""
    namespace = dict(solution)
    namespace[name] = replacement
    for key, value in namespace.items():
        if callable(value) and getattr(value, "__globals__", None) is solution:
            namespace[key] = type(value)(value.__code__, namespace, value.__name__, value.__defaults__)
    namespace[name] = replacement
    return namespace


def _dropping_negative_angles(g_row, g_col):
    angle = np.degrees(np.arctan2(g_row, g_col))
    return np.hypot(g_row, g_col) * (angle >= 0), np.maximum(angle, 0) % 180


def _folding_leaves_180(g_row, g_col):
    angle = np.degrees(np.arctan2(g_row, g_col))
    return np.hypot(g_row, g_col), np.where(angle < 0, angle + 180, angle)


def _plain_l2(cell_hist):
    N, R, C, B = cell_hist.shape
    blocks = np.stack([cell_hist[:, :-1, :-1], cell_hist[:, :-1, 1:], cell_hist[:, 1:, :-1], cell_hist[:, 1:, 1:]], 3)
    blocks = blocks.reshape(N, R - 1, C - 1, -1)
    return (blocks / np.sqrt(np.sum(blocks ** 2, axis=-1, keepdims=True) + 1e-10)).reshape(N, -1)


def _per_split_statistics(train_blocks, val_blocks, test_blocks):
    return tuple(checks.feature_matrices_reference(blocks, blocks, blocks)[0] for blocks in (train_blocks, val_blocks, test_blocks))


@pytest.mark.parametrize("stage, replacement, check, message", [
    ("gradient_magnitude_orientation", _dropping_negative_angles, "check_gradient_magnitude_orientation", "magnitude is wrong"),
    ("gradient_magnitude_orientation", _folding_leaves_180, "check_gradient_magnitude_orientation", "must lie in [0, 180)"),
    ("gradient_magnitude_orientation", _dropping_negative_angles, "check_hog_features", "fold of the orientations"),
    ("block_normalize", _plain_l2, "check_block_normalize", "clip at 0.2"),
    ("image_gradients", lambda gray: tuple(np.gradient(gray, axis=(1, 2))), "check_image_gradients", "np.gradient"),
    ("rgb_to_gray", lambda images: np.asarray(images).mean(axis=-1), "check_rgb_to_gray", "luma weights"),
    ("build_feature_matrices", _per_split_statistics, "check_build_feature_matrices", "*training* features"),
])
def test_checks_reject_typical_bugs_with_an_actionable_message(solution, stage, replacement, check, message):
    namespace = _broken(solution, stage, replacement)
    target = "hog_features" if check == "check_hog_features" else stage
    with pytest.raises(AssertionError, match=re.escape(message)):
        getattr(checks, check)(namespace[target])


def test_loop_check_rejects_per_image_loops_and_scikit_image_in_a_loop(solution):
    def looped(images):
        return np.concatenate([solution["hog_features"](images[i:i + 1]) for i in range(len(images))])

    def scikit_image_loop(images):
        return skimage_hog(images)

    for fn in (looped, scikit_image_loop):
        with pytest.raises(AssertionError, match="loops over the images"):
            checks.check_hog_no_per_image_loop(fn)
    with pytest.raises(AssertionError, match="loops over the images"):
        checks.check_color_histogram_hsv(lambda images, nbins=10: np.stack(
            [checks.color_histogram_reference(image[None], nbins)[0] for image in images]))


def test_kmeans_check_rejects_nan_for_empty_clusters_and_a_rising_inertia(solution):
    def nan_for_empty(X, k, iters, rng):
        centroids, inertia = X[rng.choice(len(X), size=k, replace=False)], np.empty(iters)
        for t in range(iters):
            nearest, distances = checks._nearest(X, centroids)
            inertia[t] = distances.sum()
            centroids = np.stack([X[nearest == j].mean(axis=0) for j in range(k)])
        return centroids, inertia

    def rising(X, k, iters, rng):
        centroids, inertia = solution["kmeans"](X, k, iters, rng)
        return centroids, inertia[::-1]

    with pytest.raises(AssertionError, match="non-finite"):
        checks.check_kmeans(nan_for_empty)
    with pytest.raises(AssertionError, match="the inertia rises"):
        checks.check_kmeans(rising)


def test_hue_check_names_the_image_and_the_hue_channel(solution):
    def value_channel(images, nbins=10):
        rgb = np.asarray(images, np.float64)
        rgb = rgb if rgb.ndim == 4 else np.repeat(rgb[..., None], 3, axis=-1)
        hue = rgb_to_hsv(rgb / 255)[..., 2]
        return np.stack([np.histogram(h, bins=nbins, range=(0, 1))[0] / h.size for h in hue])

    with pytest.raises(AssertionError, match=r"the hue histogram of image \d is wrong.*channel 0"):
        checks.check_color_histogram_hsv(value_channel)


# ----------------------------------------------------------------------------- simulated class


def test_simulated_class_is_well_formed():
    assert_simulated_class_is_well_formed(read_notebook(SOURCE), simulated, "features")
    assert len(simulated.STUDENTS) <= 6


def test_blank_release_fails_every_hidden_function_test():
    release = read_notebook(REPO / "notebooks" / "features" / "features.ipynb")
    namespace = run_cells(solution_sources(release), "release", _setup_namespace())
    for function, check in HIDDEN_FUNCTION_TESTS.values():
        with pytest.raises(AssertionError, match="NotImplementedError"):
            getattr(checks, check)(namespace[function])


@pytest.mark.parametrize("student", [s for s in simulated.STUDENTS if not s.get("release")], ids=lambda s: s["name"])
def test_simulated_students_fail_exactly_their_hidden_function_tests(student):
    namespace = run_cells(patched_sources(read_notebook(SOURCE), student), student["name"], _setup_namespace())
    failed = failing_hidden_checks(checks, HIDDEN_FUNCTION_TESTS, namespace)
    assert failed == set(student["failing"]) & set(HIDDEN_FUNCTION_TESTS)


def test_notebook_metadata_follows_the_conventions():
    notebook = read_notebook(SOURCE)
    assert_nbgrader_conventions(notebook)
    svm_loss = next(c for c in notebook["cells"] if c["id"] == "svm_loss")
    assert nbgrader(svm_loss)["locked"] and not nbgrader(svm_loss)["solution"]
