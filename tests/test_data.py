"""Tests of cs231kit.data: CIFAR-10 archive handling, the offline dataset, splits, preprocessing.

No test touches the network: CIFAR-10 is replaced by a tiny archive in the exact python format
(pickled dicts with bytes keys, written like Python 2's, inside ``cifar-10-batches-py/`` in a
tar.gz), served through ``file://`` URLs or a fake ``urlopen``.
"""

import hashlib
import io
import json
import os
import pickle
import shutil
import tarfile
import tracemalloc
import urllib.error
import urllib.request
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from cs231kit import _offline, data
from cs231kit.course import COURSE_ROOT_ENV
from cs231kit.data import DatasetError, DatasetNotDownloaded

PER_BATCH = 220  # 5 batches: 1100 training images = 100 train + the last 1000 as val
NUM_TEST = 30
NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
KNOWN_PIXEL = (1, 2, (10, 20, 30))  # row, col, RGB of training image 0


# --------------------------------------------------------------------------- tiny CIFAR-10 archive


def _py2_pickle(obj):
    """Pickle like the original archive: protocol 2, numpy globals under ``numpy.core``."""
    return pickle.dumps(obj, protocol=2).replace(b"numpy._core.", b"numpy.core.")


def _channel_major(images):
    """Encode (N, 32, 32, 3) images as CIFAR rows: 1024 red, 1024 green, 1024 blue values."""
    rows = np.empty((len(images), 3072), dtype=np.uint8)
    for channel in range(3):
        rows[:, channel * 1024:(channel + 1) * 1024] = images[..., channel].reshape(-1, 1024)
    return rows


def _write_archive(path, members):
    """Write ``{name: bytes}`` as ``cifar-10-batches-py/<name>`` into a tar.gz."""
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for name, payload in members.items():
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))


def _md5(path):
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def cifar(tmp_path_factory):
    """A tiny CIFAR-10 archive: its path, md5, and the images and labels it holds."""
    rng = np.random.default_rng(0)
    X = rng.integers(0, 256, size=(5 * PER_BATCH + NUM_TEST, 32, 32, 3), dtype=np.uint8)
    y = rng.integers(0, 10, size=len(X))
    row, col, rgb = KNOWN_PIXEL
    X[0, row, col] = rgb
    members = {}
    for b in range(5):
        part = slice(b * PER_BATCH, (b + 1) * PER_BATCH)
        members[f"data_batch_{b + 1}"] = _py2_pickle(
            {b"batch_label": b"training batch", b"labels": [int(v) for v in y[part]],
             b"data": _channel_major(X[part]), b"filenames": [b"x.png"] * PER_BATCH})
    members["test_batch"] = _py2_pickle(
        {b"labels": [int(v) for v in y[-NUM_TEST:]], b"data": _channel_major(X[-NUM_TEST:])})
    members["batches.meta"] = _py2_pickle({b"label_names": [n.encode() for n in NAMES]})
    path = tmp_path_factory.mktemp("archive") / data.CIFAR10_ARCHIVE
    _write_archive(path, members)
    return {"path": path, "md5": _md5(path), "X": X, "y": y, "members": members}


@pytest.fixture
def cache(tmp_path, cifar, monkeypatch):
    """An empty cache directory, with the tiny archive's md5 as the expected CIFAR-10 md5."""
    monkeypatch.setattr(data, "CIFAR10_MD5", cifar["md5"])
    monkeypatch.delenv(data.DATASET_ENV, raising=False)
    return tmp_path / "cache"


def _cache_archive(cache, source):
    cache.mkdir(exist_ok=True)
    return shutil.copy(source, cache / data.CIFAR10_ARCHIVE)


def test_load_cifar10_layout_shapes_and_pixels(cache, cifar):
    _cache_archive(cache, cifar["path"])
    ds = data.load_cifar10(cache)
    n_train = 5 * PER_BATCH - data.CIFAR10_NUM_VAL
    assert (ds.name, ds.class_names) == ("cifar10", NAMES)
    assert ds.X_train.shape == (n_train, 32, 32, 3) and ds.X_val.shape == (1000, 32, 32, 3)
    assert ds.X_test.shape == (NUM_TEST, 32, 32, 3)
    for X, y in [(ds.X_train, ds.y_train), (ds.X_val, ds.y_val), (ds.X_test, ds.y_test)]:
        assert X.dtype == np.uint8 and y.dtype == np.int64 and len(y) == len(X)
        assert X.flags.c_contiguous  # so that reshape(N, -1) in preprocess_linear is a view, not a copy
    row, col, rgb = KNOWN_PIXEL
    assert tuple(ds.X_train[0, row, col]) == rgb
    np.testing.assert_array_equal(np.concatenate([ds.X_train, ds.X_val, ds.X_test]), cifar["X"])
    np.testing.assert_array_equal(np.concatenate([ds.y_train, ds.y_val, ds.y_test]), cifar["y"])


