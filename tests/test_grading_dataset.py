"""The grader grades on the course's dataset (course.json), whatever the grader's own environment says."""

import json
import os

from cs231kit import data
from cs231kit.grading.autograde import SubmissionGrader
from cs231kit.grading.sandbox import Limits
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
