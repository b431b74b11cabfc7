"""The grader grades on the course's dataset (course.json), whatever the grader's own environment says."""

import json
import os
from pathlib import Path

import numpy as np

from cs231kit import data
from cs231kit.grading.autograde import SubmissionGrader, share_offline_dataset
from cs231kit.grading.sandbox import Limits, probe_isolation
from toy_course import make_toy_course


def test_grader_hands_the_course_setting_to_its_kernels(tmp_path, monkeypatch):
    root = tmp_path / "course"
    make_toy_course(root)
    (root / data.COURSE_SETTINGS_FILE).write_text(json.dumps({"dataset": "cifar10"}))
    monkeypatch.setenv(data.DATASET_ENV, "offline")  # the instructor's own override must not leak into grading
    monkeypatch.setenv(data.DATA_DIR_ENV, str(tmp_path / "cache"))
    grader = SubmissionGrader(root, Limits())
    try:  # kernels and verification children inherit this process's environment
        seen = {name: os.environ.get(name) for name in (data.DATASET_ENV, data.DATA_DIR_ENV, "CS231KIT_PROGRESS")}
    finally:
        grader.close()
    assert seen == {data.DATASET_ENV: "cifar10", data.DATA_DIR_ENV: str(tmp_path / "cache"), "CS231KIT_PROGRESS": "0"}
    assert os.environ[data.DATASET_ENV] == "offline"  # restored afterwards


def test_a_batch_shares_one_read_only_copy_of_the_offline_dataset_only_where_the_world_is_read_only(tmp_path):
    root = tmp_path / "course"
    make_toy_course(root)
    path = share_offline_dataset(root, tmp_path)
    if not probe_isolation()["read_only_world"]:  # a writable world would make the copy a shared channel
        assert path is None
        return
    assert Path(path).parent == tmp_path and Path(path).stat().st_mode & 0o777 == 0o444
    copy, built = data.read_saved_dataset(path), data.build_offline_dataset()
    assert copy.class_names == built.class_names
    for name in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(copy, name), getattr(built, name))


def test_a_course_on_cifar10_shares_no_offline_dataset(tmp_path):
    root = tmp_path / "course"
    make_toy_course(root)
    (root / data.COURSE_SETTINGS_FILE).write_text(json.dumps({"dataset": "cifar10"}))
    assert share_offline_dataset(root, tmp_path) is None and list(tmp_path.iterdir()) == [root]
