"""Datasets for the linear classifiers: CIFAR-10, an offline stand-in, splits, preprocessing.

Two datasets of the same shape are available:

``"offline"``
    32x32 patches of ten photographs bundled with scikit-image, one class per photograph, split by
    interleaved image regions so that no two splits share a pixel and val and test are drawn alike (see
    :func:`load_offline_dataset`). It needs no network and builds in about a second; a linear
    classifier reaches roughly CIFAR-10-like accuracy on it.
``"cifar10"``
    CIFAR-10, downloaded only by an explicit ``cs231kit data download`` (over https, md5-verified,
    written atomically) into :func:`data_dir`. Train is the first 49 000 training images, val the
    last 1 000, test the 10 000 test images.

The course chooses one of them in ``course.json`` at the course root (``{"dataset": "offline"}``);
students' notebooks, the grader and ``cs231kit data info`` all read it with :func:`course_dataset`,
so visible accuracy bars and grading use the same data. Nothing is downloaded implicitly: if the
course chose CIFAR-10 and it is not cached, :func:`load_dataset` raises :class:`DatasetNotDownloaded`
(one line in a notebook) instead of silently using other data. A :class:`Dataset` holds raw uint8
images; :func:`make_splits` applies the CS231n protocol (train / val / test / dev) and
:func:`preprocess_linear` turns the splits into what a linear classifier eats: flattened float32
rows, minus the training mean image, with the bias column of ones appended last.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import platformdirs

from cs231kit import _cifar10, _offline
from cs231kit._cifar10 import DatasetError, OneLineInNotebooks
from cs231kit.course import find_upwards

__all__ = [
    "CIFAR10_URL", "CIFAR10_MD5", "DATASET_ENV", "DATA_DIR_ENV", "DATASET_NAMES", "DEFAULT_DATASET",
    "COURSE_SETTINGS_FILE", "Dataset", "DatasetError", "DatasetNotDownloaded", "data_dir",
    "course_settings_path", "read_course_dataset", "course_dataset", "dataset_environment", "download_cifar10",
    "load_cifar10", "load_offline_dataset", "build_offline_dataset", "load_dataset",
    "OFFLINE_CACHE_ENV", "save_dataset", "read_saved_dataset",
    "Splits", "make_splits", "LinearData", "preprocess_linear", "append_bias",
]

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
DATASET_ENV = "CS231KIT_DATASET"
DATA_DIR_ENV = "CS231KIT_DATA"
OFFLINE_CACHE_ENV = "CS231KIT_OFFLINE_CACHE"
DATASET_NAMES = ("cifar10", "offline")
DEFAULT_DATASET = "offline"
COURSE_SETTINGS_FILE = "course.json"
CIFAR10_ARCHIVE = "cifar-10-python.tar.gz"
CIFAR10_NUM_VAL = 1000
DEFAULT_NUM_TEST = 1000
DEFAULT_NUM_DEV = 500
DEFAULT_DEV_FRACTION = 0.05


class DatasetNotDownloaded(OneLineInNotebooks, FileNotFoundError):
    """The course uses CIFAR-10 but it is not in the cache; ``cs231kit data download`` fetches it.

    In a notebook IPython shows only its one-line message, not a traceback.
    """


@dataclass(frozen=True)
class Dataset:
    """A labelled image dataset with its own train / val / test split, as raw uint8 images.

    Attributes
    ----------
    name : str
        ``"cifar10"`` or ``"offline"``.
    class_names : tuple of str, (10,)
        ``class_names[k]`` names label ``k``.
    X_train, X_val, X_test : ndarray, uint8, (N, 32, 32, 3)
        Images as (row, col, RGB channel).
    y_train, y_val, y_test : ndarray, int64, (N,)
        Labels in ``[0, 10)``.
    """

    name: str
    class_names: tuple
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


_ARRAY_FIELDS = ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test")  # of Dataset, in its order


def data_dir():
    """The cache directory for downloaded datasets (not created here).

    Returns
    -------
    pathlib.Path
        ``$CS231KIT_DATA`` if set and non-empty, else ``platformdirs.user_cache_dir("cs231kit")``.
    """
    override = os.environ.get(DATA_DIR_ENV, "").strip()
    if override:
        return Path(override).expanduser()
    return Path(platformdirs.user_cache_dir("cs231kit"))


def _archive_path(cache_dir):
    """Where the CIFAR-10 archive lives in ``cache_dir`` (default :func:`data_dir`)."""
    return Path(cache_dir if cache_dir is not None else data_dir()) / CIFAR10_ARCHIVE


def download_cifar10(cache_dir=None, *, url=CIFAR10_URL, md5=CIFAR10_MD5, progress=True,
                     timeout=30):
    """Make sure a verified CIFAR-10 archive is in the cache, downloading it if needed.

    An existing archive is only md5-checked. Otherwise the file is downloaded to
    ``<archive>.part`` (resuming a leftover ``.part`` with an HTTP Range request, or restarting it
    when the server ignores the range), fsync'ed, md5-checked, and only then renamed into place.

    Parameters
    ----------
    cache_dir : path-like, optional
        Directory of the archive; default :func:`data_dir`. Created if missing.
    url : str
        Where to download from (``file://`` URLs work too).
    md5 : str
        Expected hex md5 digest of the archive.
    progress : bool
        Show a tqdm progress bar while downloading.
    timeout : float
        Socket timeout in seconds.

    Returns
    -------
    pathlib.Path
        ``cache_dir / "cifar-10-python.tar.gz"``, verified.

    Raises
    ------
    OSError
        The download failed (``urllib.error.URLError``, timeout); no final file is written.
    DatasetError
        The archive (existing or just downloaded) has the wrong md5.
    """
    archive = _archive_path(cache_dir)
    if archive.exists():
        _cifar10.check_md5(archive, md5)
    else:
        _cifar10.fetch(url, archive, md5=md5, progress=progress, timeout=timeout)
    return archive


def load_cifar10(cache_dir=None):
    """Load CIFAR-10 from the cached archive (never downloads: see :func:`download_cifar10`).

    Parameters
    ----------
    cache_dir : path-like, optional
        Directory of the archive; default :func:`data_dir`.

    Returns
    -------
    Dataset
        ``name="cifar10"``; train: the first 49 000 training images (uint8 (49000, 32, 32, 3)),
        val: the last 1 000, test: the 10 000 test images.

    Raises
    ------
    DatasetNotDownloaded
        The archive is not cached.
    DatasetError
        The archive is corrupt (wrong md5, or unreadable); it is never used.
    """
    archive = _archive_path(cache_dir)
    if not archive.exists():
        raise DatasetNotDownloaded(f"this course uses CIFAR-10, which is not downloaded yet ({archive}): "
                                   f"run `cs231kit data download` in a terminal first.")
    _cifar10.check_md5(archive, CIFAR10_MD5)
    X, y, X_test, y_test, class_names = _cifar10.read_archive(archive)
    num_train = len(X) - CIFAR10_NUM_VAL
    return Dataset("cifar10", class_names, X[:num_train], y[:num_train], X[num_train:],
                   y[num_train:], X_test, y_test)


def load_offline_dataset():
    """Build the offline dataset: 32x32 patches of ten photographs bundled with scikit-image.

    One class per photograph, in label order: ``astronaut`` (``skimage.data.astronaut``), ``cat``
    (``chelsea``), ``coffee``, ``rocket``, ``motorcycle`` (left image of ``stereo_motorcycle``),
    ``retina``, ``cells`` (``immunohistochemistry``), ``galaxies`` (``hubble_deep_field``),
    ``brick`` and ``grass`` (both greyscale, stacked to RGB). Each photograph is rescaled so its
    short side is 256 px (anti-aliased). Rows [0, 80) and [120, 216) of every photograph give
    training patches (on an 8-px grid); rows [80, 120) and [216, 256) are cut into 64-px-wide
    blocks that alternate between validation and test like a checkerboard (patches on a 4-px grid),
    so that validation and test are drawn alike. A patch lies entirely inside one region: no two
    splits share a pixel. Val and test hold 100 evenly spaced patches per class; train holds every
    patch of its bands (464 to 720 per class). The result is deterministic, and no file is written.

    Where ``$CS231KIT_OFFLINE_CACHE`` names a readable file written by :func:`save_dataset` (the
    grader builds the dataset once per batch and hands its read-only copy to every sandbox), the
    dataset is read from there instead of being built (about a second).

    Returns
    -------
    Dataset
        ``name="offline"``; X_train uint8 (5712, 32, 32, 3), X_val and X_test (1000, 32, 32, 3),
        labels int64, each split in a fixed shuffled order.
    """
    cached = _cached_offline_dataset()
    return cached if cached is not None else build_offline_dataset()


def build_offline_dataset():
    """Build the offline dataset of :func:`load_offline_dataset`, whatever ``$CS231KIT_OFFLINE_CACHE`` says."""
    splits = _offline.build()
    arrays = [array for split in ("train", "val", "test") for array in splits[split][:2]]
    return Dataset("offline", _offline.CLASS_NAMES, *arrays)


def _cached_offline_dataset():
    """The offline dataset from ``$CS231KIT_OFFLINE_CACHE``, or None when it names no readable copy of it."""
    path = os.environ.get(OFFLINE_CACHE_ENV, "").strip()
    if not path:
        return None
    try:
        dataset = read_saved_dataset(path)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    return dataset if dataset.name == "offline" else None


def save_dataset(dataset, path):
    """Write a :class:`Dataset` to ``path`` as an uncompressed ``.npz`` (no pickled object in it).

    Parameters
    ----------
    dataset : Dataset
    path : str or Path
        The file to write (``.npz`` is not appended).
    """
    arrays = {f: getattr(dataset, f) for f in _ARRAY_FIELDS}
    with open(path, "wb") as file:
        np.savez(file, name=np.array(dataset.name), class_names=np.array(dataset.class_names), **arrays)


def read_saved_dataset(path):
    """Read a :class:`Dataset` written by :func:`save_dataset` (never unpickles: ``allow_pickle=False``).

    Returns
    -------
    Dataset
        With writable arrays of its own (student code may modify them in place).
    """
    with np.load(path, allow_pickle=False) as archive:
        arrays = [archive[f] for f in _ARRAY_FIELDS]
        return Dataset(str(archive["name"]), tuple(str(c) for c in archive["class_names"]), *arrays)


def course_settings_path(start=None):
    """The course's setting file ``course.json``, if there is one.

    Parameters
    ----------
    start : str or Path, optional
        Folder to search upwards from; defaults to the current working directory.

    Returns
    -------
    pathlib.Path or None
        ``$CS231KIT_COURSE_ROOT/course.json`` when that variable is set (None if the file is not
        there), else the nearest ``course.json`` in ``start`` or a folder above it, else None.
    """
    folder = find_upwards(COURSE_SETTINGS_FILE, start)
    return folder / COURSE_SETTINGS_FILE if folder is not None and (folder / COURSE_SETTINGS_FILE).is_file() else None


def _checked_name(name, where):
    """``name`` lower-cased if it is a dataset name, else a ValueError saying where it came from."""
    checked = str(name).strip().lower()
    if checked not in DATASET_NAMES:
        raise ValueError(f"unknown dataset {name!r} ({where}); valid names: {', '.join(DATASET_NAMES)}")
    return checked


def read_course_dataset(path):
    """The dataset a course setting file chooses.

    Parameters
    ----------
    path : str or Path or None
        A ``course.json``; None or a missing file means no setting.

    Returns
    -------
    str
        Its ``"dataset"``, else :data:`DEFAULT_DATASET` (``"offline"``).

    Raises
    ------
    ValueError
        The file is not a JSON object, or names no known dataset.
    """
    if path is None or not Path(path).is_file():
        return DEFAULT_DATASET
    try:
        settings = json.loads(Path(path).read_text(encoding="utf-8"))
    except ValueError as error:
        raise ValueError(f"{path} is not valid JSON ({error})") from None
    if not isinstance(settings, dict):
        raise ValueError(f'{path} must hold a JSON object such as {{"dataset": "offline"}}')
    return _checked_name(settings.get("dataset", DEFAULT_DATASET), str(path))


def course_dataset(start=None):
    """The name of the dataset in use, as students' notebooks and ``cs231kit data info`` see it.

    Parameters
    ----------
    start : str or Path, optional
        Where to look for ``course.json`` (see :func:`course_settings_path`); default: the cwd.

    Returns
    -------
    str
        ``$CS231KIT_DATASET`` if set (an individual override, and how the grader hands the course's
        choice to its sandboxed kernels), else the course's setting (:func:`read_course_dataset`).

    Raises
    ------
    ValueError
        The name is not one of :data:`DATASET_NAMES`, or ``course.json`` is malformed.
    """
    override = os.environ.get(DATASET_ENV, "").strip()
    if override:
        return _checked_name(override, f"${DATASET_ENV}")
    return read_course_dataset(course_settings_path(start))


def dataset_environment(root):
    """Environment variables that hand a course's dataset to processes that cannot read the course.

    The grader passes them to its sandboxed kernels and verification children, so that they use the
    course's setting (never the grader's own ``$CS231KIT_DATASET``) and its CIFAR-10 cache.

    Parameters
    ----------
    root : str or Path
        The course root.

    Returns
    -------
    dict of str
        ``{"CS231KIT_DATASET": <the setting of root/course.json>, "CS231KIT_DATA": str(data_dir())}``.
    """
    return {DATASET_ENV: read_course_dataset(Path(root) / COURSE_SETTINGS_FILE), DATA_DIR_ENV: str(data_dir())}


def load_dataset(name=None, *, cache_dir=None):
    """Load the course's dataset, or the one named; never downloads.

    Parameters
    ----------
    name : {"offline", "cifar10"}, optional
        Default: :func:`course_dataset` (``$CS231KIT_DATASET``, else ``course.json``, else offline).
    cache_dir : path-like, optional
        CIFAR-10 cache directory; default :func:`data_dir`.

    Returns
    -------
    Dataset

    Raises
    ------
    ValueError
        Unknown dataset name.
    DatasetNotDownloaded
        CIFAR-10 is asked for but not cached (``cs231kit data download`` fetches it).
    DatasetError
        The CIFAR-10 archive is corrupt.
    """
    name = course_dataset() if name is None else _checked_name(name, "the name asked for")
    if name == "offline":
        return load_offline_dataset()
    return load_cifar10(cache_dir)


@dataclass(frozen=True)
class Splits:
    """The CS231n splits of a dataset, still raw uint8 images.

    Attributes
    ----------
    X_train, X_val, X_test, X_dev : ndarray, uint8, (N, 32, 32, 3)
        ``X_dev`` is a random subset of ``X_train`` (for quick experiments).
    y_train, y_val, y_test, y_dev : ndarray, int64, (N,)
    class_names : tuple of str
    dataset_name : str
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    X_dev: np.ndarray
    y_dev: np.ndarray
    class_names: tuple
    dataset_name: str


