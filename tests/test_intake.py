"""The intake: what the grader takes from a submission folder, and the output it keeps per cell.

Fast tests call :func:`~cs231kit.grading.intake.take_submission` on folders built here (nothing is
executed); the slow ones grade hostile folders of the toy course with one worker and with two.
"""

import json
import os
import shutil

import nbformat
import pytest
from traitlets.config import Config

from cs231kit.grading import intake
from cs231kit.grading.autograde import GradingTask, _grade_safely, grade_assignment
from cs231kit.grading.feedback import BoundedExecute, bounded_error
from cs231kit.grading.intake import IntakeLimits, ReleasedCell, parse_notebook, take_submission
from cs231kit.grading.status import Status
from toy_course import ASSIGNMENT, make_toy_course

NOTEBOOK = "hw"
RELEASED = {NOTEBOOK: {"test_a": ReleasedCell("test_a", "code", True, False, 1.0, "assert answer == 2")}}
SMALL = IntakeLimits(max_bytes=4000, max_cells=5, max_depth=12, max_json_values=400)


def _notebook(cells=2, **metadata):
    """A small valid notebook: a graded test cell and ``cells - 1`` code cells with an output."""
    notebook = nbformat.v4.new_notebook(metadata=metadata)
    test = nbformat.v4.new_code_cell("assert answer == 2")
    test.metadata["nbgrader"] = {"grade": True, "grade_id": "test_a", "locked": True, "points": 1.0,
                                 "solution": False, "schema_version": 3}
    notebook.cells = [test] + [nbformat.v4.new_code_cell("answer = 2", outputs=[
        nbformat.v4.new_output("stream", text="hello\n")]) for _ in range(cells - 1)]
    return nbformat.writes(notebook).encode()


@pytest.fixture
def course(tmp_path):
    """``(submitted root, submission folder, staging root)`` with the submission folder empty."""
    submitted = tmp_path / "submitted"
    folder = submitted / "ada" / "a1"
    folder.mkdir(parents=True)
    return submitted, folder, tmp_path / "staged"


def _take(course, student="ada", limits=IntakeLimits()):
    submitted, _, staged = course
    return take_submission(submitted, student, "a1", RELEASED, staged, limits)


def _staged_files(course):
    staged = course[2]
    return sorted(str(p.relative_to(staged)) for p in staged.rglob("*") if p.is_file()) if staged.exists() else []


def test_only_the_notebook_and_a_valid_timestamp_are_staged_with_outputs_cleared(course):
    _, folder, staged = course
    (folder / f"{NOTEBOOK}.ipynb").write_bytes(_notebook())
    (folder / "timestamp.txt").write_text("2026-01-05 12:00:00.000000 UTC")
    (folder / "json.py").write_text("raise SystemExit('shadowed')")
    (folder / "cs231kit").mkdir()
    (folder / "cs231kit" / "__init__.py").write_text("import os; os.system('cp -r ../solutions .')")
    taken = _take(course)
    assert taken.status is None and taken.ignored == ("cs231kit", "json.py")
    assert _staged_files(course) == ["ada/a1/hw.ipynb", "ada/a1/timestamp.txt"]
    staged_notebook = json.loads((staged / "ada" / "a1" / "hw.ipynb").read_text())
    assert [c.get("outputs") for c in staged_notebook["cells"]] == [[], []]
    assert ["".join(c["source"]) for c in staged_notebook["cells"]] == ["assert answer == 2", "answer = 2"]


def test_a_timestamp_that_is_not_a_time_is_ignored(course):
    _, folder, _ = course
    (folder / f"{NOTEBOOK}.ipynb").write_bytes(_notebook())
    (folder / "timestamp.txt").write_text("yesterday, honestly")
    assert _take(course).ignored == ("timestamp.txt",) and _staged_files(course) == ["ada/a1/hw.ipynb"]


