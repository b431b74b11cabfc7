"""Plots for the notebooks: loss curves, class templates, tuning grids, examples, gradient-check
error maps, optimiser trajectories on 2-D landscapes, and image features (HOG glyphs, hue
histograms, codebooks, confusion matrices).

Every function labels its axes (image grids get titles instead), returns the Figure or Axes it drew
on and never calls ``plt.show()``: the notebook decides when to display.
"""

import matplotlib.pyplot as plt
import numpy as np

from cs231kit.gradcheck import ACCEPTABLE_REL_ERROR, GOOD_REL_ERROR, WRONG_REL_ERROR


def plot_loss_history(history, ax=None, *, label=None, title="Training loss"):
    """Plot one or several loss curves against the iteration.

    Parameters
    ----------
    history : sequence of float, TrainingResult, or dict
        One history (or an object with ``loss_history``), or ``name -> history`` for several curves.
    ax : matplotlib Axes, optional
        Where to draw; a new figure if omitted.
    label : str, optional
        Legend entry of a single history.
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    if ax is None:
        ax = plt.subplots()[1]
    curves = history if isinstance(history, dict) else {label: history}
    for name, values in curves.items():
        values = getattr(values, "loss_history", values)
        ax.plot(np.arange(len(values)), values, label=None if name is None else str(name))
    ax.set(xlabel="iteration", ylabel="loss", title=title)
    if any(name is not None for name in curves):
        ax.legend()
    return ax


def class_templates(W, *, image_shape=(32, 32, 3), bias=True):
    """The columns of W as images, each rescaled to [0, 255] on its own.

    Parameters
    ----------
    W : ndarray, shape (D, C)
        Weights of a linear classifier on flattened images; D = prod(image_shape) (+ 1 with a bias row).
    image_shape : tuple of int, optional
        Shape of one image, in the order its pixels were flattened.
    bias : bool, optional
        Drop W's last row (the bias trick) first.

    Returns
    -------
    templates : ndarray of uint8, shape (C, *image_shape)
        A constant column becomes all zeros.
    """
    W = np.asarray(W, dtype=np.float64)
    if bias:
        W = W[:-1]
    size = int(np.prod(image_shape))
    if W.shape[0] != size:
        dropped = " after dropping the bias row" if bias else ""
        raise ValueError(f"W has {W.shape[0]} rows{dropped}, but an image of shape {image_shape} has {size} values")
    templates = W.T.reshape(W.shape[1], *image_shape)
    pixel_axes = tuple(range(1, templates.ndim))
    low = templates.min(axis=pixel_axes, keepdims=True)
    span = templates.max(axis=pixel_axes, keepdims=True) - low
    return np.round(255 * (templates - low) / np.where(span > 0, span, 1)).astype(np.uint8)


def _image_grid(count, ncols, size=2.0):
    """A figure with ``count`` axes laid out in rows of ``ncols`` (spare axes removed)."""
    nrows = -(-count // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for spare in axes.flat[count:]:
        fig.delaxes(spare)
    return fig, list(axes.flat[:count])


def _show_image(ax, image):
    """Draw an (H, W, 3) or (H, W) image without ticks."""
    ax.imshow(image, cmap="gray" if image.ndim == 2 else None)
    ax.axis("off")


def show_class_templates(W, class_names, *, image_shape=(32, 32, 3), bias=True):
    """Show what each class's weights look for: one image per column of W (see :func:`class_templates`).

    Parameters
    ----------
    W : ndarray, shape (D, C)
    class_names : sequence of str, length C
        Titles of the templates.
    image_shape : tuple of int, optional
    bias : bool, optional
        Drop W's last row (the bias) first.

    Returns
    -------
    matplotlib Figure
        One axes per class.
    """
    templates = class_templates(W, image_shape=image_shape, bias=bias)
    if len(class_names) != len(templates):
        raise ValueError(f"W has C={len(templates)} columns but {len(class_names)} class names were given")
    fig, axes = _image_grid(len(templates), ncols=min(5, len(templates)))
    for ax, template, name in zip(axes, templates, class_names):
        _show_image(ax, template)
        ax.set_title(name)
    fig.suptitle("Class templates: columns of W, each rescaled to [0, 255]")
    return fig


def _axis_scale(values):
    """``"log"`` for positive values, ``"symlog"`` when a value is 0 (e.g. reg = 0)."""
    return "log" if min(values) > 0 else "symlog"


def plot_tuning_results(tuning_result):
    """Scatter the tuning grid: learning rate vs reg on log axes, coloured by validation accuracy.

    Parameters
    ----------
    tuning_result : TuningResult
        Its ``results`` map ``(learning_rate, reg) -> (train_acc, val_acc)``; NaN marks a diverged run.

    Returns
    -------
    matplotlib Figure
        The scatter plot, a labelled colourbar, the best run circled and diverged runs as grey crosses.
    """
    params = np.array(list(tuning_result.results), dtype=np.float64)
    val = np.array([accuracies[1] for accuracies in tuning_result.results.values()], dtype=np.float64)
    fig, ax = plt.subplots(layout="constrained")
    ok = ~np.isnan(val)
    points = ax.scatter(params[ok, 0], params[ok, 1], c=val[ok], s=120, cmap="viridis")
    fig.colorbar(points, ax=ax, label="validation accuracy")
    if not ok.all():
        ax.scatter(params[~ok, 0], params[~ok, 1], marker="x", s=80, color="grey", label="diverged")
    if tuning_result.best_params is not None:
        lr, reg = tuning_result.best_params
        ax.scatter([lr], [reg], s=400, facecolors="none", edgecolors="red", linewidths=2,
                   label=f"best: lr={lr:g}, reg={reg:g} (val. acc. {tuning_result.best_val_accuracy:.3f})")
    ax.set_xscale(_axis_scale(params[:, 0]))
    ax.set_yscale(_axis_scale(params[:, 1]))
    ax.set(xlabel="learning rate (log scale)", ylabel="regularisation strength reg (log scale)",
           title="Validation accuracy of the tuning grid")
    ax.margins(0.15)
    fig.legend(loc="outside lower center", ncols=2, fontsize="small", markerscale=0.5)
    return fig


def show_examples(images, labels, class_names, *, per_class=6, seed=0):
    """A grid of example images: one column per class, ``per_class`` seeded random examples in each.

    Parameters
    ----------
    images : ndarray of uint8, shape (N, H, W, 3)
    labels : ndarray of int, shape (N,)
    class_names : sequence of str, length C
        Column titles; class c is ``class_names[c]``.
    per_class : int, optional
        Rows of the grid (a class with fewer examples leaves blanks).
    seed : int, optional
        Seed of the examples drawn.

    Returns
    -------
    matplotlib Figure
        ``per_class * C`` axes.
    """
    images, labels = np.asarray(images), np.asarray(labels)
    if images.dtype != np.uint8:
        raise TypeError(f"images must be uint8 (N, H, W, 3), but their dtype is {images.dtype}: pass the raw images")
    rng = np.random.default_rng(seed)
    C = len(class_names)
    fig, axes = plt.subplots(per_class, C, figsize=(1.2 * C, 1.2 * per_class), squeeze=False)
    for c, name in enumerate(class_names):
        pool = np.flatnonzero(labels == c)
        chosen = rng.choice(pool, size=min(per_class, pool.size), replace=False)
        for row, ax in enumerate(axes[:, c]):
            ax.axis("off")
            if row < chosen.size:
                _show_image(ax, images[chosen[row]])
        axes[0, c].set_title(name)
    return fig


def plot_gradient_errors(report_or_rel_error_map, ax=None, *, title=None):
    """Heat map of the relative errors of a 2-D gradient, on a log10 scale.

    Parameters
    ----------
    report_or_rel_error_map : GradientReport or ndarray, shape (D, C)
        A report of :func:`cs231kit.gradcheck.check_gradient` (unchecked entries are left blank) or
        a map from :func:`cs231kit.gradcheck.relative_error_map`.
    ax : matplotlib Axes, optional
    title : str, optional
        Defaults to "relative error of <name>".

    Returns
    -------
    matplotlib Axes
        The colourbar marks the rule-of-thumb thresholds (good, acceptable near kinks, wrong).
    """
    source = report_or_rel_error_map
    rel = source.rel_error_map() if hasattr(source, "rel_error_map") else np.asarray(source, dtype=np.float64)
    if rel.ndim != 2:
        raise ValueError(f"a heat map needs a 2-D gradient, such as dW of shape (D, C); got shape {rel.shape}")
    if ax is None:
        ax = plt.subplots(layout="constrained")[1]
    cmap = plt.get_cmap("magma").with_extremes(bad="lightgrey")
    image = ax.imshow(np.log10(np.maximum(rel, 1e-16)), aspect="auto", interpolation="nearest", cmap=cmap,
                      vmin=-16, vmax=0)
    thresholds = {"good": GOOD_REL_ERROR, "near kinks": ACCEPTABLE_REL_ERROR, "wrong": WRONG_REL_ERROR}
    bar = ax.figure.colorbar(image, ax=ax, label="log10 relative error")
    bar.set_ticks(np.log10(list(thresholds.values())), labels=[f"{v:.0e} ({k})" for k, v in thresholds.items()])
    ax.set(xlabel="class (column of W)", ylabel="input dimension (row of W)",
           title=title or f"relative error of {getattr(source, 'name', 'the gradient')}")
    return ax


# ------------------------------------------------------------------------------ image features
# Helpers for the features notebook. They draw what the notebook computed (e.g. HOG cell
# histograms) and never compute a feature themselves: the features are the students' work.


def hog_glyph_segments(cell_histograms, *, cell_size=8):
    """Line segments of the classic HOG picture: one segment per cell and orientation bin.

    Bin ``b`` of ``B`` collects gradients whose direction ``arctan2(d_row, d_col)`` lies in
    ``[b, b + 1) * 180 / B`` degrees. Its segment is centred on the cell and drawn along the edge,
    perpendicular to the bin's middle gradient direction.

    Parameters
    ----------
    cell_histograms : ndarray, shape (R, C, B)
        Orientation histograms of an image's R x C cells (one image, not a batch).
    cell_size : int, optional
        Pixels per cell side.

    Returns
    -------
    segments : ndarray, shape (R * C * B, 2, 2)
        End points ``[[x0, y0], [x1, y1]]`` in image coordinates (x = column, y = row, pixel
        centres at integers), ordered like ``cell_histograms.reshape(-1)``.
    weights : ndarray, shape (R * C * B,)
        The histogram values, ``cell_histograms.reshape(-1)``.
    """
    hist = np.asarray(cell_histograms, dtype=np.float64)
    if hist.ndim != 3:
        raise ValueError(f"cell_histograms must be (R, C, B) for one image; got shape {hist.shape}")
    R, C, B = hist.shape
    theta = np.deg2rad((np.arange(B) + 0.5) * 180.0 / B)
    edge = np.stack([-np.sin(theta), np.cos(theta)], axis=-1) * (cell_size / 2 - 0.5)  # (B, 2) as (x, y)
    rows, cols = np.meshgrid(np.arange(R), np.arange(C), indexing="ij")
    centres = np.stack([cols, rows], axis=-1) * cell_size + (cell_size - 1) / 2  # (R, C, 2) as (x, y)
    centres = centres[:, :, None, :]
    segments = np.stack([centres - edge, centres + edge], axis=-2)  # (R, C, B, 2, 2)
    return segments.reshape(-1, 2, 2), hist.reshape(-1)


def show_hog_glyphs(image, cell_histograms, ax=None, *, cell_size=8, title="HOG cell histograms"):
    """Draw HOG glyphs over an image: in every cell, one line per orientation bin, brighter when stronger.

    Parameters
    ----------
    image : ndarray, shape (H, W, 3) or (H, W)
        The image the histograms were computed from (uint8, or float in [0, 255]); shown dimmed.
    cell_histograms : ndarray, shape (R, C, B)
        Its cell histograms, with R = H // cell_size and C = W // cell_size.
    ax : matplotlib Axes, optional
    cell_size : int, optional
    title : str, optional

    Returns
    -------
    matplotlib Axes
    """
    from matplotlib.collections import LineCollection

    image = np.asarray(image)
    segments, weights = hog_glyph_segments(cell_histograms, cell_size=cell_size)
    R, C = np.shape(cell_histograms)[:2]
    if (image.shape[0] // cell_size, image.shape[1] // cell_size) != (R, C):
        raise ValueError(f"an image of shape {image.shape[:2]} has {image.shape[0] // cell_size} x "
                         f"{image.shape[1] // cell_size} cells of {cell_size} pixels, but the histograms have {R} x {C}")
    if ax is None:
        ax = plt.subplots()[1]
    ax.imshow(np.asarray(image, dtype=np.float64) / 255, cmap="gray", vmin=0, vmax=1, alpha=0.5)
    strength = weights / weights.max() if weights.max() > 0 else weights
    colours = np.zeros((len(weights), 4))
    colours[:, :3] = (1.0, 0.85, 0.0)
    colours[:, 3] = strength
    ax.add_collection(LineCollection(segments, colors=colours, linewidths=0.5 + 1.5 * strength))
    ax.set(title=title, xlabel="column (pixels)", ylabel="row (pixels)")
    return ax


def plot_hue_histograms(histograms, titles=None, *, ncols=4):
    """Bar charts of hue histograms, each bar in the colour of its hue.

    Parameters
    ----------
    histograms : ndarray, shape (K, nbins) or (nbins,)
        Hue histograms over ``[0, 1)`` split into ``nbins`` equal bins (e.g. fractions of pixels).
    titles : sequence of str, length K, optional
    ncols : int, optional
        Charts per row.

    Returns
    -------
    matplotlib Figure
        One axes per histogram.
    """
    from matplotlib.colors import hsv_to_rgb

    histograms = np.atleast_2d(np.asarray(histograms, dtype=np.float64))
    K, nbins = histograms.shape
    if titles is not None and len(titles) != K:
        raise ValueError(f"{K} histograms but {len(titles)} titles")
    centres = (np.arange(nbins) + 0.5) / nbins
    colours = hsv_to_rgb(np.stack([centres, np.ones(nbins), np.ones(nbins)], axis=-1))
    fig, axes = _image_grid(K, ncols=min(ncols, K), size=2.6)
    for k, ax in enumerate(axes):
        ax.bar(centres, histograms[k], width=1 / nbins, color=colours, edgecolor="black", linewidth=0.5)
        ax.set(xlim=(0, 1), xlabel="hue", ylabel="fraction of pixels",
               title=titles[k] if titles is not None else f"histogram {k}")
    fig.tight_layout()
    return fig


def codebook_mosaic(codebook, patch_shape, *, ncols=10):
    """Tile k-means centroids into one image: each patch rescaled to [0, 255] on its own, white gaps.

    Parameters
    ----------
    codebook : ndarray, shape (k, D)
        One codeword per row, with D = prod(patch_shape).
    patch_shape : tuple of int
        ``(p, q)`` for grey patches or ``(p, q, 3)`` for colour ones.
    ncols : int, optional
        Patches per row of the mosaic.

    Returns
    -------
    mosaic : ndarray of uint8, shape (rows * (p + 1) - 1, ncols * (q + 1) - 1[, 3])
        Patch i at row ``i // ncols`` and column ``i % ncols`` of the grid; unused tiles stay white.
    """
    codebook = np.asarray(codebook, dtype=np.float64)
    if codebook.ndim != 2 or codebook.shape[1] != int(np.prod(patch_shape)):
        raise ValueError(f"codebook must be (k, {int(np.prod(patch_shape))}) for patches of shape {patch_shape}; "
                         f"got shape {codebook.shape}")
    patches = class_templates(codebook.T, image_shape=tuple(patch_shape), bias=False)
    p, q = patch_shape[:2]
    nrows = -(-len(patches) // ncols)
    mosaic = np.full((nrows * (p + 1) - 1, ncols * (q + 1) - 1, *patch_shape[2:]), 255, dtype=np.uint8)
    for i, patch in enumerate(patches):
        row, col = divmod(i, ncols)
        mosaic[row * (p + 1):row * (p + 1) + p, col * (q + 1):col * (q + 1) + q] = patch
    return mosaic


def show_codebook(codebook, patch_shape, ax=None, *, ncols=10, title="Codebook: one patch per codeword"):
    """Show k-means centroids as a mosaic of image patches (see :func:`codebook_mosaic`).

    Parameters
    ----------
    codebook : ndarray, shape (k, D)
    patch_shape : tuple of int
    ax : matplotlib Axes, optional
    ncols : int, optional
    title : str, optional

    Returns
    -------
    matplotlib Axes
        One image: codeword i is the i-th tile, row by row.
    """
    mosaic = codebook_mosaic(codebook, patch_shape, ncols=ncols)
    if ax is None:
        ax = plt.subplots(figsize=(0.45 * mosaic.shape[1] / (patch_shape[1] + 1) + 1,
                                   0.45 * mosaic.shape[0] / (patch_shape[0] + 1) + 0.6))[1]
    _show_image(ax, mosaic)
    ax.set_title(title)
    return ax


def confusion_matrix(y_true, y_pred, num_classes):
    """Counts of (true class, predicted class) pairs.

    Parameters
    ----------
    y_true, y_pred : ndarray of int, shape (N,)
    num_classes : int

    Returns
    -------
    ndarray of int64, shape (num_classes, num_classes)
        Entry ``[i, j]``: how many examples of class i were predicted as class j.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true has shape {y_true.shape} but y_pred has shape {y_pred.shape}")
    pairs = y_true.astype(np.int64) * num_classes + y_pred
    return np.bincount(pairs, minlength=num_classes * num_classes).reshape(num_classes, num_classes)


