"""Trusted grading code of the ``features`` assignment: reference implementations and hidden checks.

Never released to students. Hidden test cells of ``solutions/features/features.ipynb`` load this
file with ``cs231kit.course.load_course_module("autograder/checks/features.py")`` and call one
``check_*`` function per test cell. Every check raises ``AssertionError`` (through ``_fail``, the one
frame of this file a student's traceback shows) with a message a student can act on: which
function, which hidden case, which index, expected vs got.

The references are written independently of the notebook's solution: hue from its textbook
formula and ``np.histogram`` per image, HOG with ``np.arctan2``, one-hot orientation masks and
explicit loops over blocks, k-means with full pairwise differences. ``tests/test_features_assignment.py``
checks them against scikit-image (``skimage.feature.hog``, to 1e-6), matplotlib's ``rgb_to_hsv``
and loop twins.

"No per-image loop" is checked by counting the Python lines that run (``sys.settrace``) while the
function processes a batch of 2 images and a batch of 20: vectorised code runs the same lines
whatever the batch size, a loop over images runs its body once more per image. Counting is exact
and immune to a loaded machine, unlike a time limit.
"""

import sys
from pathlib import Path

import numpy as np

from cs231kit.course import load_course_module

_CONTRACT = load_course_module("autograder/checks/contract.py", root=Path(__file__).resolve().parents[2])
_fail, _name, _call, _array = _CONTRACT.fail, _CONTRACT.name_of, _CONTRACT.call, _CONTRACT.array
shared = load_course_module("autograder/checks/cases/features.py", root=Path(__file__).resolve().parents[2])
"""The hidden inputs and tolerances, shared with the probes of ``autograder/verify/features.py``."""

HUE_EDGE_TOL = 1e-9
"""A pixel whose hue * nbins is this close to an integer sits on a bin edge: either bin is right."""
LINE_LIMIT = 200_000
"""Stop counting (and fail) after this many lines: a per-pixel Python loop."""


# ----------------------------------------------------------------------------------- references


def gray_reference(images):
    """Luma ``0.299 R + 0.587 G + 0.114 B`` as float64 (N, H, W); grey input is only converted."""
    images = np.asarray(images, dtype=np.float64)
    return images if images.ndim == 3 else np.einsum("nhwc,c->nhw", images, shared.LUMA_WEIGHTS)


def hue_reference(images):
    """Hue in [0, 1) of (N, H, W, 3) images: the textbook piecewise formula; 0 where max == min."""
    rgb = np.asarray(images, dtype=np.float64)
    if rgb.ndim == 3:
        return np.zeros(rgb.shape)
    r, g, b = rgb[..., 0], rgb[..., 1], rgb[..., 2]
    top, spread = rgb.max(axis=-1), np.ptp(rgb, axis=-1)
    safe = np.where(spread > 0, spread, 1.0)
    sector = np.select([spread == 0, top == r, top == g],
                       [0.0, ((g - b) / safe) % 6, (b - r) / safe + 2], (r - g) / safe + 4)
    return (sector / 6) % 1.0


def color_histogram_reference(images, nbins=10):
    """Fraction of each image's pixels in each of nbins equal hue bins over [0, 1), one image at a time."""
    hue = hue_reference(images)
    return np.stack([np.histogram(h, bins=nbins, range=(0.0, 1.0))[0] / h.size for h in hue])


def gradients_reference(gray):
    """Centred differences ``f[r+1] - f[r-1]`` (rows) and ``f[c+1] - f[c-1]`` (columns); 0 on the border."""
    gray = np.asarray(gray, dtype=np.float64)
    g_row = np.roll(gray, -1, axis=1) - np.roll(gray, 1, axis=1)
    g_col = np.roll(gray, -1, axis=2) - np.roll(gray, 1, axis=2)
    g_row[:, [0, -1], :] = 0.0
    g_col[:, :, [0, -1]] = 0.0
    return g_row, g_col


def magnitude_orientation_reference(g_row, g_col):
    """``hypot`` and the unsigned angle ``arctan2(g_row, g_col)`` in degrees modulo 180."""
    return np.hypot(g_row, g_col), np.rad2deg(np.arctan2(g_row, g_col)) % 180.0


