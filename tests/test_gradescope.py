"""The Gradescope autograder zip, run in a local folder laid out like Gradescope's ``/autograder``.

``results.json`` is checked against a validator written from Gradescope's specification
(https://gradescope-autograders.readthedocs.io/en/latest/specs/) and against the known scores of
the toy course and of a simulated ``loss`` student.
"""

import json
import math
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from cs231kit import cli
from cs231kit.grading import gradescope_run, outcomes
from cs231kit.grading.cells import grade_id
from cs231kit.grading.gradescope import build_autograder_zip, default_zip_path
from cs231kit.grading.release import release_all
from cs231kit.grading.sandbox import probe_isolation
from cs231kit.grading.simulate import load_simulated_class, write_simulated_class
from cs231kit.grading.status import Status
from toy_course import ASSIGNMENT, REPO, TEST_POINTS, make_toy_course

MAX_SCORE = sum(TEST_POINTS.values())
HIDDEN_TESTS = {"test_add_hidden", "test_scale_hidden"}
VISIBILITIES = {"hidden", "after_due_date", "after_published", "visible"}
TOP_LEVEL_KEYS = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
                  "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
TEST_KEYS = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format", "tags",
             "visibility", "extra_data"}
# Grading state, a release and caches: never shipped in the zip (nor the toy course's autograder/simulated/).
NOT_SHIPPED = ("autograder/submitted/ann/toy/toy.ipynb", "autograder/autograded/ann/toy/toy.ipynb",
               "autograder/feedback/ann/toy/toy.html", "autograder/reports/toy/grades.csv", "autograder/gradebook.db",
               "notebooks/toy/toy.ipynb", "solutions/toy/.ipynb_checkpoints/toy-checkpoint.ipynb",
               "autograder/checks/__pycache__/toy.cpython-311.pyc")


def assert_valid_gradescope_results(document):
    """Fail unless ``document`` is a results.json the kit promises: Gradescope's format, consistent scores."""
    assert json.loads(json.dumps(document, allow_nan=False)) == document
    assert {"score", "execution_time", "output", "visibility", "stdout_visibility", "tests"} <= set(document)
    assert set(document) <= TOP_LEVEL_KEYS, set(document) - TOP_LEVEL_KEYS
    assert all(_is_number(document[k]) and document[k] >= 0 for k in ("score", "execution_time"))
    assert isinstance(document["output"], str) and isinstance(document["tests"], list)
    assert {document["visibility"], document["stdout_visibility"]} <= VISIBILITIES
    for test in document["tests"]:
        assert {"name", "score", "max_score", "status", "output", "visibility"} <= set(test) <= TEST_KEYS, test
        assert isinstance(test["name"], str) and isinstance(test["output"], str), test
        assert _is_number(test["score"]) and _is_number(test["max_score"]), test
        assert 0 <= test["score"] <= test["max_score"], test
        assert test["status"] in ("passed", "failed") and test["visibility"] in VISIBILITIES, test
    names = [t["name"] for t in document["tests"]]
    assert len(names) == len(set(names)), names
    assert math.isclose(sum(t["score"] for t in document["tests"]), document["score"])


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


# ---------------------------------------------------------------- the run step's pieces (fast)

@pytest.mark.parametrize("uploads, chosen, note", [
    (["toy.ipynb"], "toy.ipynb", ""),
    (["toy.ipynb", "scratch.ipynb", ".ipynb_checkpoints/toy-checkpoint.ipynb", "notes.pdf"], "toy.ipynb", ""),
    (["hw/toy.ipynb", "hw/other.ipynb"], "hw/toy.ipynb", ""),
    (["toy (1).ipynb", ".ipynb_checkpoints/toy (1)-checkpoint.ipynb"], "toy (1).ipynb",
     "No file named toy.ipynb was uploaded, so the only notebook, 'toy (1).ipynb', was graded as toy.ipynb."),
    (["a.ipynb", "b.ipynb"], None, "2 notebooks were uploaded ('a.ipynb', 'b.ipynb')"),
    (["toy.ipynb", "sub/toy.ipynb"], None, "2 notebooks were uploaded ('sub/toy.ipynb', 'toy.ipynb')"),
    (["notes.pdf"], None, "no notebook was uploaded; upload your toy.ipynb"),
])
def test_the_notebook_to_grade_is_chosen_by_name_then_by_being_the_only_one(tmp_path, uploads, chosen, note):
    for name in uploads:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("{}")
    path, explanation = gradescope_run.find_notebook(tmp_path, "toy.ipynb")
    assert (path and path.relative_to(tmp_path).as_posix()) == chosen
    assert explanation.startswith(note) and bool(explanation) == bool(note)


