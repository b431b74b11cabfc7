"""The ``cs231kit`` command's data actions: clear messages, honest exit codes, no network in tests."""

import urllib.error

from cs231kit import cli, data


def test_data_info_names_the_dataset_in_use(monkeypatch, capsys):
    monkeypatch.setenv(data.DATASET_ENV, "offline")
    assert cli.main(["data", "info"]) == 0
    out = capsys.readouterr().out
    assert "dataset: offline" in out and "train/val/test = " in out and "astronaut" in out


def test_failed_download_explains_itself_instead_of_a_traceback(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path))

    def unreachable(*args, **kwargs):
        raise urllib.error.URLError("Name or service not known")

    monkeypatch.setattr(data, "download_cifar10", unreachable)
    assert cli.main(["data", "download"]) == 1
    err = capsys.readouterr().err
    assert "could not be downloaded" in err and "offline dataset" in err and str(tmp_path) in err
