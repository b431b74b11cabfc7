"""Fetch, verify and read the CIFAR-10 python archive (private helpers of :mod:`cs231kit.data`).

The archive is downloaded into ``<archive>.part`` and only renamed to its final name, with
``os.replace``, once it is complete, fsync'ed and its md5 matches: a final file is therefore
always a whole, verified archive. An interrupted download leaves its ``.part`` behind and the next
attempt resumes it with an HTTP ``Range`` request (or restarts it cleanly if the server ignores
the range). Reading never extracts to disk: only the seven expected pickles are read from the tar,
through an unpickler that accepts nothing but plain containers and numpy arrays.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import re
import tarfile

import numpy as np

MEMBER_DIR = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
META = "batches.meta"
_CHUNK = 1 << 20
IMAGE_BYTES = 3 * 32 * 32  # one image of a batch's b"data": 1024 red, green, blue values


class OneLineInNotebooks:
    """Mixin of exceptions whose message says everything: IPython shows that line, not a traceback."""

    def _render_traceback_(self):
        """What IPython displays instead of the traceback (list of lines)."""
        return [f"{type(self).__name__}: {self}"]


class DatasetError(OneLineInNotebooks, RuntimeError):
    """A dataset file is corrupt or incomplete; the message names the file and the remedy."""


def file_md5(path):
    """Hex md5 digest of a file, read in chunks.

    Parameters
    ----------
    path : path-like

    Returns
    -------
    str
        32 lowercase hex digits.
    """
    digest = hashlib.md5()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_md5(path, md5):
    """Raise :class:`DatasetError` unless the file at ``path`` has the md5 digest ``md5``.

    Parameters
    ----------
    path : pathlib.Path
    md5 : str
        Expected hex digest.
    """
    actual = file_md5(path)
    if actual != md5.lower():
        raise DatasetError(
            f"{path} is corrupt or incomplete (md5 {actual}, expected {md5}). "
            f"Delete it and download it again (`cs231kit data download`)."
        )


def _open_range(url, start, timeout):
    """Open ``url`` asking for its bytes from ``start`` on; return (response, resumed)."""
    import urllib.error  # here, not at the top: every kernel imports this module, few ever download
    import urllib.request

    request = urllib.request.Request(url)
    if start:
        request.add_header("Range", f"bytes={start}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        if error.code != 416 or not start:  # 416: the .part is not a prefix we can extend
            raise
        return _open_range(url, 0, timeout)
    match = re.match(r"bytes (\d+)-", response.headers.get("Content-Range", ""))
    resumed = bool(start and response.status == 206 and match and int(match[1]) == start)
    return response, resumed


def _progress_bar(response, initial, enabled, name):
    """A tqdm byte counter starting at ``initial``, sized from the response's Content-Length."""
    from tqdm.auto import tqdm

    length = response.headers.get("Content-Length")
    total = initial + int(length) if length else None
    return tqdm(total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1024,
                desc=name, disable=not enabled)


