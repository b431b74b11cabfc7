"""Out-of-process verification of the ``features`` assignment (see ``cs231kit.grading.verify``).

Each probe mirrors what its test cells check, on inputs of the same kind, and runs in the sandbox
for the student's code and for the reference alike. This file is visible to the sandbox (it holds
no reference implementation); ``autograder/checks/`` is not, but for the inputs it shares with the
checks, ``autograder/checks/cases/``.

- A visible test's probe calls the function on the test's own hand-made inputs. Where the test
  asserts a property rather than values (features in [0, 1], an edge's energy in bin 6, an inertia
  that never rises), the probe returns the property as a 0/1 flag or a count, computed with array
  operators and methods only (never ``np.allclose`` and kin, which student code may have replaced).
- A hidden test's probe calls the function on seeded inputs of the hidden cases' kinds (random RGB
  and grey batches, uint8 and float, square and not, single-edge images) and returns its outputs,
  and whether it modified its inputs (the hidden checks fail a function that does).
- The inputs of a HOG stage are the reference's outputs of the stage before, computed by the grader
  (``autograder/references/features.py``, which no sandboxed process reads) and sent as arrays, so
  that a bug in one stage fails only the tests of that stage and of ``hog_features``.
- Random RGB uint8 pixels are drawn so that no hue lies on a bin edge for 7 or 10 bins: there the
  hidden test accepts either bin, and two correct histograms would differ (see ``hue_safe_pixels``).
"""

from pathlib import Path

import numpy as np

from cs231kit.course import load_course_module
from cs231kit.grading.probing import line_counts
from cs231kit.grading.verify import InKernelOnly, Probe

shared = load_course_module("autograder/checks/cases/features.py", root=Path(__file__).resolve().parents[2])
"""The hidden inputs and tolerances, shared with the hidden checks of ``autograder/checks/features.py``."""

SEED = 0  # the notebook's SEED, which its visible tests pass to the functions that take a generator
EXACT = dict(rtol=1e-9, atol=1e-9)     # the hidden checks' tolerance for values computed with one formula
CLOSE = dict(rtol=1e-8, atol=1e-8)     # the notebook's check_close
ISCLOSE = dict(rtol=1e-5, atol=1e-8)   # np.isclose / np.allclose defaults, used by some visible asserts

HUE_BINS = (10, 7)
SOLID_COLOURS = ((255, 0, 0), (200, 200, 0), (0, 90, 0), (10, 10, 250), (128, 128, 128))  # red ... grey
PRIMARIES = ((255, 0, 0), (0, 255, 0), (0, 0, 255), (200, 200, 200))
HOG_TWINS = ("skimage.feature.hog",)  # the library HOG the students' stages are compared with, not theirs to call

# Test cells that no probe backs, and why.
IN_KERNEL_ONLY = {
    "test_features_val_accuracy": InKernelOnly(
        "the accuracy of the notebook's own training runs on the dataset (training is not repeated out of process)",
        ("build_feature_matrices on the worked example",)),  # the matrices it trains on: none in a blank notebook
}


# ------------------------------------------------------------------ inputs


def hue_safe_pixels(rng, shape):
    """Random uint8 RGB pixels of every hue, none of which lies on a bin edge for 7 or 10 bins.

    A pixel's channels are ``lo``, ``lo + m`` and ``lo + d`` in a random order, with ``0 < m < d``
    and ``d`` prime to 70. Its hue is ``(s + x / d) / 6`` for a sector ``s`` and ``0 < |x| < d``, so
    ``hue * nbins`` is never an integer when ``nbins`` divides 70 (7 and 10 do).
    """
    spreads = np.array([d for d in range(3, 256) if np.gcd(d, 70) == 1])
    d = rng.choice(spreads, size=shape)
    lo = rng.integers(0, 256 - d)
    pixels = np.stack([lo + d, lo + rng.integers(1, d), lo], axis=-1)
    return rng.permuted(pixels, axis=-1).astype(np.uint8)


def random_images(N, H, W, colour, dtype, seed):
    """Seeded images with values in [0, 255]: uint8 (hue-safe when RGB), or float64 with fractions."""
    rng = np.random.default_rng(seed)
    if dtype == "float64":
        return rng.uniform(0, 255, size=(N, H, W, 3) if colour else (N, H, W))
    return hue_safe_pixels(rng, (N, H, W)) if colour else rng.integers(0, 256, size=(N, H, W), dtype=np.uint8)