def plot_confusion_matrix(y_true, y_pred, class_names, ax=None, *, title="Confusion matrix"):
    """Heat map of the confusion matrix with rows normalised to 1 (each row: where a class went).

    Parameters
    ----------
    y_true, y_pred : ndarray of int, shape (N,)
    class_names : sequence of str, length C
    ax : matplotlib Axes, optional
    title : str, optional

    Returns
    -------
    matplotlib Axes
        Each cell is annotated with its fraction; the diagonal holds the per-class accuracy.
    """
    C = len(class_names)
    counts = confusion_matrix(y_true, y_pred, C)
    fractions = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    if ax is None:
        ax = plt.subplots(figsize=(0.6 * C + 2, 0.6 * C + 1.5), layout="constrained")[1]
    image = ax.imshow(fractions, cmap="Blues", vmin=0, vmax=1)
    ax.figure.colorbar(image, ax=ax, label="fraction of the true class")
    for (i, j), value in np.ndenumerate(fractions):
        ax.text(j, i, f"{value:.2f}", ha="center", va="center", fontsize=7,
                color="white" if value > 0.5 else "black")
    ax.set_xticks(range(C), class_names, rotation=45, ha="right")
    ax.set_yticks(range(C), class_names)
    ax.set(xlabel="predicted class", ylabel="true class", title=title)
    return ax