def fetch(url, dest, *, md5, progress, timeout):
    """Download ``url`` to ``dest`` atomically and resumably, then verify its md5.

    Parameters
    ----------
    url : str
        Any URL ``urllib`` opens (https, http, file).
    dest : pathlib.Path
        Final path; its parent is created. The download goes to ``dest + ".part"`` first.
    md5 : str
        Expected hex digest of the whole file.
    progress : bool
        Show a tqdm progress bar.
    timeout : float
        Socket timeout in seconds.

    Raises
    ------
    OSError
        Network failures (``urllib.error.URLError``, timeouts); the ``.part`` is kept for resuming.
    DatasetError
        The downloaded file has the wrong md5; the ``.part`` is deleted.
    """
    md5 = md5.lower()
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    start = part.stat().st_size if part.exists() else 0
    if not (start and file_md5(part) == md5):
        response, resumed = _open_range(url, start, timeout)
        start = start if resumed else 0
        with response, open(part, "ab" if resumed else "wb") as file, \
                _progress_bar(response, start, progress, dest.name) as bar:
            for chunk in iter(lambda: response.read(_CHUNK), b""):
                file.write(chunk)
                bar.update(len(chunk))
            file.flush()
            os.fsync(file.fileno())
    try:
        check_md5(part, md5)
    except DatasetError:
        part.unlink()
        raise DatasetError(f"the download of {url} is corrupt (wrong md5) and was deleted; "
                           f"try again (`cs231kit data download`).") from None
    os.replace(part, dest)


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickler that only rebuilds numpy arrays and builtin containers (no arbitrary code)."""

    _ALLOWED = {
        ("numpy", "ndarray"), ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
        ("numpy.core.numeric", "_frombuffer"), ("numpy._core.numeric", "_frombuffer"),
        ("_codecs", "encode"),
    }

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to unpickle {module}.{name}")
        return super().find_class(module, name)


def _member(tar, name):
    """The regular-file member ``cifar-10-batches-py/<name>`` of an open tar."""
    member = tar.getmember(f"{MEMBER_DIR}/{name}")
    if not member.isfile():
        raise tarfile.TarError(f"{member.name} is not a regular file")
    return member


def _unpickle(tar, member):
    """Unpickle a member straight from the tar stream (bytes keys, as written by Py2)."""
    with tar.extractfile(member) as file:
        return _ArrayUnpickler(file, encoding="bytes").load()


def _images_and_labels(batch):
    """Convert one batch dict to ``(X, y)``: uint8 (N, 32, 32, 3) and int64 (N,)."""
    data = np.asarray(batch[b"data"], dtype=np.uint8)
    labels = np.asarray(batch[b"labels"], dtype=np.int64)
    if data.ndim != 2 or data.shape[1] != IMAGE_BYTES or len(labels) != len(data):
        raise ValueError(f"batch has data {data.shape} and {len(labels)} labels")
    # Each row holds the 1024 red, then green, then blue values of a row-major 32x32 image.
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


def _read_batches(tar, names):
    """Read the named batches, in order, into one C-contiguous image array and one label array.

    Each batch is copied into place as soon as it is unpickled, so one batch at a time is held beside
    the result (concatenating them afterwards would hold all of them, and ``np.concatenate`` would keep
    their strided layout, which every later ``reshape(N, -1)`` copies). The buffer is sized by the
    members' byte counts, an upper bound of their images; its pages past the last image are never
    touched, so they cost no memory.

    Returns
    -------
    X : ndarray, uint8, (N, 32, 32, 3), C-contiguous
    y : ndarray, int64, (N,)
    """
    members = [_member(tar, name) for name in names]
    X = np.empty((sum(member.size for member in members) // IMAGE_BYTES, 32, 32, 3), dtype=np.uint8)
    labels, count = [], 0
    for member in members:
        images, batch_labels = _images_and_labels(_unpickle(tar, member))
        X[count:count + len(images)] = images
        count += len(images)
        labels.append(batch_labels)
    return X[:count], np.concatenate(labels)


def read_archive(path):
    """Read the CIFAR-10 python archive without extracting it to disk.

    Parameters
    ----------
    path : pathlib.Path
        The (already md5-verified) ``cifar-10-python.tar.gz``.

    Returns
    -------
    X_train : ndarray, uint8, (50000, 32, 32, 3), C-contiguous
        The five training batches in order.
    y_train : ndarray, int64, (50000,)
    X_test : ndarray, uint8, (10000, 32, 32, 3), C-contiguous
    y_test : ndarray, int64, (10000,)
    class_names : tuple of str
        The 10 label names.

    Raises
    ------
    DatasetError
        The archive cannot be decompressed, lacks a member, or holds malformed pickles.
    """
    try:
        with tarfile.open(path, "r:gz") as tar:
            X_train, y_train = _read_batches(tar, TRAIN_BATCHES)
            X_test, y_test = _read_batches(tar, (TEST_BATCH,))
            names = tuple(name.decode() for name in _unpickle(tar, _member(tar, META))[b"label_names"])
    except (OSError, EOFError, KeyError, ValueError, TypeError, tarfile.TarError,
            pickle.UnpicklingError) as error:
        raise DatasetError(
            f"{path} is not a readable CIFAR-10 archive ({type(error).__name__}: {error}). "
            f"Delete it and download it again (`cs231kit data download`)."
        ) from error
    return X_train, y_train, X_test, y_test, names