def solid_images(colours, size=(4, 6)):
    """(len(colours), *size, 3) uint8 images, each filled with one colour."""
    return np.array([np.full((*size, 3), colour, dtype=np.uint8) for colour in colours])


def image_cases():
    """The batches of the hidden-test probes: the random cases, then the single-edge images."""
    return [random_images(*case) for case in shared.PROBE_IMAGE_CASES] + [shared.edge_images()]


STAGE_ARITY = {"gray": 1, "gradients": 2, "polar": 2, "cells": 1}
"""The HOG stages whose inputs the grader computes (``autograder/references/features.py``), and how
many arrays each takes."""


def stage_key(case, stage, index):
    """The key of one input array of a HOG stage, for the image batch ``image_cases()[case]``."""
    return f"stage/case{case}/{stage}/{index}"


def brightness_case():
    """Two float RGB images that stay in [0, 255] when 40 is added."""
    return random_images(2, 32, 32, True, "float64", 110) * 0.8


def kmeans_cases():
    """The hidden kmeans cases ``(X, k, iters, seed)``: the blobs of every case, then the empty cluster."""
    return [shared.kmeans_case(*case) for case in shared.PROBE_KMEANS_CASES] + [shared.empty_cluster_case()]


def with_generator(case):
    """A kmeans case ``(X, k, iters, seed)`` with the generator of that seed in place of the seed."""
    X, k, iters, seed = case
    return X, k, iters, np.random.default_rng(seed)


def bow_case(N, H, W, patch_size, stride, k, seed):
    """``(images, codebook, patch_size, stride)``: RGB uint8 images and k codewords of scale 40."""
    codebook = 40 * np.random.default_rng(seed).standard_normal((k, patch_size ** 2))
    return random_images(N, H, W, True, "uint8", seed), codebook, patch_size, stride


def feature_blocks(seed=151):
    """Train, val and test lists of two feature blocks: a constant column, scales of 2 and 1000, and
    val/test features shifted away from the training ones."""
    rng = np.random.default_rng(seed)
    splits = []
    for n, shift in ((40, 0.0), (15, 3.0), (9, 3.0)):
        splits.append([rng.normal(5 + shift, 2, size=(n, 3)),
                       np.column_stack([np.full(n, 7.0), rng.normal(shift, 1e3, size=(n, 2))])])
    return tuple(splits)


# ------------------------------------------------------------------ calling the student's code


def call(fn, *args):
    """``(fn(*copies), modified)``: the result on copies of the array arguments, and 1 if it changed one."""
    copies = [np.copy(a) if isinstance(a, np.ndarray) else a for a in args]
    result = fn(*copies)
    changed = [a.shape != c.shape or (a != c).any() for a, c in zip(args, copies) if isinstance(a, np.ndarray)]
    return result, int(any(changed))


def parts(result, count):
    """The items of a tuple of ``count`` results; raises (fails the probe) as the hidden checks do otherwise."""
    if not (isinstance(result, tuple) and len(result) == count):
        raise TypeError(f"expected a tuple of {count} results, got {type(result).__name__}")
    return result


def is_float_array(value, shape=None, dtype=None):
    """1 if ``value`` passes the notebook's ``check_array`` (a finite float ndarray of ``shape``) and has
    ``dtype`` (when given), else 0."""
    ok = isinstance(value, np.ndarray) and value.dtype.kind == "f" and (shape is None or value.shape == shape)
    return int(ok and (dtype is None or value.dtype == dtype) and bool((value - value == 0).all()))  # inf, nan: not 0


def as_floats(value):
    """The student's result as a float64 array (what the hidden checks compare)."""
    return np.asarray(value, dtype=np.float64)


def count_outside(orientation):
    """How many orientations are not in [0, 180) (NaN included)."""
    orientation = as_floats(orientation)
    return int((~((orientation >= 0) & (orientation < 180))).sum())


def folded_orientation(outputs, g_row, g_col):
    """Magnitude, and the orientation in a form that is the same for angles 180 degrees apart.

    The hidden test compares orientations modulo 180 where the gradient is not zero (anything goes
    where it is), and requires every one to lie in [0, 180). So the probe returns the point at twice
    the angle on a circle of radius 90 / pi (each coordinate moves by at most the angle's change in
    degrees), zeroed where the gradient is zero, and the count of orientations outside [0, 180).
    """
    magnitude, orientation = (as_floats(a) for a in parts(outputs, 2))
    if orientation.shape != g_row.shape:
        raise ValueError(f"orientation has shape {orientation.shape}, expected {g_row.shape}")
    doubled, moving = np.radians(2 * orientation), (g_row != 0) | (g_col != 0)
    return {"magnitude": magnitude, "outside": count_outside(orientation),
            "orientation_cos": np.where(moving, np.cos(doubled), 0.0) * 90 / np.pi,
            "orientation_sin": np.where(moving, np.sin(doubled), 0.0) * 90 / np.pi}