def _landscape_grid(landscape, resolution):
    """``x, y, f(x, y)`` on a ``resolution`` x ``resolution`` grid over the landscape's bounds."""
    (x_min, x_max), (y_min, y_max) = landscape.bounds
    x, y = np.meshgrid(np.linspace(x_min, x_max, resolution), np.linspace(y_min, y_max, resolution))
    return x, y, landscape.value(x, y)


def plot_trajectories(landscape, paths=None, ax=None, *, title=None, num_levels=25, resolution=200):
    """Draw optimiser paths over the contour lines of a 2-D landscape.

    Contour levels are quantiles of f over the plotted window, so that flat valleys and steep walls
    (Rosenbrock's f spans 0 to thousands) both get lines. Minima are marked with stars.

    Parameters
    ----------
    landscape : cs231kit.landscapes.Landscape
    paths : dict, optional
        ``label -> ndarray of shape (K + 1, 2)``, e.g. from :func:`cs231kit.landscapes.run_update_rule`.
        Each path is a line with a dot per step; its start is a circle and its end a cross.
    ax : matplotlib Axes, optional
    title : str, optional
        Defaults to the landscape's name.
    num_levels : int, optional
    resolution : int, optional
        Grid points per axis of the contour plot.

    Returns
    -------
    matplotlib Axes
        The window is the landscape's bounds: a diverging path leaves it.
    """
    if ax is None:
        ax = plt.subplots(figsize=(6, 4.5), layout="constrained")[1]
    x, y, f = _landscape_grid(landscape, resolution)
    ax.contour(x, y, f, levels=np.unique(np.quantile(f, np.linspace(0, 1, num_levels))), cmap="Greys", linewidths=0.7)
    ax.plot(*np.transpose(landscape.minima), "*", color="gold", markeredgecolor="black", markersize=14,
            label="minima", linestyle="none")
    for label, path in (paths or {}).items():
        path = np.asarray(path, dtype=np.float64)
        line = ax.plot(path[:, 0], path[:, 1], ".-", markersize=3, linewidth=1.2, label=label)[0]
        ax.plot(*path[0], "o", color=line.get_color(), fillstyle="none")
        ax.plot(*path[-1], "x", color=line.get_color(), markersize=8)
    (x_min, x_max), (y_min, y_max) = landscape.bounds
    ax.set(xlim=(x_min, x_max), ylim=(y_min, y_max), xlabel="x (first parameter)", ylabel="y (second parameter)",
           title=title or landscape.name)
    ax.legend(fontsize="small", loc="best")
    return ax
