"""The grading pipeline on the toy course: scores, explained failures, reports, release safety, CLI."""

import csv
import html
import io
import json
import re
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.dbutil import _temp_alembic_ini

from cs231kit.grading import outcomes, reports, simulate
from cs231kit.grading.autograde import grade_assignment
from cs231kit.grading.cells import grade_id
from cs231kit.grading.demo import run_demo
from cs231kit.grading.release import ReleaseError, find_leaked_markers, release_assignment
from cs231kit.grading.sandbox import probe_isolation
from cs231kit.grading.session import list_assignments
from cs231kit.grading.status import Status
from toy_course import ASSIGNMENT, TEST_POINTS, make_toy_course

MAX_SCORE = sum(TEST_POINTS.values())


# ---------------------------------------------------------------- pure steps (fast)

def test_reports_hold_the_same_text_whether_a_status_is_a_status_or_its_string():
    def result(status, test_status):
        return outcomes.SubmissionResult("ann", "toy", status, 1.0, 2.0, (outcomes.TestResult("t", test_status, 1.0, 2.0),))

    for statuses in [(Status.GRADED, Status.FAILED), (Status.TAMPER_SUSPECTED, Status.FAILED_VERIFICATION)]:
        typed, text = result(*statuses), result(*map(str.__str__, statuses))
        assert type(text.status) is str and text.status == typed.status
        for render in (reports.grades_csv, reports.json_report, reports.class_table, reports.class_summary):
            assert render([typed]) == render([text])


def test_patch_that_does_not_apply_names_the_student_and_cell():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")])
    notebook.cells[0].metadata["nbgrader"] = {"grade_id": "cell_a"}
    with pytest.raises(simulate.SimulationError, match=r"eve.*occurs 0 times in 'cell_a'"):
        simulate.apply_patches([notebook], [dict(cell="cell_a", old="y = 2", new="y = 3")], "eve")


def test_expected_score_subtracts_the_failing_tests():
    points = {"a": 1.0, "b": 2.0, "c": 4.0}
    assert simulate.expected_score({"name": "s", "failing": ["b"]}, points) == 5.0
    assert simulate.expected_score({"name": "s", "failing": None}, points) == 0.0
    with pytest.raises(simulate.SimulationError, match="unknown test cells"):
        simulate.expected_score({"name": "s", "failing": ["zzz"]}, points)


@pytest.mark.parametrize("log, status", [
    ("nbformat.reader.NotJSONError: Notebook does not appear to be JSON", "invalid notebook"),
    ("No notebooks found, did you forget to run 'nbgrader generate_assignment'?", "missing notebook"),
    ("RuntimeError: Inconsistent checksums for cell test_x", "edited test cells"),
    ("nbclient.exceptions.DeadKernelError: Kernel died", "kernel died"),
    ("something nobody has seen before", "grading error"),
])
def test_grading_failures_are_explained(log, status):
    got_status, reason = outcomes.explain_grading_failure(log)
    assert got_status == status and reason


def test_csv_keeps_a_failure_to_grade_apart_from_a_zero():
    zero = outcomes.SubmissionResult("ann", "toy", "graded", 0.0, 6.0, (
        outcomes.TestResult("t1", Status.FAILED, 0.0, 6.0, "AssertionError: no"),))
    broken = outcomes.failed_submission("ben", "toy", 6.0, "NotJSONError: ...")
    rows = list(csv.DictReader(io.StringIO(reports.grades_csv([zero, broken]))))
    assert (rows[0]["score"], rows[0]["status"], rows[0]["failed_tests"]) == ("0", "graded", "t1")
    assert (rows[1]["score"], rows[1]["status"]) == ("", "invalid notebook")
    assert "not valid JSON" in rows[1]["reason"]


def test_class_table_summarises_each_submission_and_flags_unexpected_scores():
    tests = (outcomes.TestResult("t1", Status.FAILED, 0.0, 1.0, "x"), outcomes.TestResult("t2", Status.FAILED, 0.0, 1.0, "x"),
             outcomes.TestResult("essay", Status.MANUAL, None, 1.0))
    blank = outcomes.SubmissionResult("blank", "toy", "graded", 0.0, 2.0, tests)
    half = outcomes.SubmissionResult("half", "toy", "graded", 1.0, 2.0,
                                     (outcomes.TestResult("t1", Status.PASSED, 1.0, 1.0), tests[1]))
    broken = outcomes.failed_submission("broken", "toy", 2.0, "NotJSONError")
    lines = reports.class_table([blank, half, broken], expected={"blank": 0.0, "half": 2.0}).splitlines()
    assert lines[2].split()[-3:] == ["all", "2", "tests"]
    assert "2  !!" in lines[3] and lines[3].endswith("t2")
    assert "not valid JSON" in lines[4]
    assert len(lines[1]) == len(lines[0])