@pytest.mark.parametrize("linked", ["student folder", "assignment folder", "notebook"])
def test_a_link_on_any_path_component_is_refused_without_being_followed(course, tmp_path, linked):
    submitted, folder, _ = course
    elsewhere = tmp_path / "solutions" / "a1"
    elsewhere.mkdir(parents=True)
    (elsewhere / f"{NOTEBOOK}.ipynb").write_bytes(_notebook())  # a notebook that would pass
    if linked == "student folder":
        shutil.rmtree(submitted / "ada")
        (submitted / "ada").symlink_to(elsewhere.parent, target_is_directory=True)
    elif linked == "assignment folder":
        folder.rmdir()
        folder.symlink_to(elsewhere, target_is_directory=True)
    else:
        (folder / f"{NOTEBOOK}.ipynb").symlink_to(elsewhere / f"{NOTEBOOK}.ipynb")
    taken = _take(course)
    assert (taken.status, "symbolic link" in taken.reason) == (Status.UNSAFE_SUBMISSION, True)
    assert _staged_files(course) == []


def test_links_beside_the_notebook_are_ignored_never_read(course, tmp_path):
    _, folder, _ = course
    (folder / f"{NOTEBOOK}.ipynb").write_bytes(_notebook())
    (folder / "zeros").symlink_to("/dev/zero")
    (folder / "gradebook.db").symlink_to(tmp_path / "secret.db")
    (folder / "timestamp.txt").symlink_to("/etc/hostname")
    taken = _take(course)
    assert taken.status is None and taken.ignored == ("gradebook.db", "timestamp.txt", "zeros")
    assert _staged_files(course) == ["ada/a1/hw.ipynb"]


@pytest.mark.parametrize("make, status, words", [
    (lambda path: os.mkfifo(path), Status.INVALID_NOTEBOOK, "not a regular file"),
    (lambda path: path.mkdir(), Status.INVALID_NOTEBOOK, "not a regular file"),
    (lambda path: os.link(path.parent / "original.bin", path), Status.UNSAFE_SUBMISSION, "hard links"),
])
def test_a_notebook_that_is_not_a_plain_regular_file_is_refused(course, make, status, words):
    _, folder, _ = course
    (folder / "original.bin").write_bytes(_notebook())
    make(folder / f"{NOTEBOOK}.ipynb")
    taken = _take(course)  # a FIFO must not block the grader
    assert (taken.status, words in taken.reason) == (status, True), taken.reason


@pytest.mark.parametrize("student", ["ada", "Ada.Lovelace-2", "s_01", "x" * 100])
def test_plain_student_ids_are_taken(course, student):
    submitted, folder, _ = course
    target = submitted / student / "a1"
    if student != "ada":
        shutil.copytree(folder, target)
    (target / f"{NOTEBOOK}.ipynb").write_bytes(_notebook())
    assert _take(course, student).status is None


@pytest.mark.parametrize("student", ["*", "ad?", "[a-z]*", "-rf", ".hidden", "a b", "ada\nbob", "x" * 101,
                                     "\udcff\udcfe", "ad\u00e9", ""])
def test_hostile_student_ids_never_reach_nbgrader_or_a_glob(course, student):
    taken = _take(course, student)
    assert taken.status == Status.INVALID_STUDENT_ID and "not a valid student id" in taken.reason
    assert taken.reason.isprintable() and _staged_files(course) == []


def test_printable_id_escapes_what_a_report_cannot_show():
    assert intake.printable_id("ada") == "ada"
    assert intake.printable_id("ada\nbob") == "ada\\nbob"
    assert intake.printable_id("\udcff") == "\\udcff"