def hidden_cases(name, cases, outputs=lambda result, *args: {"result": result}):
    """Probe run: ``name`` on every argument tuple of ``cases(definitions)``; per case the ``outputs`` of its result
    (given the arguments) and whether it modified its inputs."""
    def run(definitions):
        fn, found = definitions[name], {}
        for i, args in enumerate(cases(definitions)):
            result, modified = call(fn, *args)
            found[f"case{i}"] = {**outputs(result, *args), "inputs_modified": modified}
        return found
    return run


def stage_cases(stage):
    """Argument tuples of a HOG stage for every image case: the images, or the inputs the grader sent."""
    if stage == "images":
        return lambda definitions: [(images,) for images in image_cases()]
    return lambda definitions: [tuple(definitions.input(stage_key(case, stage, i)) for i in range(STAGE_ARITY[stage]))
                                for case in range(len(image_cases()))]


def named_parts(*names):
    """``outputs`` of a function that returns a tuple: its items by name."""
    return lambda result, *args: dict(zip(names, parts(result, len(names))))


# ------------------------------------------------------------------ visible tests


def color_histogram_visible(definitions):
    """Solid colours (nbins 6), a half red, half blue image (3), grey images (4), row sums of random images."""
    fn = definitions["color_histogram_hsv"]
    solid = fn(solid_images(SOLID_COLOURS), nbins=6)
    half = np.concatenate([solid_images([(255, 0, 0)]), solid_images([(0, 0, 255)])], axis=2)
    grey = np.random.default_rng(SEED).uniform(0, 255, size=(2, 5, 7))
    return {"solid": solid, "solid_is_array": is_float_array(solid, (5, 6)), "half": fn(half, 3)[0],
            "grey": fn(grey, 4), "row_sums": fn(random_images(50, 32, 32, True, "uint8", 106)).sum(axis=1)}


def rgb_to_gray_visible(definitions):
    """Pure red, green, blue and light grey; a grey uint8 batch passed through."""
    fn = definitions["rgb_to_gray"]
    gray = fn(solid_images(PRIMARIES, size=(2, 3)))
    return {"gray": gray, "is_float64_array": is_float_array(gray, (4, 2, 3), np.float64),
            "grey_batch": fn(np.arange(24, dtype=np.uint8).reshape(2, 3, 4))}


def image_gradients_visible(definitions):
    """The ramp 3 * column + 10 * row."""
    rows, cols = np.mgrid[:5, :6]
    g_row, g_col = definitions["image_gradients"]((3.0 * cols + 10.0 * rows)[None])
    are_arrays = is_float_array(g_row, (1, 5, 6)) * is_float_array(g_col, (1, 5, 6))
    return {"g_row": g_row, "g_col": g_col, "are_arrays": are_arrays}


ORIENTATION_CASES = ((0.0, 2.0), (1.0, 1.0), (3.0, 0.0), (-1.0, 1.0), (0.0, -2.0), (-1.0, -1.0), (-3.0, 0.0),
                     (1.0, -1.0), (0.0, 0.0))  # (g_row, g_col): 0, 45, 90, 135 degrees, their opposites, zero


def orientation_visible(definitions):
    """Eight directions and a zero gradient, as a (1, 1, 9) batch."""
    g_row, g_col = (np.array([[[case[i] for case in ORIENTATION_CASES]]]) for i in (0, 1))
    magnitude, orientation = definitions["gradient_magnitude_orientation"](g_row, g_col)
    return {"magnitude": magnitude, "orientation": orientation, "outside": count_outside(orientation),
            "are_arrays": is_float_array(magnitude, g_row.shape) * is_float_array(orientation, g_row.shape)}