def _checked_count(requested, default, available, what, dataset_name):
    """Resolve a requested split size against its default and what the dataset has."""
    count = default if requested is None else int(requested)
    if not 0 <= count <= available:
        raise ValueError(f"requested {what}={count}, but only {available} images are available "
                         f"(dataset {dataset_name!r})")
    return count


def make_splits(dataset, *, num_train=None, num_val=None, num_test=None, num_dev=None, seed=0):
    """Apply the CS231n split protocol to a :class:`Dataset`.

    Train, val and test are the *first* ``num_*`` images of the dataset's own splits (both datasets
    are stored in random order); dev is a seeded random subset, without replacement, of the chosen
    training images. Train and val are views of the dataset's arrays, not copies; test is a copy, so
    that the test images the protocol leaves out (CIFAR-10: 9 000 of 10 000, 28 MiB) are freed with the
    dataset instead of being kept alive by a view.

    Parameters
    ----------
    dataset : Dataset
    num_train, num_val : int, optional
        Default: all of the dataset's train / val images (CIFAR-10: 49 000 / 1 000).
    num_test : int, optional
        Default: ``min(1000, len(dataset.X_test))`` (CIFAR-10: 1 000 of its 10 000).
    num_dev : int, optional
        Default: ``min(500, round(0.05 * num_train))`` (CIFAR-10: 500).
    seed : int
        Seed of the dev subset.

    Returns
    -------
    Splits

    Raises
    ------
    ValueError
        A requested size is negative or exceeds what is available (dev: ``num_train``).
    """
    name = dataset.name
    N_train, N_val, N_test = len(dataset.X_train), len(dataset.X_val), len(dataset.X_test)
    num_train = _checked_count(num_train, N_train, N_train, "num_train", name)
    num_val = _checked_count(num_val, N_val, N_val, "num_val", name)
    num_test = _checked_count(num_test, min(DEFAULT_NUM_TEST, N_test), N_test, "num_test", name)
    default_dev = min(DEFAULT_NUM_DEV, round(DEFAULT_DEV_FRACTION * num_train))
    num_dev = _checked_count(num_dev, default_dev, num_train, "num_dev", name)
    dev = np.random.default_rng(seed).choice(num_train, size=num_dev, replace=False)
    return Splits(
        dataset.X_train[:num_train], dataset.y_train[:num_train],
        dataset.X_val[:num_val], dataset.y_val[:num_val],
        dataset.X_test[:num_test].copy(), dataset.y_test[:num_test].copy(),
        dataset.X_train[dev], dataset.y_train[dev],
        dataset.class_names, name,
    )