def test_load_dataset_uses_cached_cifar10_without_warning(cache, cifar, recwarn):
    _cache_archive(cache, cifar["path"])
    assert data.load_dataset("cifar10", cache_dir=cache).name == "cifar10"
    assert not recwarn.list


def test_modified_archive_is_rejected_by_md5(cache, cifar):
    archive = _cache_archive(cache, cifar["path"])
    payload = bytearray(archive.read_bytes())
    payload[len(payload) // 2] ^= 0xFF
    archive.write_bytes(bytes(payload))
    for load in (data.load_cifar10, partial(data.load_dataset, "cifar10")):
        with pytest.raises(DatasetError, match=r"(?s)cifar-10-python\.tar\.gz.*md5.*Delete") as caught:
            load(cache_dir=cache)
        assert caught.value._render_traceback_() == [f"DatasetError: {caught.value}"]  # one line in a notebook


@pytest.mark.parametrize("damage", ["truncated", "missing member", "code in pickle"])
def test_unreadable_archive_with_matching_md5_raises(cache, cifar, monkeypatch, damage):
    archive = cache / data.CIFAR10_ARCHIVE
    cache.mkdir()
    if damage == "truncated":
        archive.write_bytes(cifar["path"].read_bytes()[: cifar["path"].stat().st_size // 2])
    else:
        members = dict(cifar["members"])
        if damage == "missing member":
            del members["test_batch"]
        else:  # a pickle that would run os.system when loaded
            members["test_batch"] = pickle.dumps(os.system, protocol=2)
        _write_archive(archive, members)
    monkeypatch.setattr(data, "CIFAR10_MD5", _md5(archive))  # md5 passes: reading must catch it
    with pytest.raises(DatasetError, match=r"not a readable CIFAR-10 archive.*Delete"):
        data.load_dataset("cifar10", cache_dir=cache)


# --------------------------------------------------------------------------- downloading


class _FakeResponse(io.BytesIO):
    """What ``urlopen`` returns: a readable body with a status and headers."""

    def __init__(self, body, status=200, headers=None, fail_after=None):
        super().__init__(body)
        self.status, self.headers, self.fail_after = status, headers or {}, fail_after

    def read(self, size=-1):
        if self.fail_after is not None and self.tell() >= self.fail_after:
            raise ConnectionResetError("connection lost")
        return super().read(min(size, 4096) if size > 0 else size)


def _fake_server(monkeypatch, payload, honour_range=True, fail_after=None):
    """Serve ``payload`` through a fake urlopen; return the list of Range headers it received."""
    ranges = []

    def urlopen(request, timeout):
        header = request.get_header("Range")
        ranges.append(header)
        if header and honour_range:
            start = int(header.split("=")[1].rstrip("-"))
            if start >= len(payload):
                raise urllib.error.HTTPError(request.full_url, 416, "Range Not Satisfiable",
                                             {}, None)
            headers = {"Content-Range": f"bytes {start}-{len(payload) - 1}/{len(payload)}",
                       "Content-Length": str(len(payload) - start)}
            return _FakeResponse(payload[start:], 206, headers, fail_after)
        return _FakeResponse(payload, 200, {"Content-Length": str(len(payload))}, fail_after)

    monkeypatch.setattr(urllib.request, "urlopen", urlopen)
    return ranges


def _download(cache, cifar, url="https://example.invalid/cifar.tgz", md5=None):
    return data.download_cifar10(cache, url=url, md5=md5 or cifar["md5"], progress=False)


def test_download_from_file_url_writes_verified_archive(cache, cifar):
    path = _download(cache, cifar, url=cifar["path"].as_uri())
    assert path == cache / data.CIFAR10_ARCHIVE and _md5(path) == cifar["md5"]
    assert sorted(p.name for p in cache.iterdir()) == [data.CIFAR10_ARCHIVE]


def test_download_with_wrong_md5_leaves_no_file(cache, cifar):
    with pytest.raises(DatasetError, match="corrupt"):
        _download(cache, cifar, url=cifar["path"].as_uri(), md5="0" * 32)
    assert list(cache.iterdir()) == []


def test_interrupted_download_keeps_part_and_resumes_with_range(cache, cifar, monkeypatch):
    payload = cifar["path"].read_bytes()
    _fake_server(monkeypatch, payload, fail_after=len(payload) // 3)
    with pytest.raises(OSError, match="connection lost"):
        _download(cache, cifar)
    part = cache / (data.CIFAR10_ARCHIVE + ".part")
    assert not (cache / data.CIFAR10_ARCHIVE).exists() and part.exists()
    done = part.stat().st_size
    assert 0 < done < len(payload)
    ranges = _fake_server(monkeypatch, payload)
    assert _md5(_download(cache, cifar)) == cifar["md5"]
    assert ranges == [f"bytes={done}-"] and not part.exists()


@pytest.mark.parametrize("server", ["ignores Range", "file URL", "416 on a too long part"])
def test_leftover_part_is_restarted_when_it_cannot_be_resumed(cache, cifar, monkeypatch, server):
    payload = cifar["path"].read_bytes()
    leftover = b"x" * len(payload) if server.startswith("416") else b"not a prefix"
    cache.mkdir()
    (cache / (data.CIFAR10_ARCHIVE + ".part")).write_bytes(leftover)
    if server == "file URL":
        path = _download(cache, cifar, url=cifar["path"].as_uri())
    else:
        ranges = _fake_server(monkeypatch, payload, honour_range=server != "ignores Range")
        path = _download(cache, cifar)
        restart = [None] if server.startswith("416") else []
        assert ranges == [f"bytes={len(leftover)}-", *restart]
    assert _md5(path) == cifar["md5"]
    assert sorted(p.name for p in cache.iterdir()) == [data.CIFAR10_ARCHIVE]


# --------------------------------------------------------------------------- choosing the dataset


@pytest.fixture(scope="module")
def offline_build():
    return _offline.build()


@pytest.fixture(scope="module")
def offline():
    return data.load_offline_dataset()


@pytest.fixture
def quick_offline(offline, monkeypatch):
    """Make load_offline_dataset return the module's already-built offline dataset."""
    monkeypatch.setattr(data, "load_offline_dataset", lambda: offline)
    return offline


def test_cifar10_not_cached_is_one_clear_line_and_nothing_is_downloaded(cache, monkeypatch):
    requests = []
    monkeypatch.setattr(urllib.request, "urlopen", lambda *args, **kwargs: requests.append(args))
    for load in (data.load_cifar10, partial(data.load_dataset, "cifar10")):
        with pytest.raises(DatasetNotDownloaded, match="run `cs231kit data download`") as caught:
            load(cache_dir=cache)
        (line,) = caught.value._render_traceback_()  # what IPython shows instead of a traceback
        assert line.startswith("DatasetNotDownloaded: this course uses CIFAR-10") and "\n" not in line
    assert requests == [] and not cache.exists()


def test_unknown_name_lists_valid_names(cache, monkeypatch):
    with pytest.raises(ValueError, match="cifar10, offline"):
        data.load_dataset("imagenet")
    monkeypatch.setenv(data.DATASET_ENV, "mnist")
    with pytest.raises(ValueError, match=r"'mnist' \(\$CS231KIT_DATASET\)"):
        data.load_dataset()


def test_environment_chooses_dataset_and_cache(cache, cifar, quick_offline, monkeypatch, recwarn):
    monkeypatch.setenv(data.DATASET_ENV, "offline")
    assert data.load_dataset(cache_dir=cache) is quick_offline
    monkeypatch.setenv(data.DATA_DIR_ENV, str(cache))
    assert data.data_dir() == cache
    _cache_archive(cache, cifar["path"])
    assert data.load_dataset("cifar10").name == "cifar10"  # the argument beats the environment
    monkeypatch.setenv(data.DATASET_ENV, "cifar10")
    assert data.load_dataset().name == "cifar10"
    assert not recwarn.list


# --------------------------------------------------------------------------- the course setting


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A course folder with ``course.json`` choosing CIFAR-10, a notebook folder below it as the cwd,
    and no personal override in the environment."""
    monkeypatch.delenv(data.DATASET_ENV, raising=False)
    monkeypatch.delenv(COURSE_ROOT_ENV, raising=False)
    root = tmp_path / "course"
    (root / "notebooks" / "loss").mkdir(parents=True)
    (root / data.COURSE_SETTINGS_FILE).write_text(json.dumps({"dataset": "cifar10"}))
    monkeypatch.chdir(root / "notebooks" / "loss")
    return root


def test_course_setting_is_found_upwards_from_the_cwd(course):
    assert data.course_settings_path() == course / data.COURSE_SETTINGS_FILE
    assert data.course_dataset() == "cifar10"


def test_course_root_variable_points_at_the_setting(course, tmp_path, monkeypatch):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    assert data.course_dataset() == data.DEFAULT_DATASET == "offline"  # nothing above: the default
    monkeypatch.setenv(COURSE_ROOT_ENV, str(course))
    assert data.course_dataset() == "cifar10"


def test_personal_override_beats_the_course_but_not_what_the_grader_passes_on(course, monkeypatch):
    monkeypatch.setenv(data.DATASET_ENV, "Offline")
    assert data.course_dataset() == "offline"
    assert data.dataset_environment(course)[data.DATASET_ENV] == "cifar10"
    assert data.dataset_environment(course)[data.DATA_DIR_ENV] == str(data.data_dir())


def test_course_setting_without_a_dataset_means_the_default(course):
    (course / data.COURSE_SETTINGS_FILE).write_text("{}")
    assert data.course_dataset() == "offline"


@pytest.mark.parametrize("text, message", [("{not json", "not valid JSON"), ('["cifar10"]', "JSON object"),
                                           ('{"dataset": "mnist"}', r"'mnist' \(.*course\.json\)")])
def test_malformed_course_setting_is_an_error_naming_the_file(course, text, message):
    (course / data.COURSE_SETTINGS_FILE).write_text(text)
    with pytest.raises(ValueError, match=message):
        data.course_dataset()


def test_the_repository_ships_a_course_setting_that_loads():
    root = Path(__file__).resolve().parents[1]
    assert data.read_course_dataset(root / data.COURSE_SETTINGS_FILE) in data.DATASET_NAMES


# --------------------------------------------------------------------------- the offline dataset


def _splits_of(ds):
    return {"train": (ds.X_train, ds.y_train), "val": (ds.X_val, ds.y_val),
            "test": (ds.X_test, ds.y_test)}


def test_offline_shapes_and_balanced_classes(offline):
    assert offline.name == "offline" and len(set(offline.class_names)) == 10
    for split, (X, y) in _splits_of(offline).items():
        assert X.dtype == np.uint8 and X.shape[1:] == (32, 32, 3) and y.dtype == np.int64
        counts = np.bincount(y, minlength=10)
        assert counts.min() > 0 and counts.max() <= 1.6 * counts.min(), (split, counts)
    assert len(offline.y_val) == len(offline.y_test) == 1000
    assert 5000 <= len(offline.y_train) <= 9000


def test_offline_val_and_test_patches_share_no_pixel_with_train(offline_build):
    _, _, train = offline_build["train"]
    for split in ("val", "test"):
        _, _, origin = offline_build[split]
        # Two 32x32 patches of the same photograph share a pixel iff both corner offsets are < 32.
        same = origin[:, None, 0] == train[None, :, 0]
        near = np.abs(origin[:, None, 1:] - train[None, :, 1:]).max(axis=2) < _offline.PATCH
        assert not np.any(same & near), split


def test_offline_no_val_or_test_patch_equals_a_train_patch(offline):
    train = {patch.tobytes() for patch in offline.X_train}
    assert not any(patch.tobytes() in train for patch in np.concatenate([offline.X_val,
                                                                        offline.X_test]))


def test_offline_patches_are_crops_at_their_recorded_origin(offline_build):
    label = _offline.CLASS_NAMES.index("brick")
    image = _offline._rescaled_rgb(_offline._load_photograph(_offline.PHOTOGRAPHS[label][1]))
    assert min(image.shape[:2]) == _offline.SHORT_SIDE
    for X, y, origin in offline_build.values():
        for patch, (_, row, col) in zip(X[y == label], origin[y == label]):
            np.testing.assert_array_equal(patch, image[row:row + 32, col:col + 32])


def test_offline_is_deterministic(offline, offline_build):
    for split, (X, y) in _splits_of(offline).items():
        np.testing.assert_array_equal(X, offline_build[split][0])
        np.testing.assert_array_equal(y, offline_build[split][1])


def _random_dataset(name, seed=0):
    """A small dataset of random images whose arrays no builder would produce."""
    rng = np.random.default_rng(seed)
    arrays = [array for n in (12, 5, 7) for array in (rng.integers(0, 256, (n, 32, 32, 3), dtype=np.uint8),
                                                      rng.integers(0, 10, n))]
    return data.Dataset(name, tuple(f"class {k}" for k in range(10)), *arrays)


def _assert_same_dataset(got, expected):
    assert (got.name, got.class_names) == (expected.name, expected.class_names)
    for field in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test"):
        assert getattr(got, field).dtype == getattr(expected, field).dtype
        np.testing.assert_array_equal(getattr(got, field), getattr(expected, field))


def test_the_offline_dataset_is_read_from_the_copy_the_grader_names(tmp_path, monkeypatch):
    saved = _random_dataset("offline")
    data.save_dataset(saved, tmp_path / "shared.npz")
    monkeypatch.setenv(data.OFFLINE_CACHE_ENV, str(tmp_path / "shared.npz"))
    monkeypatch.setattr(data, "build_offline_dataset", lambda: pytest.fail("built although a copy was named"))
    loaded = data.load_dataset("offline")
    _assert_same_dataset(loaded, saved)
    loaded.X_train[0] = 0  # the student's own arrays, as when built
    _assert_same_dataset(data.read_saved_dataset(tmp_path / "shared.npz"), saved)


@pytest.mark.parametrize("copy", ["missing", "not an npz", "another dataset"])
def test_without_a_readable_copy_of_it_the_offline_dataset_is_built(copy, tmp_path, monkeypatch):
    path = tmp_path / "shared.npz"
    if copy == "not an npz":
        path.write_bytes(b"PK\x03\x04 truncated")
    elif copy == "another dataset":
        data.save_dataset(_random_dataset("cifar10"), path)
    built = _random_dataset("offline", seed=1)
    monkeypatch.setenv(data.OFFLINE_CACHE_ENV, str(path))
    monkeypatch.setattr(data, "build_offline_dataset", lambda: built)
    assert data.load_offline_dataset() is built


def test_a_saved_copy_of_the_offline_dataset_reads_back_identical(offline, tmp_path):
    data.save_dataset(offline, tmp_path / "offline.npz")
    _assert_same_dataset(data.read_saved_dataset(tmp_path / "offline.npz"), offline)


# --------------------------------------------------------------------------- splits


def _indexed_dataset(n_train=300, n_val=40, n_test=60):
    """A dataset whose image i of every split is filled with its index i (mod 256) + a split tag."""
    def images(n, tag):
        index = np.arange(n)
        X = np.zeros((n, 32, 32, 3), dtype=np.uint8)
        X[:, 0, 0, 0], X[:, 0, 0, 1], X[:, 0, 0, 2] = index % 256, index // 256, tag
        return X, index % 10

    (Xtr, ytr), (Xv, yv), (Xte, yte) = images(n_train, 0), images(n_val, 1), images(n_test, 2)
    return data.Dataset("toy", tuple("abcdefghij"), Xtr, ytr, Xv, yv, Xte, yte)


def _index(X):
    return X[:, 0, 0, 0].astype(int) + 256 * X[:, 0, 0, 1].astype(int)


def test_cifar10_sized_dataset_gets_the_cs231n_defaults():
    def zeros(n):  # zero-stride arrays: CIFAR-10 sized, no memory
        return (np.broadcast_to(np.zeros((1, 32, 32, 3), np.uint8), (n, 32, 32, 3)),
                np.zeros(n, np.int64))

    ds = data.Dataset("cifar10", NAMES, *zeros(49000), *zeros(1000), *zeros(10000))
    sp = data.make_splits(ds)
    sizes = [len(sp.X_train), len(sp.X_val), len(sp.X_test), len(sp.X_dev)]
    assert sizes == [49000, 1000, 1000, 500] and sp.dataset_name == "cifar10"


def test_small_dataset_defaults_are_proportional():
    sp = data.make_splits(_indexed_dataset())
    assert [len(sp.y_train), len(sp.y_val), len(sp.y_test), len(sp.y_dev)] == [300, 40, 60, 15]


def test_splits_take_first_images_and_a_seeded_dev_subset_of_train():
    ds = _indexed_dataset()
    sp = data.make_splits(ds, num_train=200, num_val=30, num_test=50, num_dev=40, seed=3)
    np.testing.assert_array_equal(_index(sp.X_train), np.arange(200))
    np.testing.assert_array_equal(_index(sp.X_test), np.arange(50))
    assert (sp.X_val[:, 0, 0, 2] == 1).all() and len(sp.X_val) == 30
    dev = _index(sp.X_dev)
    assert len(set(dev)) == 40 and set(dev) <= set(range(200)) and (sp.X_dev[:, 0, 0, 2] == 0).all()
    np.testing.assert_array_equal(sp.y_dev, ds.y_train[dev])
    again = data.make_splits(ds, num_train=200, num_dev=40, seed=3)
    other = data.make_splits(ds, num_train=200, num_dev=40, seed=4)
    np.testing.assert_array_equal(again.X_dev, sp.X_dev)
    assert not np.array_equal(other.X_dev, sp.X_dev)


@pytest.mark.parametrize("request_, message", [
    ({"num_train": 301}, r"num_train=301.*only 300"),
    ({"num_val": 41}, r"num_val=41.*only 40"),
    ({"num_test": 61}, r"num_test=61.*only 60"),
    ({"num_train": 20, "num_dev": 21}, r"num_dev=21.*only 20"),
    ({"num_dev": -1}, r"num_dev=-1"),
])
def test_requesting_too_many_images_names_the_numbers(request_, message):
    with pytest.raises(ValueError, match=message):
        data.make_splits(_indexed_dataset(), **request_)


# --------------------------------------------------------------------------- preprocessing

TOL_F32 = 1e-3  # absolute tolerance for float32 values of magnitude <= 255


def _random_splits(n_train, n_eval=50, seed=0):
    rng = np.random.default_rng(seed)
    Xs = [rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
          for n in (n_train, n_eval, n_eval)]
    ys = [rng.integers(0, 10, size=len(X)) for X in Xs]
    ds = data.Dataset("toy", NAMES, Xs[0], ys[0], Xs[1], ys[1], Xs[2], ys[2])
    return data.make_splits(ds, seed=seed)


def test_preprocess_centers_every_split_on_the_training_mean():
    sp = _random_splits(400)
    ld = data.preprocess_linear(sp)
    mean = sp.X_train.reshape(400, -1).astype(np.float64).mean(axis=0)  # independent reference
    np.testing.assert_allclose(ld.mean_image.ravel(), mean, atol=TOL_F32)
    assert ld.mean_image.dtype == np.float32 and ld.mean_image.shape == (32, 32, 3)
    for split in ("train", "val", "test", "dev"):
        X, images = getattr(ld, f"X_{split}"), getattr(sp, f"X_{split}")
        assert X.dtype == np.float32 and X.shape == (len(images), 3073)
        assert (X[:, -1] == 1).all()
        expected = images.reshape(len(images), -1).astype(np.float64) - mean
        np.testing.assert_allclose(X[:, :-1], expected, atol=TOL_F32)
        np.testing.assert_array_equal(getattr(ld, f"y_{split}"), getattr(sp, f"y_{split}"))
    np.testing.assert_allclose(ld.X_train[:, :-1].mean(axis=0, dtype=np.float64), 0, atol=TOL_F32)
    assert (ld.class_names, ld.dataset_name) == (NAMES, "toy")
    assert data.preprocess_linear(sp, bias=False).X_val.shape == (50, 3072)


def test_preprocess_never_builds_a_float64_training_set():
    sp = _random_splits(4000, n_eval=10)
    float32_out = sp.X_train.size * 4
    float64_copy = sp.X_train.size * 8
    tracemalloc.start()
    try:
        data.preprocess_linear(sp)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak >= float32_out  # numpy's buffers are traced, so the bound below means something
    assert peak < float32_out + 0.25 * float64_copy, f"peak {peak / 1e6:.0f} MB"


@settings(deadline=None, max_examples=50)
@given(hnp.arrays(st.sampled_from([np.uint8, np.int64, np.float32, np.float64]),
                  hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=12)))
def test_append_bias_keeps_columns_and_dtype(X):
    before = X.copy()
    out = data.append_bias(X)
    assert out.dtype == X.dtype and out.shape == (X.shape[0], X.shape[1] + 1)
    np.testing.assert_array_equal(out[:, :-1], X)
    assert (out[:, -1] == 1).all()
    np.testing.assert_array_equal(X, before)


def test_append_bias_rejects_non_matrices():
    with pytest.raises(ValueError, match="2-D"):
        data.append_bias(np.zeros(3))


def test_test_split_is_a_copy_so_the_unused_test_images_are_freed_with_the_dataset():
    ds = _indexed_dataset()
    sp = data.make_splits(ds, num_test=50)
    assert not np.shares_memory(sp.X_test, ds.X_test) and not np.shares_memory(sp.y_test, ds.y_test)
    assert np.shares_memory(sp.X_train, ds.X_train) and np.shares_memory(sp.X_val, ds.X_val)
