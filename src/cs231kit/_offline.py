"""Build the offline stand-in for CIFAR-10 from scikit-image's bundled photographs.

Ten photographs that ship inside scikit-image (no network needed) give ten classes, one class per
photograph. Each photograph is rescaled so that its short side (the height: all ten are landscape
or square) is ``SHORT_SIDE`` pixels, then 32x32x3 patches are cut on a grid of stride ``STRIDE``.

The split is by image region, so that no training patch shares a pixel with a validation or test
patch, and validation and test are drawn alike, from interleaved regions of the same rows:

* the rows of every photograph alternate between training bands and evaluation stripes
  (``TRAIN_BANDS``, ``EVAL_STRIPES``), so that every split samples the top, the middle and the
  bottom of the photograph;
* every evaluation stripe is cut into blocks ``EVAL_BLOCK`` pixels wide that alternate between
  validation and test, starting with the other split in the next stripe (a checkerboard);
* a patch belongs to a split only if it lies entirely inside one of that split's regions.

A split made of horizontal bands (training at the top, validation in the middle, test at the
bottom) would make the test accuracy a measurement of another part of the photographs than the
validation accuracy: it fell well below it. Validation and test keep ``EVAL_PER_CLASS`` evenly
spaced patches of every class (balanced), cut on a finer grid (``EVAL_STRIDE``) since their regions
are small; training keeps every patch of its bands on the ``STRIDE`` grid. Each split is then put in
a fixed pseudo-random order, like CIFAR-10, so that its first ``n`` images are a fair sample.

This module is private; the public entry point is :func:`cs231kit.data.load_offline_dataset`.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

PATCH = 32
STRIDE = 8
SHORT_SIDE = 256
# Half-open pixel-row ranges of the rescaled photograph. Patches never cross a region's edge, so
# patches of different splits share no pixel.
TRAIN_BANDS = ((0, 80), (120, 216))
EVAL_STRIPES = ((80, 120), (216, 256))
EVAL_BLOCK = 64
EVAL_STRIDE = 4
EVAL_PER_CLASS = 100
SPLITS = ("train", "val", "test")
ORDER_SEED = 231


# (class name, scikit-image loader) in label order.
PHOTOGRAPHS = (
    ("astronaut", "astronaut"),
    ("cat", "chelsea"),
    ("coffee", "coffee"),
    ("rocket", "rocket"),
    ("motorcycle", "stereo_motorcycle"),
    ("retina", "retina"),
    ("cells", "immunohistochemistry"),
    ("galaxies", "hubble_deep_field"),
    ("brick", "brick"),
    ("grass", "grass"),
)
CLASS_NAMES = tuple(name for name, _ in PHOTOGRAPHS)


def _load_photograph(loader):
    """Load one of scikit-image's bundled photographs (``stereo_motorcycle``: its left image)."""
    import skimage.data

    image = getattr(skimage.data, loader)()
    return image[0] if isinstance(image, tuple) else image


def _rescaled_rgb(image):
    """Rescale a photograph so its short side is ``SHORT_SIDE``, as anti-aliased uint8 RGB.

    Parameters
    ----------
    image : ndarray, uint8, (H, W) or (H, W, 3)
        Greyscale images are stacked into three equal channels.

    Returns
    -------
    ndarray, uint8, (H', W', 3)
        ``min(H', W') == SHORT_SIDE``.
    """
    from skimage.transform import resize

    if image.ndim == 2:
        image = np.stack([image] * 3, axis=-1)
    scale = SHORT_SIDE / min(image.shape[:2])
    shape = tuple(round(side * scale) for side in image.shape[:2])
    # float32 input keeps resize (and its Gaussian anti-aliasing) in float32: half the cost.
    small = resize(image.astype(np.float32), shape, anti_aliasing=True, preserve_range=True)
    return np.clip(np.rint(small), 0, 255).astype(np.uint8)