def cell_histograms_reference(magnitude, orientation, cell_size=8, nbins=9):
    """Mean over each cell's pixels of the magnitude times a one-hot mask of the orientation's bin."""
    N, H, W = magnitude.shape
    R, C = H // cell_size, W // cell_size
    edges = np.linspace(0.0, 180.0, nbins + 1)
    crop = (slice(None), slice(0, R * cell_size), slice(0, C * cell_size))
    angle = orientation[crop][..., None]
    votes = ((angle >= edges[:-1]) & (angle < edges[1:])) * magnitude[crop][..., None]
    return votes.reshape(N, R, cell_size, C, cell_size, nbins).mean(axis=(2, 4))


def block_normalize_reference(cell_hist, eps=1e-5):
    """L2-Hys over every 2x2 block of cells, one block at a time, flattened (row, col, 2, 2, bin)."""
    N, R, C, B = cell_hist.shape
    out = np.empty((N, R - 1, C - 1, 2, 2, B))
    for r in range(R - 1):
        for c in range(C - 1):
            block = cell_hist[:, r:r + 2, c:c + 2]
            norm = np.sqrt(np.sum(block ** 2, axis=(1, 2, 3), keepdims=True) + eps ** 2)
            clipped = np.minimum(block / norm, 0.2)
            out[:, r, c] = clipped / np.sqrt(np.sum(clipped ** 2, axis=(1, 2, 3), keepdims=True) + eps ** 2)
    return out.reshape(N, -1)


def hog_reference(images):
    """HOG of a batch: 8x8 cells, 9 unsigned orientations, 2x2 blocks, L2-Hys (scikit-image's conventions)."""
    g_row, g_col = gradients_reference(gray_reference(images))
    return block_normalize_reference(cell_histograms_reference(*magnitude_orientation_reference(g_row, g_col)))


def patches_reference(images, num_patches, patch_size, rng):
    """Random grey patches, drawn as image, top, left (in that order), flattened, each minus its mean."""
    gray = gray_reference(images)
    N, H, W = gray.shape
    which = rng.integers(0, N, size=num_patches)
    top = rng.integers(0, H - patch_size + 1, size=num_patches)
    left = rng.integers(0, W - patch_size + 1, size=num_patches)
    patches = np.stack([gray[n, t:t + patch_size, l:l + patch_size].ravel() for n, t, l in zip(which, top, left)])
    return patches - patches.mean(axis=1, keepdims=True)


def _nearest(X, centroids):
    """Index of the nearest centroid of every row (ties: lowest index) and its squared distance."""
    d2 = np.sum((X[:, None, :] - centroids[None, :, :]) ** 2, axis=2)
    nearest = np.argmin(d2, axis=1)
    return nearest, d2[np.arange(len(X)), nearest]


def kmeans_reference(X, k, iters, rng):
    """Lloyd's algorithm from ``X[rng.choice(N, k, replace=False)]``; an empty cluster keeps its centroid.

    Returns the centroids after ``iters`` updates and the inertia (sum of squared distances to the
    nearest centroid) measured at each assignment step, before the update.
    """
    X = np.asarray(X, dtype=np.float64)
    centroids = X[rng.choice(len(X), size=k, replace=False)].copy()
    inertia = np.empty(iters)
    for t in range(iters):
        nearest, d2 = _nearest(X, centroids)
        inertia[t] = d2.sum()
        for j in range(k):
            if np.any(nearest == j):
                centroids[j] = X[nearest == j].mean(axis=0)
    return centroids, inertia


def bow_reference(images, codebook, patch_size=8, stride=4):
    """Fraction of each image's dense patches (grey, mean removed) whose nearest codeword is each codeword."""
    gray = gray_reference(images)
    N, H, W = gray.shape
    rows, cols = range(0, H - patch_size + 1, stride), range(0, W - patch_size + 1, stride)
    out = np.zeros((N, len(codebook)))
    for n in range(N):
        patches = np.stack([gray[n, r:r + patch_size, c:c + patch_size].ravel() for r in rows for c in cols])
        nearest, _ = _nearest(patches - patches.mean(axis=1, keepdims=True), np.asarray(codebook, np.float64))
        out[n] = np.bincount(nearest, minlength=len(codebook)) / len(patches)
    return out