def cell_histograms_visible(definitions):
    """A 20x17 image at 45 degrees (magnitude 2) but one pixel at 170 degrees (magnitude 64)."""
    magnitude, orientation = np.full((1, 20, 17), 2.0), np.full((1, 20, 17), 45.0)
    magnitude[0, 9, 3], orientation[0, 9, 3] = 64.0, 170.0
    hist = definitions["cell_histograms"](magnitude, orientation)
    return {"hist": hist, "is_array": is_float_array(hist, (1, 2, 2, 9))}


def block_normalize_visible(definitions):
    """3x2 cells of ones but one 1000: the uniform block's values, and the clipped block's norm and shape."""
    cells = np.ones((1, 3, 2, 9))
    cells[0, 2, 1, 4] = 1000.0
    features = definitions["block_normalize"](cells)
    bottom = as_floats(features)[0, 36:].reshape(2, 2, 9)
    return {"uniform_block": as_floats(features)[0, :36], "is_array": is_float_array(features, (1, 72)),
            "bottom_norm": float((bottom ** 2).sum()) ** 0.5,
            "dominant": int(bottom[1, 1, 4] == bottom.max() and bottom[1, 1, 4] > 0.99),
            # np.allclose(bottom[0, 0], other): |difference| <= 1e-8 (1 + 1e3 |other|), scaled to the probe's 1e-8
            "small_values_gap": [(bottom[0, 0] - other) / (1 + 1e3 * abs(other))
                                 for other in (bottom[0, 1], bottom[1, 0])]}


def hog_features_visible(definitions):
    """Random images: finite floats in [0, 1]; the diagonal edge: bin 6 holds most of the energy."""
    fn = definitions["hog_features"]
    features = fn(random_images(5, 32, 32, True, "uint8", 107))
    energy = (as_floats(fn(shared.edge_images(((230, 40, 60),)))).reshape(3, 3, 2, 2, 9) ** 2).sum(axis=(0, 1, 2, 3))
    return {"is_array": is_float_array(features, (5, 324)),
            "in_unit_range": int(as_floats(features).min() >= 0 and as_floats(features).max() <= 1),
            "edge_in_bin_6": int(energy.argmax() == 6 and energy[6] > 0.8 * energy.sum())}


def patches_visible(definitions):
    """The image 100 * row + column (every patch alike), and two calls with one seed on random images."""
    fn = definitions["extract_random_patches"]
    rows, cols = np.mgrid[:10, :12]
    patches = fn((100.0 * rows + cols)[None], 6, 3, np.random.default_rng(SEED))
    images = random_images(20, 32, 32, True, "uint8", 108)
    again, repeated = (as_floats(fn(images, 5, 4, np.random.default_rng(1))) for _ in range(2))
    return {"ramp": patches, "is_array": is_float_array(patches, (6, 9)),
            "repeat_gap": (again - repeated) / (1 + abs(repeated)),  # check_close's rtol = atol, scaled to 1e-8
            "patch_means": again.mean(axis=1)}


def kmeans_visible(definitions):
    """Two tight blobs: the sorted centroids, the final inertia against them, and no rise of the inertia."""
    rng = np.random.default_rng(SEED)
    X = np.vstack([rng.normal(0, 0.5, size=(30, 2)), rng.normal(10, 0.5, size=(30, 2))])
    centroids, inertia = parts(definitions["kmeans"](X, 2, 5, np.random.default_rng(3)), 2)
    found = as_floats(centroids)[as_floats(centroids)[:, 0].argsort()]
    inertia = as_floats(inertia)
    own = float(((X[:30] - found[0]) ** 2).sum() + ((X[30:] - found[1]) ** 2).sum())
    return {"are_arrays": is_float_array(centroids, (2, 2)) * is_float_array(inertia, (5,)), "centroids": found,
            "rises": int(((inertia[1:] - inertia[:-1]) > 1e-9 * inertia[:-1]).sum()),
            # the test's check_close(inertia[-1], own, atol=1e-6), scaled so that the probe's atol of 1e-6 is it
            "final_inertia_gap": (inertia[-1] - own) / (1 + 1e-2 * abs(own))}


def bow_features_visible(definitions):
    """A flat and a striped image (patch 4, stride 4); the row sums on random images (patch 8, stride 4)."""
    fn = definitions["bow_features"]
    flat = np.full((1, 16, 16), 90.0)
    stripes = np.tile(np.where(np.arange(16) % 4 < 2, 200.0, 0.0), (16, 1))[None]
    pattern = stripes[0, :4, :4].ravel() - stripes[0, :4, :4].mean()
    hist = fn(np.concatenate([flat, stripes]), np.vstack([np.zeros(16), pattern, -pattern]), patch_size=4, stride=4)
    codebook = 50 * np.random.default_rng(SEED).standard_normal((7, 64))
    return {"hist": hist, "is_array": is_float_array(hist, (2, 3)),
            "row_sums": fn(random_images(10, 32, 32, True, "uint8", 109), codebook).sum(axis=1)}