def _regions(width):
    """The rectangles of every split in a photograph ``width`` pixels wide.

    Parameters
    ----------
    width : int

    Returns
    -------
    list of (str, int, int, int, int)
        ``(split, row_start, row_stop, col_start, col_stop)``, half-open; the training bands span
        the whole width, every evaluation stripe is cut into blocks that alternate between
        ``"val"`` and ``"test"``, with the phase flipped from one stripe to the next.
    """
    regions = [("train", start, stop, 0, width) for start, stop in TRAIN_BANDS]
    for stripe, (start, stop) in enumerate(EVAL_STRIPES):
        for block, col in enumerate(range(0, width - PATCH + 1, EVAL_BLOCK)):
            split = ("val", "test")[(block + stripe) % 2]
            regions.append((split, start, stop, col, min(col + EVAL_BLOCK, width)))
    return regions


def _region_patches(image, rows, cols, stride):
    """Cut every grid patch lying entirely inside a rectangle of ``image``.

    Parameters
    ----------
    image : ndarray, uint8, (H, W, 3)
    rows, cols : (int, int)
        Half-open row and column ranges of the rectangle.
    stride : int
        Spacing of the grid of top-left corners, from the rectangle's top-left pixel.

    Returns
    -------
    patches : ndarray, uint8, (n, PATCH, PATCH, 3)
    corners : ndarray, int64, (n, 2)
        Row and column of each patch's top-left pixel in ``image``, in the same order.
    """
    crop = image[rows[0]:rows[1], cols[0]:cols[1]]
    windows = sliding_window_view(crop, (PATCH, PATCH), axis=(0, 1))[::stride, ::stride]
    num_rows, num_cols = windows.shape[:2]  # windows: (rows, cols, 3, PATCH, PATCH)
    patches = windows.transpose(0, 1, 3, 4, 2).reshape(num_rows * num_cols, PATCH, PATCH, 3)
    row, col = np.meshgrid(rows[0] + stride * np.arange(num_rows),
                           cols[0] + stride * np.arange(num_cols), indexing="ij")
    return patches, np.stack([row.ravel(), col.ravel()], axis=1)


def _photograph_splits(image):
    """The patches of one photograph in each split, with their corners.

    Parameters
    ----------
    image : ndarray, uint8, (H, W, 3)

    Returns
    -------
    dict
        ``{split: (patches uint8 (n, PATCH, PATCH, 3), corners int64 (n, 2))}``; val and test
        hold ``EVAL_PER_CLASS`` evenly spaced patches of their regions.
    """
    pieces = {split: [] for split in SPLITS}
    for split, *box in _regions(image.shape[1]):
        stride = STRIDE if split == "train" else EVAL_STRIDE
        pieces[split].append(_region_patches(image, box[:2], box[2:], stride))
    result = {}
    for split, parts in pieces.items():
        patches = np.concatenate([part[0] for part in parts])
        corners = np.concatenate([part[1] for part in parts])
        if split != "train":
            keep = _evenly_spaced(len(patches), EVAL_PER_CLASS)
            patches, corners = patches[keep], corners[keep]
        result[split] = (patches, corners)
    return result


def _evenly_spaced(n, k):
    """Indices of ``k`` evenly spaced items among ``n`` (all of them if ``k >= n``)."""
    return np.unique(np.linspace(0, n - 1, min(n, k)).round().astype(np.int64))


def build():
    """Build the three splits of the offline dataset.

    Returns
    -------
    dict
        ``{"train": (X, y, origin), "val": ..., "test": ...}`` where ``X`` is uint8
        (N, 32, 32, 3), ``y`` is int64 (N,) (the index of the photograph in ``CLASS_NAMES``) and
        ``origin`` is int64 (N, 3): label, row and column of the patch's top-left pixel in the
        rescaled photograph (the bookkeeping that proves the splits do not overlap).
    """
    parts = {split: [] for split in SPLITS}
    for label, (_, loader) in enumerate(PHOTOGRAPHS):
        image = _rescaled_rgb(_load_photograph(loader))
        for split, (patches, corners) in _photograph_splits(image).items():
            origin = np.column_stack([np.full(len(patches), label), corners])
            parts[split].append((patches, origin))
    rng = np.random.default_rng(ORDER_SEED)
    splits = {}
    for split, pieces in parts.items():
        X = np.concatenate([patches for patches, _ in pieces])
        origin = np.concatenate([origin for _, origin in pieces]).astype(np.int64)
        order = rng.permutation(len(X))
        splits[split] = (X[order], origin[order, 0], origin[order])
    return splits