def feature_matrices_reference(train_blocks, val_blocks, test_blocks):
    """Concatenate, standardise each column with the training mean and std (std 0 -> 1), append ones; float32."""
    train, val, test = (np.concatenate(blocks, axis=1).astype(np.float64) for blocks in
                        (train_blocks, val_blocks, test_blocks))
    mean, std = train.mean(axis=0), train.std(axis=0)
    std[std == 0] = 1.0
    return tuple(np.column_stack([(F - mean) / std, np.ones(len(F))]).astype(np.float32) for F in (train, val, test))


# ---------------------------------------------------------------------------------------- cases


def image_case(N, H, W, colour, dtype, seed):
    """Seeded random images in [0, 255]: uint8, or float64 with fractional values."""
    rng = np.random.default_rng(seed)
    shape = (N, H, W, 3) if colour else (N, H, W)
    if dtype == "uint8":
        return rng.integers(0, 256, size=shape, dtype=np.uint8)
    return rng.uniform(0, 255, size=shape)


def hidden_images():
    """(description, images) of every HOG / histogram case: random sizes, grey, non-square, single edges."""
    cases = []
    for N, H, W, colour, dtype, seed in shared.IMAGE_CASES:
        kind = "RGB" if colour else "grey"
        cases.append((f"{N} random {kind} {dtype} image(s) of {H}x{W}", image_case(N, H, W, colour, dtype, seed)))
    cases.append(("3 images with a single straight edge each (diagonal, vertical, horizontal)", shared.edge_images()))
    return cases


def features_case(seed=51):
    """Blocks of features per split: a constant column, very different scales, and shifted val/test."""
    rng = np.random.default_rng(seed)
    sizes = {"train": 40, "val": 15, "test": 9}
    blocks = {}
    for split, n in sizes.items():
        shift = 0.0 if split == "train" else 3.0
        blocks[split] = [rng.normal(5 + shift, 2, size=(n, 3)),
                         np.column_stack([np.full(n, 7.0), rng.normal(shift, 1e3, size=(n, 2))])]
    return blocks["train"], blocks["val"], blocks["test"]


# ------------------------------------------------------------------------------------- contract


def _compare(fn, got, expected, what, *, atol, rtol=0.0, label="the result", hint=""):
    """Fail with the worst index and both values if ``got`` and ``expected`` differ beyond the tolerance."""
    __tracebackhide__ = True
    bad = np.abs(got - expected) > atol + rtol * np.abs(expected)
    if bad.any():
        diff = np.where(bad, np.abs(got - expected), -1.0)
        index = tuple(int(i) for i in np.unravel_index(np.argmax(diff), diff.shape))
        _fail(f"{_name(fn)}: {label} is wrong on {what}: at index {list(index)} expected {expected[index]:.8g}, "
              f"got {got[index]:.8g} ({int(bad.sum())} of {bad.size} entries differ).{hint}")


def _pair(fn, value, what, names):
    """Unpack a 2-tuple result, failing clearly if it is not one."""
    __tracebackhide__ = True
    if not (isinstance(value, tuple) and len(value) == 2):
        _fail(f"{_name(fn)} must return a tuple ({names}) on {what}; it returned {type(value).__name__}")
    return value


# ------------------------------------------------------------------------------- public checks


def check_rgb_to_gray(fn):
    """Hidden test of ``rgb_to_gray``: luma weights, float64, grey input passed through, uint8 safe."""
    __tracebackhide__ = True
    for what, images in hidden_images():
        got = _array(fn, _call(fn, (images,), what), images.shape[:3], what)
        _compare(fn, got, gray_reference(images), what, atol=1e-9, rtol=shared.EXACT_RTOL,
                 hint=" Use the luma weights 0.299 R + 0.587 G + 0.114 B on float values (uint8 overflows).")


def _hue_tolerance(images, nbins):
    """Per image: the largest L1 difference a correct histogram may have (2 / pixels per pixel on an edge)."""
    scaled = hue_reference(images) * nbins
    on_edge = np.abs(scaled - np.round(scaled)) < HUE_EDGE_TOL * nbins
    on_edge &= np.ptp(np.asarray(images, np.float64).reshape(*scaled.shape, -1), axis=-1) > 0
    pixels = scaled[0].size
    return 2 * on_edge.reshape(len(scaled), -1).sum(axis=1) / pixels + 1e-9