@pytest.mark.parametrize("metadata, student", [
    (None, "student"),
    ({"users": [{"email": "ada.l@uni.edu", "id": 7}, {"email": "bob@uni.edu"}]}, "ada_l_uni_edu"),
    ({"users": [{"id": 1234, "name": "Cy"}]}, "1234"),
    ({"users": []}, "student"),
    ({"users": [{"email": "../../etc"}]}, "etc"),
    ({"users": [{"email": "--rm -rf@uni.edu"}]}, "rm_-rf_uni_edu"),
    ({"users": [{"email": "a" * 150 + "@uni.edu"}]}, "a" * 100),
    ({"users": [{"email": "---"}]}, "student"),
])
def test_student_id_comes_from_the_submission_metadata_and_is_folder_safe(tmp_path, metadata, student):
    if metadata is not None:
        (tmp_path / "submission_metadata.json").write_text(json.dumps(metadata))
    assert gradescope_run.student_id(tmp_path / "submission_metadata.json") == student


def test_results_count_only_passed_tests_and_leave_out_answers_graded_by_hand():
    tests = (outcomes.TestResult("t_visible", Status.PASSED, 1.0, 1.0),
             outcomes.TestResult("t_hidden", Status.FAILED, 0.5, 2.0, "ValueError: wrong shape"),
             outcomes.TestResult("t_slow", Status.TIMEOUT, 0.0, 3.0, "timeout: the cell ran longer than the time limit"),
             outcomes.TestResult("t_tamper", "tamper suspected", 4.0, 4.0, "np.allclose was replaced"),
             outcomes.TestResult("t_deleted", Status.NOT_GRADED, None, 1.0, "this test cell was missing"),
             outcomes.TestResult("essay", Status.MANUAL, None, 5.0, "graded by hand"))
    result = outcomes.SubmissionResult("ann", "toy", "graded", 5.5, 11.0, tests)
    source = gradescope_run.SourceTests({"t_visible": 1.0, "t_hidden": 2.0, "t_slow": 3.0, "t_tamper": 4.0,
                                         "t_deleted": 1.0}, frozenset({"t_hidden", "t_tamper"}), manual=1)
    document = gradescope_run.gradescope_results(result, source, seconds=12.4)
    assert_valid_gradescope_results(document)
    by_name = {t["name"]: t for t in document["tests"]}
    assert list(by_name) == ["t_visible", "t_hidden", "t_slow", "t_tamper", "t_deleted"]
    assert {n: t["status"] for n, t in by_name.items() if t["status"] == "passed"} == {"t_visible": "passed"}
    assert (by_name["t_hidden"]["score"], by_name["t_hidden"]["output"]) == (0.5, "ValueError: wrong shape")
    assert by_name["t_tamper"]["output"] == "np.allclose was replaced"
    assert {n for n, t in by_name.items() if t["visibility"] == "after_due_date"} == {"t_hidden", "t_tamper"}
    assert (document["score"], document["execution_time"], document["visibility"]) == (5.5, 12, "visible")
    assert "1 written answer(s) are graded by hand" in document["output"] and "5.5" not in document["output"]


def test_a_submission_that_could_not_be_graded_scores_zero_with_its_status_and_reason():
    result = outcomes.failed_submission("ann", "toy", 6.0, "nbformat.reader.NotJSONError: not JSON")
    document = gradescope_run.gradescope_results(result, gradescope_run.SourceTests({"t": 6.0}, frozenset(), 0))
    assert_valid_gradescope_results(document)
    assert (document["score"], document["tests"]) == (0.0, [])
    assert "invalid notebook" in document["output"] and "not valid JSON" in document["output"]
    assert ".." not in document["output"]


# ---------------------------------------------------------------- a local folder laid out like /autograder

