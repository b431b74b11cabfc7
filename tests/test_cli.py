"""The ``cs231kit`` command's data actions: clear messages, honest exit codes, no network in tests."""

import json
import urllib.error
import urllib.request

import pytest

from cs231kit import cli, data
from cs231kit.course import COURSE_ROOT_ENV


@pytest.fixture
def course(tmp_path, monkeypatch):
    """A course whose ``course.json`` chooses CIFAR-10, an empty cache, no network, no personal override."""
    monkeypatch.delenv(data.DATASET_ENV, raising=False)
    monkeypatch.delenv(COURSE_ROOT_ENV, raising=False)
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path / "cache"))

    def no_network(*args, **kwargs):
        raise AssertionError("cs231kit data info must not download anything")

    monkeypatch.setattr(urllib.request, "urlopen", no_network)
    root = tmp_path / "course"
    root.mkdir()
    (root / data.COURSE_SETTINGS_FILE).write_text(json.dumps({"dataset": "cifar10"}))
    monkeypatch.chdir(root)
    return root


def test_data_info_names_the_dataset_in_use(monkeypatch, capsys):
    monkeypatch.setenv(data.DATASET_ENV, "offline")
    assert cli.main(["data", "info"]) == 0
    out = capsys.readouterr().out
    assert "dataset: offline (from $CS231KIT_DATASET)" in out and "train/val/test = " in out and "astronaut" in out


def test_data_info_reports_a_missing_cifar10_without_downloading_it(course, capsys):
    assert cli.main(["data", "info"]) == 1
    captured = capsys.readouterr()
    assert f"dataset: cifar10 (from {course / data.COURSE_SETTINGS_FILE})" in captured.out
    (line,) = captured.err.splitlines()
    assert line.startswith("error: this course uses CIFAR-10") and "cs231kit data download" in line
    assert not (course.parent / "cache").exists()


def test_data_info_explains_a_bad_archive_in_one_line(course, capsys):
    cache = course.parent / "cache"
    cache.mkdir()
    (cache / data.CIFAR10_ARCHIVE).write_bytes(b"an html error page, not the archive")
    assert cli.main(["data", "info"]) == 1
    (line,) = capsys.readouterr().err.splitlines()
    assert "md5" in line and "Traceback" not in line and "cs231kit data download" in line


def test_data_info_explains_a_malformed_course_setting(course, capsys):
    (course / data.COURSE_SETTINGS_FILE).write_text('{"dataset": "imagenet"}')
    assert cli.main(["data", "info"]) == 1
    assert "unknown dataset 'imagenet'" in capsys.readouterr().err


def test_failed_download_explains_itself_instead_of_a_traceback(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path))

    def unreachable(*args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(data, "download_cifar10", unreachable)
    assert cli.main(["data", "download"]) == 1
    err = capsys.readouterr().err
    assert "could not be downloaded" in err and "resumed" in err and str(tmp_path) in err
