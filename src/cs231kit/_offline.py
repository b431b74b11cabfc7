"""Build the offline stand-in for CIFAR-10 from scikit-image's bundled photographs.

Ten photographs that ship inside scikit-image (no network needed) give ten classes, one class per
photograph. Each photograph is rescaled so that its short side (the height: all ten are landscape
or square) is ``SHORT_SIDE`` pixels, then 32x32x3 patches are cut on a grid of stride ``STRIDE``.

The split is by image region, so that no training patch shares a pixel with a validation or test
patch: the rows of every photograph are cut into three horizontal bands (``BANDS``), and a patch
belongs to a split only if it lies entirely inside that split's band. Validation and test keep
``EVAL_PER_CLASS`` evenly spaced patches of every class (balanced); training keeps every patch of
its band (435 to 675 per class, depending on the photograph's width). Each split is then put in a
fixed pseudo-random order, like CIFAR-10, so that its first ``n`` images are a fair sample.

This module is private; the public entry point is :func:`cs231kit.data.load_offline_dataset`.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

PATCH = 32
STRIDE = 8
SHORT_SIDE = 256
# Half-open pixel-row ranges of the rescaled photograph. Patches never cross a band edge, so the
# top-left corners of patches in different bands are at least PATCH rows apart.
BANDS = {"train": (0, 144), "val": (144, 200), "test": (200, 256)}
EVAL_PER_CLASS = 100
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


def _band_patches(image, start, stop):
    """Cut every grid patch lying entirely inside pixel rows ``[start, stop)``.

    Parameters
    ----------
    image : ndarray, uint8, (H, W, 3)
    start, stop : int
        Row range of the band.

    Returns
    -------
    patches : ndarray, uint8, (n, PATCH, PATCH, 3)
    corners : ndarray, int64, (n, 2)
        Row and column of each patch's top-left pixel in ``image``, in the same order.
    """
    windows = sliding_window_view(image[start:stop], (PATCH, PATCH), axis=(0, 1))
    windows = windows[::STRIDE, ::STRIDE]  # (rows, cols, 3, PATCH, PATCH)
    rows, cols = windows.shape[:2]
    patches = windows.transpose(0, 1, 3, 4, 2).reshape(rows * cols, PATCH, PATCH, 3)
    row, col = np.meshgrid(start + STRIDE * np.arange(rows), STRIDE * np.arange(cols),
                           indexing="ij")
    return patches, np.stack([row.ravel(), col.ravel()], axis=1)


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
    parts = {split: [] for split in BANDS}
    for label, (_, loader) in enumerate(PHOTOGRAPHS):
        image = _rescaled_rgb(_load_photograph(loader))
        for split, (start, stop) in BANDS.items():
            patches, corners = _band_patches(image, start, stop)
            if split != "train":
                keep = _evenly_spaced(len(patches), EVAL_PER_CLASS)
                patches, corners = patches[keep], corners[keep]
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