def _unzip(archive, destination):
    """Extract like ``unzip`` does: with the permission bits stored in the entries."""
    with zipfile.ZipFile(archive) as opened:
        for entry in opened.infolist():
            os.chmod(opened.extract(entry, destination), entry.external_attr >> 16 & 0o777)


def _gradescope_folder(archive, folder):
    """``folder`` laid out as Gradescope's ``/autograder`` after its image build, for ``archive``."""
    _unzip(archive, folder / "source")
    shutil.copy2(folder / "source" / "run_autograder", folder / "run_autograder")  # as Gradescope does
    (folder / "submission").mkdir()
    return folder


def run_autograder(folder, uploads, metadata=None):
    """Put ``uploads`` (``{name: bytes}``) into ``folder/submission``, run ``run_autograder``, return results.json."""
    for name, data in uploads.items():
        (folder / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / "submission" / name).write_bytes(data)
    if metadata is not None:
        (folder / "submission_metadata.json").write_text(json.dumps(metadata))
    environment = {**os.environ, "AUTOGRADER_ROOT": str(folder), "CS231KIT_PYTHON": sys.executable}
    run = subprocess.run([str(folder / "run_autograder")], cwd=folder, env=environment, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    assert sorted(p.name for p in (folder / "results").iterdir()) == ["results.json"]  # no temporary file left
    document = json.loads((folder / "results" / "results.json").read_text())
    assert_valid_gradescope_results(document)
    return document


def _tree_digest(folder):
    return {p.relative_to(folder): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


# ---------------------------------------------------------------- the zip (fast)

@pytest.fixture(scope="module")
def toy_zip(tmp_path_factory):
    """The toy course with grading code, grading state and clutter, and its autograder zip."""
    course = make_toy_course(tmp_path_factory.mktemp("toy-zip") / "course")
    for name in ("checks", "verify"):
        (course / "autograder" / name).mkdir()
        (course / "autograder" / name / f"{ASSIGNMENT}.py").write_text("# trusted grading code\nPROBES = ()\n")
    for name in NOT_SHIPPED:
        (course / name).parent.mkdir(parents=True, exist_ok=True)
        (course / name).write_text("grading state\n")
    return course, build_autograder_zip(course, ASSIGNMENT)


def test_zip_holds_what_grading_needs_and_nothing_else(toy_zip):
    course, archive = toy_zip
    assert archive == default_zip_path(course, ASSIGNMENT)
    entries = {e.filename: e for e in zipfile.ZipFile(archive).infolist()}
    names = set(entries)
    course_names = {n.removeprefix("course/") for n in names if not n.startswith("course/src/")}
    assert course_names == {"setup.sh", "run_autograder", "nbgrader_config.py", "pyproject.toml", "README.md",
                            "solutions/toy/toy.ipynb", "autograder/checks/toy.py", "autograder/verify/toy.py"}
    assert all(n.startswith("course/") for n in names - {"setup.sh", "run_autograder"})
    assert "course/src/cs231kit/grading/gradescope_run.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or "simulated" in n]
    modes = {n: e.external_attr >> 16 & 0o777 for n, e in entries.items()}
    assert modes["setup.sh"] == modes["run_autograder"] == 0o755
    assert {modes[n] for n in names - {"setup.sh", "run_autograder"}} == {0o644}


def test_zip_is_reproducible_and_replaced_atomically(toy_zip, tmp_path, monkeypatch):
    course, archive = toy_zip
    output = tmp_path / "out" / "toy.zip"
    assert build_autograder_zip(course, ASSIGNMENT, output).read_bytes() == archive.read_bytes()

    def broken_write(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(zipfile.ZipFile, "writestr", broken_write)
    with pytest.raises(OSError, match="disk full"):
        build_autograder_zip(course, ASSIGNMENT, output)
    assert output.read_bytes() == archive.read_bytes()
    assert [p.name for p in output.parent.iterdir()] == ["toy.zip"]


def test_loss_zip_from_the_repository_ships_its_checks_and_only_its_source(tmp_path):
    archive = build_autograder_zip(REPO, "loss", tmp_path / "loss.zip")
    names = set(zipfile.ZipFile(archive).namelist())
    assert {"course/solutions/loss/loss.ipynb", "course/autograder/checks/loss.py"} <= names
    assert {n.split("/")[2] for n in names if n.startswith("course/solutions/")} == {"loss"}
    assert not [n for n in names if n.startswith(("course/notebooks/", "course/autograder/simulated/", "course/tests/"))]


def test_scripts_are_valid_bash_and_every_path_they_name_is_in_the_zip(toy_zip, tmp_path):
    _, archive = toy_zip
    _unzip(archive, tmp_path)
    names = zipfile.ZipFile(archive).namelist()
    for script in ("setup.sh", "run_autograder"):
        text = (tmp_path / script).read_text()
        assert text.startswith("#!/usr/bin/env bash\n") and "set -euo pipefail" in text
        check = subprocess.run(["bash", "-n", str(tmp_path / script)], capture_output=True, text=True)
        assert check.returncode == 0, check.stderr
        for path in re.findall(r"(?:/autograder|\$ROOT)/source/([\w./-]+)", text):
            assert any(n == path or n.startswith(path.rstrip("/") + "/") for n in names), (script, path)
    setup = (tmp_path / "setup.sh").read_text()
    assert "python3.11 python3.11-venv" in setup and "pip install /autograder/source/course\n" in setup
    assert "course/pyproject.toml" in names and "-m cs231kit.grading.gradescope_run" in (tmp_path / "run_autograder").read_text()


def test_gradescope_command_writes_the_zip_or_explains_why_not(toy_zip, tmp_path, capsys):
    course, archive = toy_zip
    output = tmp_path / "cli.zip"
    assert cli.main(["--course-dir", str(course), "gradescope", ASSIGNMENT, "--output", str(output)]) == 0
    assert output.read_bytes() == archive.read_bytes() and str(output) in capsys.readouterr().out
    assert cli.main(["--course-dir", str(course), "gradescope", "nosuch"]) == 1
    assert "no autograder zip written" in capsys.readouterr().err
    assert not default_zip_path(course, "nosuch").exists()


# ---------------------------------------------------------------- run_autograder without nbgrader (fast)

def test_an_upload_without_a_clear_notebook_is_explained_without_grading(toy_zip, tmp_path):
    folder = _gradescope_folder(toy_zip[1], tmp_path / "autograder")
    document = run_autograder(folder, {"draft.ipynb": b"{}", "final.ipynb": b"{}"})
    assert (document["score"], document["tests"], document["extra_data"]["status"]) == (0.0, [], "missing notebook")
    assert "'draft.ipynb'" in document["output"] and "named toy.ipynb" in document["output"]


def test_an_autograder_failure_still_writes_an_explained_result(toy_zip, tmp_path, monkeypatch, capsys):
    folder = _gradescope_folder(toy_zip[1], tmp_path / "autograder")
    (folder / "submission" / "toy.ipynb").write_text("{}")

    def crash(*args, **kwargs):
        raise RuntimeError("gradebook locked")

    monkeypatch.setattr(gradescope_run, "grade_assignment", crash)
    document = gradescope_run.run(folder, ASSIGNMENT)
    assert document == json.loads((folder / "results" / "results.json").read_text())
    assert (document["score"], document["extra_data"]["status"]) == (0.0, "grading error")
    assert "RuntimeError" in document["output"] and "gradebook locked" not in document["output"]
    assert "gradebook locked" in capsys.readouterr().out  # the traceback, for the instructor


# ---------------------------------------------------------------- toy submissions graded by nbgrader (slow)

@pytest.fixture(scope="module")
def toy_uploads(tmp_path_factory):
    """``{simulated student: notebook bytes}`` of the toy class, and their expected scores."""
    course = make_toy_course(tmp_path_factory.mktemp("toy-class") / "course")
    release_all(course)
    expected = write_simulated_class(course, ASSIGNMENT, load_simulated_class(course, ASSIGNMENT))
    submitted = course / "autograder" / "submitted"
    return {s: (submitted / s / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_bytes() for s in expected}, expected


@pytest.fixture
def toy_gradescope(toy_zip, tmp_path):
    return _gradescope_folder(toy_zip[1], tmp_path / "autograder")


@pytest.mark.slow
def test_the_correct_toy_submission_gets_full_marks_without_touching_the_source(toy_gradescope, toy_uploads):
    before = _tree_digest(toy_gradescope / "source")
    document = run_autograder(toy_gradescope, {"toy.ipynb": toy_uploads[0]["ada"]},
                              metadata={"users": [{"email": "ada@uni.edu", "id": 1}]})
    assert document["score"] == MAX_SCORE == toy_uploads[1]["ada"]
    assert {t["name"]: (t["score"], t["status"]) for t in document["tests"]} == {
        name: (points, "passed") for name, points in TEST_POINTS.items()}
    assert {t["name"]: t["visibility"] for t in document["tests"]} == {
        name: "after_due_date" if name in HIDDEN_TESTS else "visible" for name in TEST_POINTS}
    assert "Submission status: graded." in document["output"] and "1 written answer(s)" in document["output"]
    assert _tree_digest(toy_gradescope / "source") == before


@pytest.mark.slow
def test_a_wrong_renamed_toy_submission_loses_exactly_its_failing_tests(toy_gradescope, toy_uploads):
    document = run_autograder(toy_gradescope, {"toy (1).ipynb": toy_uploads[0]["cy"]})
    failing = {"test_add_visible", "test_add_hidden"}
    assert document["score"] == MAX_SCORE - sum(TEST_POINTS[n] for n in failing) == toy_uploads[1]["cy"]
    assert {t["name"] for t in document["tests"] if t["status"] == "failed"} == failing
    assert all(t["score"] == 0 and "AssertionError" in t["output"] for t in document["tests"] if t["name"] in failing)
    assert "'toy (1).ipynb', was graded as toy.ipynb" in document["output"]


@pytest.mark.slow
def test_a_corrupt_toy_notebook_scores_zero_and_says_it_is_an_invalid_notebook(toy_gradescope, toy_uploads):
    text = toy_uploads[0]["ada"]
    document = run_autograder(toy_gradescope, {"toy.ipynb": text[: len(text) // 2]})
    assert (document["score"], document["tests"]) == (0.0, [])
    assert "Submission status: invalid notebook." in document["output"] and "not valid JSON" in document["output"]


@pytest.mark.slow
@pytest.mark.skipif(not probe_isolation()["namespaces"], reason="no user namespaces: the sandbox hides nothing here")
def test_student_code_cannot_read_the_unpacked_autograder(toy_gradescope, toy_uploads):
    notebook = nbformat.reads(toy_uploads[0]["ada"].decode(), as_version=4)
    add = next(c for c in notebook.cells if grade_id(c) == "add")
    add.source = (f"import pathlib\nseen = (pathlib.Path({str(toy_gradescope)!r}) / 'source' / 'course' / 'solutions').exists()\n"
                  "def add(a, b):\n    return None if seen else a + b")
    document = run_autograder(toy_gradescope, {"toy.ipynb": nbformat.writes(notebook).encode()})
    assert document["score"] == MAX_SCORE, "student code could see the autograder's source (solutions, checks)"


# ---------------------------------------------------------------- a real assignment (slow)

@pytest.mark.slow
def test_the_loss_autograder_gives_a_simulated_student_its_expected_score(tmp_path):
    student = next(s for s in load_simulated_class(REPO, "loss") if s["name"] == "svm_naive_missing_reg_gradient")
    course = tmp_path / "class"
    for folder in ("notebooks/loss", "solutions/loss"):
        shutil.copytree(REPO / folder, course / folder)
    expected = write_simulated_class(course, "loss", [student])[student["name"]]
    upload = (course / "autograder" / "submitted" / student["name"] / "loss" / "loss.ipynb").read_bytes()
    folder = _gradescope_folder(build_autograder_zip(REPO, "loss", tmp_path / "loss.zip"), tmp_path / "autograder")

    document = run_autograder(folder, {"loss.ipynb": upload}, metadata={"users": [{"email": "sim@uni.edu"}]})

    assert document["score"] == expected > 0
    assert {t["name"] for t in document["tests"] if t["status"] == "failed"} == set(student["failing"])
    source = gradescope_run.read_source_tests(REPO / "solutions" / "loss")
    assert [t["name"] for t in document["tests"]] == list(source.points)
    assert source.hidden and {t["name"] for t in document["tests"] if t["visibility"] == "after_due_date"} == source.hidden