def test_reports_are_written_atomically_and_leave_no_temporary_files(tmp_path):
    result = outcomes.SubmissionResult("ann", "toy", "graded", 1.0, 1.0, ())
    csv_path, json_path, _, png_path = reports.write_reports(tmp_path, "toy", [result])
    assert json.loads(json_path.read_text())["statuses"] == {"graded": 1}
    assert sorted(p.name for p in csv_path.parent.iterdir()) == ["grades.csv", "report.json", "summary.png", "summary.txt"]
    assert png_path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_class_summary_counts_statuses_scores_and_the_most_failed_tests():
    def graded(student, score, failed):
        tests = tuple(outcomes.TestResult(t, Status.FAILED if t in failed else Status.PASSED,
                                          0.0 if t in failed else 1.0, 1.0) for t in ("t1", "t2", "t3"))
        return outcomes.SubmissionResult(student, "toy", "graded", score, 3.0, tests)

    results = [graded("a", 3.0, ()), graded("b", 1.0, ("t1", "t2")), graded("c", 2.0, ("t2",)),
               outcomes.failed_submission("d", "toy", 3.0, "NotJSONError")]
    assert reports.most_failed_tests(results) == [("t2", 2), ("t1", 1)]
    lines = reports.class_summary(results).splitlines()
    assert lines[0] == "4 students: 3 graded, 1 invalid notebook"
    assert lines[1] == "autograded score (out of 3): mean 2.0, median 2, min 1, max 3, full marks 1"
    assert lines[3:] == ["     2 / 3  t2", "     1 / 3  t1"]
    figure = reports.plot_class_summary(results)
    scores_ax, tests_ax = figure.axes
    assert [p.get_height() for p in scores_ax.patches if p.get_height()] == [1, 1, 1]
    assert [t.get_text() for t in tests_ax.get_yticklabels()] == ["t1", "t2"]
    assert all(float(tick).is_integer() for tick in [*scores_ax.get_yticks(), *tests_ax.get_xticks()])


# ---------------------------------------------------------------- nbgrader runs (slow)

# Every test of the toy demo runs on one xdist worker, so that the demo runs once, not once per worker.
ON_THE_TOY_DEMO = pytest.mark.xdist_group("toy_demo")


@pytest.fixture(scope="module")
def toy_demo(tmp_path_factory):
    """The toy course's demo, kept on disk for inspection by several tests."""
    source = make_toy_course(tmp_path_factory.mktemp("toy-source"))
    workdir = tmp_path_factory.mktemp("toy-demo")
    lines = []
    demos = run_demo(source, workdir=workdir, progress=False, echo=lines.append)
    return demos[0], workdir / "course", "\n".join(lines)


@ON_THE_TOY_DEMO
@pytest.mark.slow
def test_demo_gives_every_simulated_student_the_expected_score(toy_demo):
    demo, _, printed = toy_demo
    scores = {r.student: r.score for r in demo.results}
    assert scores == {"ada": 6.0, "bob": 0.0, "cy": 3.0, "di": 3.0}
    assert demo.mismatches == []
    assert "All 4 simulated students got exactly their expected score." in printed


@pytest.mark.slow
def test_one_batch_grades_several_assignments_each_as_if_alone(tmp_path):
    """The demo grades every assignment in one pool of workers; each assignment's results are its own."""
    source = make_toy_course(tmp_path / "source")
    shutil.copytree(source / "solutions" / ASSIGNMENT, source / "solutions" / "toy2")
    toy2_class = simulate.load_simulated_class(source, ASSIGNMENT)[::2]  # ada and cy only
    (source / "autograder" / "simulated" / "toy2.py").write_text(f"STUDENTS = {toy2_class!r}\n")
    lines = []
    demos = run_demo(source, workdir=tmp_path / "demo", progress=False, echo=lines.append)
    assert [d.assignment for d in demos] == [ASSIGNMENT, "toy2"]
    for demo in demos:
        assert {r.assignment for r in demo.results} == {demo.assignment}
        assert {r.student: r.score for r in demo.results} == demo.expected
    assert set(demos[1].expected) == {"ada", "cy"}
    assert any(line.startswith("Graded 6 simulated students of 2 assignments in one batch") for line in lines)
    assert "All 6 simulated students got exactly their expected score." in "\n".join(lines)


@ON_THE_TOY_DEMO
@pytest.mark.slow
def test_failed_tests_carry_the_reason(toy_demo):
    demo, _, _ = toy_demo
    blank = next(r for r in demo.results if r.student == "bob")
    assert set(blank.failed_tests) == set(TEST_POINTS)
    assert all("NotImplementedError" in t.reason for t in blank.tests if t.status == Status.FAILED)
    # The blank release's written answer is nbgrader's "no response": a graded 0, not pending.
    assert (blank.manual_pending, blank.written_score, blank.total) == (0, 0.0, 0.0)
    ada = next(r for r in demo.results if r.student == "ada")
    assert (ada.manual_pending, ada.written_score, ada.total) == (1, None, None)


