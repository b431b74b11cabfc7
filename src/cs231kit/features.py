"""Batch feature extraction: run feature functions over a large image set in chunks.

The feature functions themselves (colour histograms, HOG, bag of words) are the students' work and
live in the notebook; this module only drives them. :func:`extract_features` slices the images
into chunks, calls every function on each chunk, checks what comes back and writes it straight
into one float32 matrix, so 50 000 CIFAR-sized images never exist as a float64 copy: only one
chunk at a time does (inside the feature functions).
"""

import numpy as np

from cs231kit.runtime import progress_bar

DEFAULT_CHUNK_SIZE = 1000
"""Images per chunk: a float64 copy of 1000 CIFAR-sized images is 24.6 MB."""


def _name(fn):
    return getattr(fn, "__name__", repr(fn))


def _checked_block(fn, chunk, start):
    """Call ``fn(chunk)`` and return its (n, d) float result; raise naming ``fn`` and the chunk otherwise."""
    block = np.asarray(fn(chunk))
    where = f"images {start} to {start + len(chunk) - 1}"
    if block.ndim != 2 or block.shape[0] != len(chunk):
        raise ValueError(f"feature function {_name(fn)} returned shape {block.shape} for {len(chunk)} images "
                         f"({where}); it must return one row per image, shape ({len(chunk)}, D)")
    if block.dtype.kind not in "fiub":
        raise TypeError(f"feature function {_name(fn)} returned dtype {block.dtype} ({where}); expected numbers")
    if not np.all(np.isfinite(block)):
        raise ValueError(f"feature function {_name(fn)} returned NaN or inf for {where}")
    return block


def extract_features(images, feature_fns, *, chunk_size=DEFAULT_CHUNK_SIZE, dtype=np.float32, progress=None,
                     desc="features"):
    """Apply feature functions to a batch of images chunk by chunk and stack their outputs side by side.

    Parameters
    ----------
    images : ndarray, shape (N, H, W, 3) or (N, H, W)
        The images, typically uint8; they are sliced, never copied or converted here.
    feature_fns : callable or sequence of callables
        Each maps a chunk of images ``(n, H, W[, 3])`` to an ``(n, D_i)`` array and must give the
        same ``D_i`` for every chunk.
    chunk_size : int, optional
        Images per call; peak memory grows with it, the call overhead shrinks.
    dtype : numpy dtype, optional
        Dtype of the result.
    progress : bool or None, optional
        Show a tqdm progress bar counted in images; None (default): in notebooks, for extractions
        longer than a second, but not under grading (:func:`cs231kit.runtime.show_progress`).
    desc : str, optional
        Label of the progress bar.

    Returns
    -------
    features : ndarray, shape (N, sum of D_i), dtype ``dtype``
        Row i holds ``fn(images)[i]`` of every function, in the order of ``feature_fns``; shape
        (0, 0) when there are no images.

    Raises
    ------
    ValueError, TypeError
        If a function returns the wrong number of rows, a non-numeric or non-finite array, or a
        different width than on the first chunk.
    """
    fns = [feature_fns] if callable(feature_fns) else list(feature_fns)
    if not fns:
        raise ValueError("feature_fns is empty: pass at least one feature function")
    if chunk_size < 1:
        raise ValueError(f"chunk_size must be a positive integer, got {chunk_size}")
    N = len(images)
    out, widths = None, None
    with progress_bar(total=N, progress=progress, desc=desc, unit="img") as bar:
        for start in range(0, N, chunk_size):
            chunk = images[start:start + chunk_size]
            blocks = [_checked_block(fn, chunk, start) for fn in fns]
            if out is None:
                widths = [b.shape[1] for b in blocks]
                out = np.empty((N, sum(widths)), dtype=dtype)
            _write_row_block(out, blocks, widths, fns, start)
            bar.update(len(chunk))
    return out if out is not None else np.empty((0, 0), dtype=dtype)


def _write_row_block(out, blocks, widths, fns, start):
    """Copy each function's block into its columns of ``out`` at rows ``start:start + n``."""
    column = 0
    for fn, block, width in zip(fns, blocks, widths):
        if block.shape[1] != width:
            raise ValueError(f"feature function {_name(fn)} returned {block.shape[1]} features for the chunk "
                             f"starting at image {start}, but {width} for the first chunk")
        out[start:start + len(block), column:column + width] = block
        column += width