def check_color_histogram_hsv(fn):
    """Hidden test of ``color_histogram_hsv``: values, rows summing to 1, nbins, and no per-image loop."""
    __tracebackhide__ = True
    for nbins in (10, 7):
        for what, images in hidden_images():
            what = f"{what} with nbins={nbins}"
            got = _array(fn, _call(fn, (images, nbins), what), (len(images), nbins), what)
            sums = got.sum(axis=1)
            if not np.allclose(sums, 1.0, atol=1e-9):
                _fail(f"{_name(fn)}: each row must sum to 1 (fractions of pixels), but on {what} the rows sum to "
                      f"{np.round(sums, 6).tolist()}")
            expected = color_histogram_reference(images, nbins)
            error, allowed = np.abs(got - expected).sum(axis=1), _hue_tolerance(images, nbins)
            if np.any(error > allowed):
                n = int(np.argmax(error - allowed))
                _fail(f"{_name(fn)}: the hue histogram of image {n} is wrong on {what}: expected "
                      f"{np.round(expected[n], 4).tolist()}, got {np.round(got[n], 4).tolist()}. The hue is the H "
                      f"of HSV (channel 0 of matplotlib.colors.rgb_to_hsv(images / 255)), binned over [0, 1).")
    _check_no_per_image_loop(fn, lambda n: (image_case(n, 32, 32, True, "uint8", 61), 10))


def check_image_gradients(fn):
    """Hidden test of ``image_gradients``: centred differences, zero on the border rows/columns."""
    __tracebackhide__ = True
    for what, images in hidden_images():
        gray = gray_reference(images)
        g_row, g_col = _pair(fn, _call(fn, (gray,), what), what, "g_row, g_col")
        expected = gradients_reference(gray)
        for label, got, want in (("g_row", g_row, expected[0]), ("g_col", g_col, expected[1])):
            got = _array(fn, got, gray.shape, what, label)
            _compare(fn, got, want, what, atol=1e-9, rtol=shared.EXACT_RTOL, label=label,
                     hint=" g_row[:, r, c] = gray[:, r + 1, c] - gray[:, r - 1, c] (no division by 2), and 0 on the "
                          "first and last row (g_col: column) - note that np.gradient differs on both counts.")


def check_gradient_magnitude_orientation(fn):
    """Hidden test: magnitude, and the unsigned orientation in [0, 180) where the gradient is not zero."""
    __tracebackhide__ = True
    for what, images in hidden_images():
        g_row, g_col = gradients_reference(gray_reference(images))
        magnitude, orientation = _pair(fn, _call(fn, (g_row, g_col), what), what, "magnitude, orientation")
        magnitude = _array(fn, magnitude, g_row.shape, what, "magnitude")
        orientation = _array(fn, orientation, g_row.shape, what, "orientation")
        want_magnitude, want_orientation = magnitude_orientation_reference(g_row, g_col)
        _compare(fn, magnitude, want_magnitude, what, atol=1e-9, rtol=shared.EXACT_RTOL, label="magnitude")
        outside = (orientation < 0) | (orientation >= 180)
        if outside.any():
            index = tuple(int(i) for i in np.argwhere(outside)[0])
            _fail(f"{_name(fn)}: orientations must lie in [0, 180), but on {what} the orientation at {list(index)} "
                  f"is {orientation[index]:.6g} (g_row={g_row[index]:.4g}, g_col={g_col[index]:.4g}; "
                  f"{int(outside.sum())} entries outside). Fold the angle: a gradient and its opposite are one "
                  f"orientation, so add 180 to negative angles (or take the angle modulo 180).")
        folded = np.abs(orientation - want_orientation)
        folded = np.where(want_magnitude > 0, np.minimum(folded, 180 - folded), 0.0)
        _compare(fn, folded, np.zeros_like(folded), what, atol=shared.ANGLE_ATOL,
                 label="orientation (degrees, modulo 180)",
                 hint=" Use the angle of (g_col, g_row), i.e. np.arctan2(g_row, g_col), in degrees, folded into "
                      "[0, 180); the value shown as 'got' is the difference from the expected angle.")