def feature_matrices_visible(definitions):
    """The worked example: training means (2, 5, 20), stds (1, 0 -> 1, 10)."""
    train = [np.array([[1.0, 5.0], [3.0, 5.0]]), np.array([[10.0], [30.0]])]
    val, test = [np.array([[2.0, 6.0]]), np.array([[50.0]])], [np.array([[5.0, 5.0]]), np.array([[0.0]])]
    result = parts(definitions["build_feature_matrices"](train, val, test), 3)
    return {**dict(zip(("X_train", "X_val", "X_test"), result)),
            "are_float32": [is_float_array(X, (rows, 4), np.float32) for X, rows in zip(result, (2, 1, 1))]}


# ------------------------------------------------------------------ hidden tests


def hue_cases():
    """``(images, nbins)`` for every image case and both bin counts."""
    return [(images, nbins) for nbins in HUE_BINS for images in image_cases()]


def histogram_and_sums(result, *args):
    """A histogram and its row sums (checked on their own, to 1e-9)."""
    return {"result": result, "row_sums": as_floats(result).sum(axis=1)}


def hog_hidden(definitions):
    """HOG of every image case, and how much it moves when 40 is added to two float images."""
    found = hidden_cases("hog_features", stage_cases("images"))(definitions)
    images = brightness_case()
    base, brighter = (as_floats(call(definitions["hog_features"], batch)[0]) for batch in (images, images + 40.0))
    return {**found, "brighter_minus_base": brighter - base}


def hog_lines(definitions):
    """The Python lines ``hog_features`` runs for batches of 2 and 20 RGB images, and its features."""
    return line_counts(definitions, "hog_features",
                       [(random_images(n, 32, 32, True, "uint8", 63),) for n in shared.LOOP_SIZES])


def kmeans_outputs(result, X, k, iters, rng):
    """Centroids, inertia, and the number of iterations where the inertia rises."""
    centroids, inertia = (as_floats(a) for a in parts(result, 2))
    return {"centroids": centroids, "inertia": inertia,
            "rises": int(((inertia[1:] - inertia[:-1]) > 1e-9 * abs(inertia[:-1]) + 1e-12).sum())}


def feature_matrices_outputs(result, *args):
    """The three matrices, and whether each is float32."""
    result = parts(result, 3)
    return {**dict(zip(("X_train", "X_val", "X_test"), result)),
            "are_float32": [int(getattr(X, "dtype", None) == np.float32) for X in result]}


def patch_cases():
    """``(images, num_patches, patch_size, rng)`` of every patch case (32x32 RGB uint8 images)."""
    return [(random_images(N, 32, 32, True, "uint8", seed), num_patches, size, np.random.default_rng(seed))
            for num_patches, N, size, seed in shared.PROBE_PATCH_CASES]


# The hidden tests of the HOG stages feed each stage the reference output of the stage before it.
GRAY_HIDDEN = hidden_cases("rgb_to_gray", stage_cases("images"))
GRADIENTS_HIDDEN = hidden_cases("image_gradients", stage_cases("gray"), named_parts("g_row", "g_col"))
POLAR_HIDDEN = hidden_cases("gradient_magnitude_orientation", stage_cases("gradients"), folded_orientation)
CELLS_HIDDEN = hidden_cases("cell_histograms", stage_cases("polar"))
BLOCKS_HIDDEN = hidden_cases("block_normalize", stage_cases("cells"))
KMEANS_HIDDEN = hidden_cases("kmeans", lambda _: [with_generator(case) for case in kmeans_cases()], kmeans_outputs)
BOW_HIDDEN = hidden_cases("bow_features", lambda _: [bow_case(*case) for case in shared.PROBE_BOW_CASES])
MATRICES_HIDDEN = hidden_cases("build_feature_matrices", lambda _: [feature_blocks()], feature_matrices_outputs)