@pytest.mark.parametrize("data, status, words", [
    (b"", Status.INVALID_NOTEBOOK, "empty"),
    (b'{"cells": [{"cell_type": "code", "sou', Status.INVALID_NOTEBOOK, "not valid JSON"),
    (b"[1, 2, 3]", Status.INVALID_NOTEBOOK, "not a Jupyter notebook"),
    (b'{"cells": "none"}', Status.INVALID_NOTEBOOK, "not a Jupyter notebook"),
    (b'\xff\xfe{"cells": []}', Status.INVALID_NOTEBOOK, "not valid JSON"),
    (b'{"cells": [], "metadata": {"x": "\\ud800"}}', Status.INVALID_NOTEBOOK, "surrogate"),
    (b'{"cells": [], "metadata": {"x": ' + b"[" * 13 + b"]" * 13 + b"}}", Status.INVALID_NOTEBOOK, "nested 15 levels"),
    (b'{"cells": [], "metadata": {"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}", Status.NOTEBOOK_TOO_LARGE, "more than 0.00"),
    (b'{"cells": [], "metadata": {"x": [' + b"1," * 450 + b"1]}}", Status.NOTEBOOK_TOO_LARGE, "JSON values"),
    (b'{"cells": [' + b"{}," * 5 + b"{}]}", Status.NOTEBOOK_TOO_LARGE, "6 cells, more than the 5"),
])
def test_malformed_or_oversized_notebooks_get_an_explained_status(data, status, words):
    notebook, got_status, problem = parse_notebook(data, SMALL)
    assert (notebook, got_status, words in problem) == (None, status, True), problem


def test_brackets_and_commas_inside_strings_do_not_count():
    text = json.dumps({"cells": [], "metadata": {"x": "[[[[[[[[[[[[[[[[{{{{{{{{{,,,,,,,,\\\"" * 50}})
    notebook, status, _ = parse_notebook(text.encode(), SMALL)
    assert status is None and notebook["metadata"]["x"].startswith("[[[")


def test_deep_nesting_within_the_size_limit_ends_as_invalid_not_recursion_error():
    data = b'{"cells": [], "metadata": {"x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}}"
    notebook, status, problem = parse_notebook(data, IntakeLimits())
    assert (notebook, status) == (None, Status.INVALID_NOTEBOOK) and "nested 100002 levels" in problem


def test_the_size_limit_is_checked_on_what_was_read(course):
    _, folder, _ = course
    (folder / f"{NOTEBOOK}.ipynb").write_bytes(_notebook(cells=2, padding="x" * 5000))
    taken = _take(course, limits=SMALL)
    assert taken.status == Status.NOTEBOOK_TOO_LARGE and "Clear Outputs" in taken.reason


def test_limits_come_from_the_intake_section_of_the_config():
    config = Config()
    config.Intake.max_cells = 7
    config.Intake.max_output_bytes_per_cell = 100
    assert IntakeLimits.from_config(config) == IntakeLimits(max_cells=7, max_output_bytes_per_cell=100)
    assert IntakeLimits.from_config(None) == IntakeLimits()


def test_a_folder_with_another_notebook_name_is_renamed_and_one_without_is_missing(course):
    _, folder, _ = course
    assert _take(course).status == Status.MISSING_NOTEBOOK
    (folder / "hw (1).ipynb").write_bytes(_notebook())
    taken = _take(course)
    assert taken.status == Status.RENAMED_NOTEBOOK and "hw (1).ipynb" in taken.reason


# ---------------------------------------------------------------- output kept per cell

def _stream(text, name="stdout"):
    return _message("stream", {"name": name, "text": text})


def _message(kind, content):
    return {"msg_type": kind, "header": {"msg_type": kind}, "parent_header": {"msg_id": "m"}, "content": content}


def _executor(limit):
    executor = BoundedExecute(max_output_bytes=limit)
    executor._kept, executor._notes, executor.clear_before_next_output = {}, {}, False
    return executor


def test_each_cell_keeps_at_most_its_output_budget_with_a_note_of_what_was_cut():
    executor, outs = _executor(10), []
    for text in ("abcdef", "ghijkl", "mnopqr"):
        executor.output(outs, _stream(text), None, 0)
    kept = "".join(o.text for o in outs if o.name == "stdout")
    note = [o.text for o in outs if o.name == "stderr"]
    assert kept == "abcdefghij" and len(note) == 1 and "8 more characters" in note[0]
    other_cell = []
    executor.output(other_cell, _stream("fresh"), None, 1)
    assert [o.text for o in other_cell] == ["fresh"]


def test_error_outputs_are_always_kept_but_bounded():
    executor, outs = _executor(10), []
    executor.output(outs, _stream("x" * 50), None, 0)
    error = _message("error", {"ename": "AssertionError", "evalue": "y" * 50, "traceback": ["z" * 50, "w" * 50]})
    executor.output(outs, error, None, 0)
    kept_error = [o for o in outs if o.output_type == "error"]
    assert len(kept_error) == 1 and kept_error[0].evalue == "y" * 10
    assert kept_error[0].traceback == ["[traceback cut by the grader]"]
    assert bounded_error({"evalue": "e", "traceback": ["ab", "cd"]}, 4) == {"evalue": "e", "traceback": ["ab", "c"]}


# ---------------------------------------------------------------- the same ending with one worker or two

HOSTILE_FOLDERS = {"linked_nb": "unsafe submission", "to_solutions": "unsafe submission",
                   "deep": "invalid notebook", "surrogate": "invalid notebook", "many_cells": "notebook too large",
                   "ad*": "invalid student id", "a\nb": "invalid student id"}


def _hostile_toy_folders(course):
    """Write submissions the intake refuses; return their expected ``{student id in results: status}``."""
    submitted = course / "autograder" / "submitted"
    release = course / "notebooks" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    good = release.read_bytes()
    folders = HOSTILE_FOLDERS
    for name in folders:
        (submitted / name / ASSIGNMENT).mkdir(parents=True)
    (submitted / "linked_nb" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").symlink_to(
        course / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    shutil.rmtree(submitted / "to_solutions" / ASSIGNMENT)
    (submitted / "to_solutions" / ASSIGNMENT).symlink_to(course / "solutions" / ASSIGNMENT)
    (submitted / "deep" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").write_bytes(
        good.replace(b'"metadata": {', b'"metadata": {"x": ' + b"[" * 100_000 + b"]" * 100_000 + b",", 1))
    (submitted / "surrogate" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").write_bytes(
        good.replace(b'"metadata": {', b'"metadata": {"x": "\\udc00",', 1))
    notebook = json.loads(good)
    notebook["cells"] += [nbformat.v4.new_markdown_cell(".")] * 50_000
    (submitted / "many_cells" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").write_text(json.dumps(notebook))
    for name in ("ad*", "a\nb"):
        (submitted / name / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").write_bytes(good)
    (submitted / "ada" / ASSIGNMENT).mkdir(parents=True)
    (submitted / "ada" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").write_bytes(good)
    return {intake.printable_id(name): status for name, status in folders.items()}


@pytest.mark.slow
@pytest.mark.xdist_group("toy_intake")
def test_bad_folders_end_identically_with_one_worker_and_with_two(tmp_path):
    from cs231kit.grading.release import release_assignment

    course = make_toy_course(tmp_path / "course")
    release_assignment(course, ASSIGNMENT)
    expected = _hostile_toy_folders(course)
    students = [*HOSTILE_FOLDERS, "ada"]
    endings = {}
    for jobs in (1, 2):
        results = grade_assignment(course, ASSIGNMENT, jobs=jobs, progress=False, feedback=False,
                                   students=students)
        endings[jobs] = {r.student: (r.status, r.score, r.reason) for r in results}
    assert endings[1] == endings[2]
    assert {s: endings[1][s][0] for s in expected} == expected
    assert all(endings[1][s][1] is None and endings[1][s][2] for s in expected)


def test_one_worker_goes_on_after_a_grader_error():
    class Broken:
        def grade(self, *args):
            raise OSError("disk full")

    result, feedback_error = _grade_safely(Broken(), GradingTask("a1", "ada\n", 3.0), True)
    assert (result.student, result.status, result.score, feedback_error) == ("ada\\n", "grading error", None, None)
    assert "disk full" in result.reason