def check_cell_histograms(fn):
    """Hidden test of ``cell_histograms`` on reference magnitudes and orientations (incl. leftover pixels)."""
    __tracebackhide__ = True
    for what, images in hidden_images():
        magnitude, orientation = magnitude_orientation_reference(*gradients_reference(gray_reference(images)))
        N, H, W = magnitude.shape
        got = _array(fn, _call(fn, (magnitude, orientation), what), (N, H // 8, W // 8, 9), what)
        _compare(fn, got, cell_histograms_reference(magnitude, orientation), what, atol=1e-9, rtol=shared.EXACT_RTOL,
                 hint=" Bin b holds orientations in [20 b, 20 (b + 1)); each cell's value is the sum of its "
                      "pixels' magnitudes divided by 64 (the cell's mean); pixels beyond the last full cell are ignored.")


def check_block_normalize(fn):
    """Hidden test of ``block_normalize``: L2-Hys over 2x2 blocks, flattened (block row, block col, cell, bin)."""
    __tracebackhide__ = True
    for what, images in hidden_images():
        cells = cell_histograms_reference(*magnitude_orientation_reference(*gradients_reference(gray_reference(images))))
        N, R, C, B = cells.shape
        got = _array(fn, _call(fn, (cells,), what), (N, (R - 1) * (C - 1) * 4 * B), what)
        _compare(fn, got, block_normalize_reference(cells), what, atol=1e-9, rtol=shared.EXACT_RTOL,
                 hint=" Normalise each block v by sqrt(sum(v**2) + eps**2), clip at 0.2, normalise again; "
                      "the order is (block row, block col, cell row in block, cell col in block, bin).")


def check_hog_features(fn):
    """Hidden test of ``hog_features``: the reference (scikit-image's HOG) and invariance to a constant."""
    __tracebackhide__ = True
    for what, images in hidden_images():
        expected = hog_reference(images)
        got = _array(fn, _call(fn, (images,), what), expected.shape, what)
        _compare(fn, got, expected, what, atol=shared.HOG_ATOL,
                 hint=" Test the stages one by one (the tests above them); a wrong fold of the orientations is "
                      "the most common cause.")
    images = image_case(2, 32, 32, True, "float64", 62) * 0.8
    what = "2 random images and the same images plus 40 (a brighter copy)"
    base = _array(fn, _call(fn, (images,), what), hog_reference(images).shape, what)
    brighter = _array(fn, _call(fn, (images + 40.0,), what), base.shape, what)
    _compare(fn, brighter, base, what, atol=shared.HOG_ATOL, label="HOG of the brighter copy",
             hint=" Adding a constant changes no gradient, so it must not change the HOG.")


def check_hog_no_per_image_loop(fn):
    """Hidden test: ``hog_features`` runs no Python line more often for 20 images than for 2."""
    __tracebackhide__ = True
    _check_no_per_image_loop(fn, lambda n: (image_case(n, 32, 32, True, "uint8", 63),))


def _count_lines(fn, args):
    """Number of Python lines executed while ``fn(*args)`` runs (every frame), capped at LINE_LIMIT."""
    count = 0

    class TooMany(Exception):
        pass

    def tracer(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
            if count > LINE_LIMIT:
                raise TooMany
        return tracer

    sys.settrace(tracer)
    try:
        fn(*args)
    except TooMany:
        pass
    finally:
        sys.settrace(None)
    return count


def _check_no_per_image_loop(fn, make_args):
    """Fail if ``fn`` executes more Python lines for a batch of 20 than for a batch of 2 (plus ``LOOP_SLACK``)."""
    __tracebackhide__ = True
    small, large = shared.LOOP_SIZES
    _call(fn, make_args(small), f"a batch of {small} images")  # a stub or a crash fails here, readably
    counts = [_count_lines(fn, make_args(n)) for n in (small, large)]
    if counts[1] > counts[0] + shared.LOOP_SLACK:
        _fail(f"{_name(fn)} runs {counts[1]} Python lines for a batch of {large} images but {counts[0]} for a batch "
              f"of {small}: it loops over the images (or their pixels) in Python. Process the whole batch with "
              f"array operations (the batch is axis 0 of every array).")


def check_extract_random_patches(fn):
    """Hidden test of ``extract_random_patches``: the documented draws, grey patches minus their mean."""
    __tracebackhide__ = True
    for num_patches, N, patch_size, seed in shared.PATCH_CASES:
        images = image_case(N, 32, 32, True, "uint8", seed)
        what = f"{num_patches} patches of {patch_size}x{patch_size} from {N} image(s), rng seed {seed}"
        got = _array(fn, _call(fn, (images, num_patches, patch_size, np.random.default_rng(seed)), what),
                     (num_patches, patch_size ** 2), what)
        expected = patches_reference(images, num_patches, patch_size, np.random.default_rng(seed))
        _compare(fn, got, expected, what, atol=1e-9, rtol=shared.EXACT_RTOL,
                 hint=" Draw image, top and left with rng.integers in that order, cut grey patches, flatten "
                      "each row by row, and subtract each patch's own mean.")


def check_kmeans(fn):
    """Hidden test of ``kmeans``: centroids and inertia against the reference, inertia never increasing,
    and an empty cluster that keeps its centroid."""
    __tracebackhide__ = True
    cases = [(f"hidden case {i + 1} (N={c[0]}, D={c[1]}, k={c[2]}, iters={c[3]})", shared.kmeans_case(*c))
             for i, c in enumerate(shared.KMEANS_CASES)]
    cases.append(("points whose initial centroids include two equal ones (an empty cluster)",
                  shared.empty_cluster_case()))
    for what, (X, k, iters, seed) in cases:
        result = _call(fn, (X, k, iters, np.random.default_rng(seed)), what)
        centroids, inertia = _pair(fn, result, what, "centroids, inertia")
        centroids = _array(fn, centroids, (k, X.shape[1]), what, "centroids")
        inertia = _array(fn, inertia, (iters,), what, "inertia")
        rises = np.flatnonzero(np.diff(inertia) > 1e-9 * np.abs(inertia[:-1]) + 1e-12)
        if rises.size:
            t = int(rises[0])
            _fail(f"{_name(fn)}: the inertia rises from {inertia[t]:.8g} (iteration {t}) to {inertia[t + 1]:.8g} on "
                  f"{what}; Lloyd's algorithm never increases it. Is each centroid the mean of its own points?")
        want_centroids, want_inertia = kmeans_reference(X, k, iters, np.random.default_rng(seed))
        _compare(fn, inertia, want_inertia, what, atol=1e-9, rtol=1e-7, label="inertia",
                 hint=" inertia[t] is the sum of squared distances to the nearest centroid at iteration t, "
                      "before the update; start from X[rng.choice(N, size=k, replace=False)].")
        _compare(fn, centroids, want_centroids, what, atol=1e-9, rtol=1e-7, label="centroids",
                 hint=" An empty cluster keeps its previous centroid.")


def check_bow_features(fn):
    """Hidden test of ``bow_features``: dense patches, nearest codewords, rows summing to 1."""
    __tracebackhide__ = True
    for N, H, W, patch_size, stride, k, seed in shared.BOW_CASES:
        rng = np.random.default_rng(seed)
        images = image_case(N, H, W, True, "uint8", seed)
        codebook = 40 * rng.standard_normal((k, patch_size ** 2))
        what = f"{N} image(s) of {H}x{W}, {k} codewords, patch_size={patch_size}, stride={stride}"
        got = _array(fn, _call(fn, (images, codebook, patch_size, stride), what), (N, k), what)
        _compare(fn, got, bow_reference(images, codebook, patch_size, stride), what, atol=1e-9,
                 hint=" Take every patch whose top-left corner is a multiple of stride (rows and columns), "
                      "subtract its mean, find its nearest codeword (squared distance) and count; divide by the "
                      "number of patches.")


def check_build_feature_matrices(fn):
    """Hidden test of ``build_feature_matrices``: training statistics only, std 0 handled, bias, float32."""
    __tracebackhide__ = True
    train, val, test = features_case()
    what = "three splits of two feature blocks (with a constant column and shifted val/test features)"
    result = _call(fn, (train, val, test), what)
    if not (isinstance(result, tuple) and len(result) == 3):
        _fail(f"{_name(fn)} must return a tuple (X_train, X_val, X_test); got {type(result).__name__}")
    for split, got, want in zip(("X_train", "X_val", "X_test"), result, feature_matrices_reference(train, val, test)):
        if getattr(got, "dtype", None) != np.float32:
            _fail(f"{_name(fn)}: {split} must be float32 (the training loop's dtype); got {getattr(got, 'dtype', got)}")
        got = _array(fn, got, want.shape, what, split)
        _compare(fn, got, want.astype(np.float64), what, atol=1e-5, rtol=1e-5, label=split,
                 hint=" Standardise every split with the mean and std of the *training* features (a column "
                      "with std 0 is divided by 1), then append a column of ones.")