@ON_THE_TOY_DEMO
@pytest.mark.slow
def test_release_and_feedback_hold_no_solution_or_hidden_test(toy_demo):
    _, course, _ = toy_demo
    release = nbformat.read(str(course / "notebooks" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"), as_version=4)
    assert find_leaked_markers(release) == []
    assert "return a + b" not in json.dumps(release)
    for student in ("ada", "cy", "di"):  # cy and di fail hidden tests: not even their tracebacks show them
        feedback = _visible_text(course / "autograder" / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html")
        assert "add(-4, 10)" not in feedback and "scale(3, 4)" not in feedback, student
        assert "HIDDEN TESTS" not in feedback, student
    assert "AssertionError" in _visible_text(course / "autograder" / "feedback" / "cy" / ASSIGNMENT / f"{ASSIGNMENT}.html")


def _visible_text(html_path):
    """The text a reader of an HTML page sees (tags removed, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", Path(html_path).read_text()))


def _submit(course, student, writer):
    folder = course / "autograder" / "submitted" / student / ASSIGNMENT
    shutil.rmtree(folder.parent, ignore_errors=True)
    folder.mkdir(parents=True)
    writer(folder)


@ON_THE_TOY_DEMO
@pytest.mark.slow
def test_bad_submissions_end_with_an_explained_status_never_a_zero(toy_demo):
    _, course, _ = toy_demo
    good = course / "autograder" / "submitted" / "ada" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    good_text = good.read_text()

    def without_hidden_test(folder):
        notebook = nbformat.reads(good_text, as_version=4)
        notebook.cells = [c for c in notebook.cells if grade_id(c) != "test_scale_hidden"]
        nbformat.write(notebook, str(folder / f"{ASSIGNMENT}.ipynb"))

    _submit(course, "corrupt", lambda f: (f / f"{ASSIGNMENT}.ipynb").write_text(good_text[: len(good_text) // 2]))
    _submit(course, "empty", lambda f: (f / f"{ASSIGNMENT}.ipynb").write_text(""))
    _submit(course, "renamed", lambda f: (f / f"{ASSIGNMENT}-Copy1.ipynb").write_text(good_text))
    _submit(course, "deleted_test", without_hidden_test)
    (course / "autograder" / "submitted" / "absent").mkdir()
    before = {p: p.read_bytes() for p in (course / "autograder" / "submitted").rglob("*.ipynb")}

    students = ["corrupt", "empty", "renamed", "deleted_test", "absent"]
    results = {r.student: r for r in grade_assignment(course, ASSIGNMENT, students=students, progress=False)}

    assert {s: results[s].status for s in students} == {
        "corrupt": "invalid notebook", "empty": "invalid notebook", "renamed": "renamed notebook",
        "deleted_test": "test cells restored", "absent": "not submitted"}
    assert all(results[s].score is None for s in ("corrupt", "empty", "renamed", "absent"))
    assert "not valid JSON" in results["corrupt"].reason and "empty" in results["empty"].reason
    assert f"{ASSIGNMENT}-Copy1.ipynb" in results["renamed"].reason
    assert results["deleted_test"].score == MAX_SCORE  # the deleted test is put back and graded
    assert "test_scale_hidden was deleted" in results["deleted_test"].reason
    assert all(p.read_bytes() == data for p, data in before.items())  # submissions never modified


@ON_THE_TOY_DEMO
@pytest.mark.slow
def test_failed_release_keeps_the_committed_release(toy_demo, tmp_path):
    _, course, _ = toy_demo
    copy = shutil.copytree(course, tmp_path / "course")
    release = copy / "notebooks" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    before = release.read_bytes()
    (copy / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").write_text("{ not json")
    with pytest.raises(ReleaseError, match="could not release"):
        release_assignment(copy, ASSIGNMENT)
    assert release.read_bytes() == before


def test_a_new_gradebook_gets_nbgraders_schema_revision_without_a_process(tmp_path, monkeypatch):
    """nbgrader stamps a new gradebook with what ``alembic heads`` prints; the kit asks alembic in its own
    process (2.5 s less per new gradebook) and must get the same revision."""
    with _temp_alembic_ini("sqlite:///unused.db") as ini:
        heads = subprocess.run([sys.executable, "-m", "alembic", "-c", ini, "heads"], capture_output=True,
                               text=True, check=True).stdout
    root = tmp_path / "course"
    make_toy_course(root)

    def no_process(*args, **kwargs):
        raise AssertionError(f"a process was started: {args}")

    monkeypatch.setattr(subprocess, "check_output", no_process)
    monkeypatch.setattr(subprocess, "check_call", no_process)
    release_assignment(root, ASSIGNMENT)
    with sqlite3.connect(root / "autograder" / "gradebook.db") as gradebook:
        stamped = gradebook.execute("SELECT version_num FROM alembic_version").fetchall()
    assert stamped == [(heads.split()[0],)] and heads.split()[1] == "(head)"


@ON_THE_TOY_DEMO
@pytest.mark.slow
def test_grade_command_reports_submissions_that_need_attention(toy_demo, tmp_path):
    _, course, _ = toy_demo
    copy = shutil.copytree(course, tmp_path / "course")
    (copy / "autograder" / "gradebook.db").unlink()  # a fresh clone has no gradebook: grade registers
    _submit(copy, "corrupt", lambda f: (f / f"{ASSIGNMENT}.ipynb").write_text("{"))
    run = subprocess.run([sys.executable, "-m", "cs231kit.cli", "--course-dir", str(copy), "grade", ASSIGNMENT,
                          "--student", "ada", "--student", "corrupt", "--no-feedback"],
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stderr
    assert "need attention: corrupt" in run.stdout
    rows = {r["student"]: r for r in csv.DictReader(open(copy / "autograder" / "reports" / ASSIGNMENT / "grades.csv"))}
    assert (rows["ada"]["score"], rows["corrupt"]["status"]) == ("6", "invalid notebook")


def test_assignments_are_listed_in_course_order_then_by_name(tmp_path):
    for name in ("zeta", "features", "loss", "alpha", "optimizers", "gradcheck", "empty"):
        (tmp_path / "solutions" / name).mkdir(parents=True)
        if name != "empty":
            (tmp_path / "solutions" / name / f"{name}.ipynb").write_text("{}")
    assert list_assignments(tmp_path) == ["loss", "gradcheck", "optimizers", "features", "alpha", "zeta"]


@ON_THE_TOY_DEMO
@pytest.mark.slow
def test_hostile_submissions_are_contained_and_explained_in_a_parallel_batch(toy_demo, tmp_path):
    _, course, _ = toy_demo
    copy = shutil.copytree(course, tmp_path / "course")
    with open(copy / "nbgrader_config.py", "a") as config:
        config.write("c.Execute.timeout = 5\nc.Sandbox.wall_seconds = 25\n")
    good_text = (copy / "autograder" / "submitted" / "ada" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").read_text()

    def with_add(body):
        def write(folder):
            notebook = nbformat.reads(good_text, as_version=4)
            cell = next(c for c in notebook.cells if grade_id(c) == "add")
            cell.source = body
            nbformat.write(notebook, str(folder / f"{ASSIGNMENT}.ipynb"))
        return write

    snoop = (f"import pathlib\nroot = pathlib.Path({str(copy)!r})\n"
             "found = [p for p in root.rglob('*') if p.name == 'gradebook.db' or 'solutions' in p.parts and p.is_file()]\n"
             "def add(a, b):\n    return a + b if not found else None")
    _submit(copy, "snooper", with_add(snoop))
    _submit(copy, "exiter", with_add("import os\nos._exit(1)"))
    _submit(copy, "looper", with_add("import signal\ndef add(a, b):\n    signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                     "    while True:\n        pass"))
    students = ["ada", "cy", "snooper", "exiter", "looper"]
    results = {r.student: r for r in grade_assignment(copy, ASSIGNMENT, students=students, progress=False, jobs=2)}

    assert (results["ada"].score, results["cy"].score) == (6.0, 3.0)
    assert (results["exiter"].status, results["exiter"].score) == ("kernel died", None)
    assert (results["looper"].status, results["looper"].score) == ("timeout", None)
    assert "limit" in results["looper"].reason
    if probe_isolation()["namespaces"]:
        assert results["snooper"].score == 6.0, "student code could see the gradebook or the sources"


@ON_THE_TOY_DEMO
@pytest.mark.slow
def test_a_dead_worker_pool_does_not_lose_the_batch(toy_demo, tmp_path):
    # A program read from stdin cannot start "spawn" workers (they re-import __main__): the pool breaks.
    _, course, _ = toy_demo
    copy = shutil.copytree(course, tmp_path / "course")
    program = ("from cs231kit.grading.autograde import grade_assignment\n"
               f"results = grade_assignment({str(copy)!r}, {ASSIGNMENT!r}, students=['ada', 'cy'], jobs=2,"
               " progress=False, feedback=False)\n"
               "print({r.student: r.score for r in results})")
    run = subprocess.run([sys.executable, "-"], input=program, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "a grading worker process died" in run.stderr
    assert run.stdout.strip().splitlines()[-1] == "{'ada': 6.0, 'cy': 3.0}"