PROBES = (
    Probe("color_histogram_hsv on solid colours", ("test_color_histogram_visible",), color_histogram_visible,
          reference_keys=("solid", "solid_is_array"), **ISCLOSE),
    Probe("color_histogram_hsv on a half red, half blue image, grey images and row sums",
          ("test_color_histogram_visible",), color_histogram_visible, reference_keys=("half", "grey", "row_sums"),
          **CLOSE),
    Probe("color_histogram_hsv against the reference", ("test_color_histogram_hidden",),
          hidden_cases("color_histogram_hsv", lambda _: hue_cases(), histogram_and_sums), rtol=0.0, atol=1e-9),
    Probe("rgb_to_gray on solid colours", ("test_rgb_to_gray_visible",), rgb_to_gray_visible, **CLOSE),
    Probe("rgb_to_gray against the reference", ("test_rgb_to_gray_hidden",), GRAY_HIDDEN, **EXACT),
    Probe("image_gradients on a ramp", ("test_image_gradients_visible",), image_gradients_visible, **CLOSE),
    Probe("image_gradients against the reference", ("test_image_gradients_hidden",), GRADIENTS_HIDDEN, **EXACT),
    Probe("gradient_magnitude_orientation: magnitude of eight directions", ("test_orientation_visible",),
          orientation_visible, reference_keys=("magnitude", "are_arrays"), **CLOSE),
    Probe("gradient_magnitude_orientation: orientation of eight directions", ("test_orientation_visible",),
          orientation_visible, reference_keys=("orientation", "outside"), **ISCLOSE),
    Probe("gradient_magnitude_orientation: magnitude against the reference", ("test_orientation_hidden",),
          POLAR_HIDDEN, reference_keys=("magnitude", "inputs_modified"), **EXACT),
    Probe("gradient_magnitude_orientation: orientation modulo 180 against the reference", ("test_orientation_hidden",),
          POLAR_HIDDEN, reference_keys=("orientation_cos", "orientation_sin", "outside"), rtol=0.0,
          atol=shared.ANGLE_ATOL),
    Probe("cell_histograms on a 45-degree image", ("test_cell_histograms_visible",), cell_histograms_visible, **CLOSE),
    Probe("cell_histograms against the reference", ("test_cell_histograms_hidden",), CELLS_HIDDEN, **EXACT),
    Probe("block_normalize: a uniform block", ("test_block_normalize_visible",), block_normalize_visible,
          reference_keys=("uniform_block", "is_array"), **CLOSE),
    Probe("block_normalize: a clipped block", ("test_block_normalize_visible",), block_normalize_visible,
          reference_keys=("bottom_norm", "dominant", "small_values_gap"), **ISCLOSE),
    Probe("block_normalize against the reference", ("test_block_normalize_hidden",), BLOCKS_HIDDEN, **EXACT),
    Probe("hog_features: range and a diagonal edge", ("test_hog_features_visible",), hog_features_visible,
          course_twins=HOG_TWINS),
    Probe("hog_features against the reference and on a brighter copy", ("test_hog_features_hidden",), hog_hidden,
          rtol=0.0, atol=shared.HOG_ATOL, course_twins=HOG_TWINS),
    Probe(f"hog_features on {shared.LOOP_SIZES[0]} and on {shared.LOOP_SIZES[1]} images (Python lines run)",
          ("test_hog_no_per_image_loop",), hog_lines, reference_keys=(), course_twins=HOG_TWINS,
          loop_slack=shared.LOOP_SLACK),
    Probe("extract_random_patches on a ramp and with a repeated seed", ("test_patches_visible",), patches_visible,
          **CLOSE),
    Probe("extract_random_patches against the reference", ("test_patches_hidden",),
          hidden_cases("extract_random_patches", lambda _: patch_cases()), **EXACT),
    Probe("kmeans on two blobs", ("test_kmeans_visible",), kmeans_visible, rtol=1e-8, atol=1e-6),
    Probe("kmeans against the reference", ("test_kmeans_hidden",), KMEANS_HIDDEN, rtol=1e-7, atol=1e-9),
    Probe("bow_features on a flat and a striped image", ("test_bow_features_visible",), bow_features_visible, **CLOSE),
    Probe("bow_features against the reference", ("test_bow_features_hidden",), BOW_HIDDEN, rtol=0.0, atol=1e-9),
    Probe("build_feature_matrices on the worked example", ("test_build_feature_matrices_visible",),
          feature_matrices_visible, **CLOSE),
    Probe("build_feature_matrices against the reference", ("test_build_feature_matrices_hidden",), MATRICES_HIDDEN,
          rtol=1e-5, atol=1e-5),
)