@dataclass(frozen=True)
class LinearData:
    """Splits preprocessed for linear classifiers.

    Attributes
    ----------
    X_train, X_val, X_test, X_dev : ndarray, float32, (N, D)
        Flattened images minus ``mean_image``; with the bias trick D = 3073 and the last column is
        all ones, else D = 3072.
    y_train, y_val, y_test, y_dev : ndarray, int64, (N,)
    mean_image : ndarray, float32, (32, 32, 3)
        The mean training image, subtracted from every split.
    class_names : tuple of str
    dataset_name : str
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    X_dev: np.ndarray
    y_dev: np.ndarray
    mean_image: np.ndarray
    class_names: tuple
    dataset_name: str


def _centered_rows(images, mean_row, bias):
    """Flatten and center images straight into float32, with an optional bias column of ones.

    Parameters
    ----------
    images : ndarray, uint8, (N, H, W, 3)
    mean_row : ndarray, float32, (D,)
        With D = H * W * 3.
    bias : bool

    Returns
    -------
    ndarray, float32, (N, D + 1) if bias else (N, D)
    """
    rows = images.reshape(len(images), -1)
    out = np.empty((len(rows), rows.shape[1] + bias), dtype=np.float32)
    # One float32 output buffer; the uint8 -> float32 cast happens chunk-wise inside the ufunc.
    np.subtract(rows, mean_row, out=out[:, : rows.shape[1]], dtype=np.float32)
    if bias:
        out[:, -1] = 1.0
    return out


def preprocess_linear(splits, *, bias=True):
    """Flatten, subtract the training mean image, and append the bias column (float32 only).

    The mean is accumulated in float64 over the uint8 training images (``np.mean`` casts in small
    buffers: no float64 copy of the training set), then cast to float32. The same training mean is
    subtracted from every split.

    Parameters
    ----------
    splits : Splits
        Images uint8 (N, 32, 32, 3).
    bias : bool
        Append a column of ones last (the bias trick).

    Returns
    -------
    LinearData
        X float32 (N, 3073) with ``bias`` (else (N, 3072)); ``mean_image`` float32 (32, 32, 3).
    """
    mean_image = np.mean(splits.X_train, axis=0, dtype=np.float64).astype(np.float32)
    mean_row = mean_image.ravel()
    X = {split: _centered_rows(getattr(splits, f"X_{split}"), mean_row, bias)
         for split in ("train", "val", "test", "dev")}
    return LinearData(
        X["train"], splits.y_train, X["val"], splits.y_val, X["test"], splits.y_test,
        X["dev"], splits.y_dev, mean_image, splits.class_names, splits.dataset_name,
    )


def append_bias(X):
    """Append a column of ones to ``X`` (the bias trick), keeping its dtype.

    Parameters
    ----------
    X : ndarray, (N, D)

    Returns
    -------
    ndarray, (N, D + 1), same dtype as ``X``
        ``X`` in the first D columns, ones in the last.
    """
    X = np.asarray(X)
    if X.ndim != 2:
        raise ValueError(f"append_bias expects a 2-D (N, D) array, got shape {X.shape}")
    return np.hstack([X, np.ones((len(X), 1), dtype=X.dtype)])
