"""One truth for scores: every view of a graded class shows the same autograded score and maximum,
written answers pending until a grader scores them, then the same total.

Views: the CLI table, grades.csv, report.json, the feedback HTML header, ``nbgrader export`` (run as
a command) and the Formgrader's data (nbgrader's API, which its pages call). One batch of the loss
assignment: the solution (written answers pending), the blank release (blank answers are a graded
0) and a typical bug; then a verification cap, and a grader's scores.
"""

import csv
import html
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from cs231kit.course import load_course_module
from cs231kit.grading import reports
from cs231kit.grading.autograde import grade_assignment
from cs231kit.grading.demo import copy_course
from cs231kit.grading.feedback import MISSING_ALT_TEXT, latex_to_mathml, with_alt_texts
from cs231kit.grading.export import gradebook_result
from cs231kit.grading.gradebook import VERIFICATION_ERROR, record_verification
from cs231kit.grading import outcomes
from cs231kit.grading.outcomes import SubmissionResult
from cs231kit.grading.session import make_api
from cs231kit.grading.simulate import write_simulated_class
from cs231kit.grading.status import Status
from notebook_cells import REPO

ASSIGNMENT = "loss"
STUDENTS = ("reference", "blank", "svm_grad_sign_flipped")
# A grader's scores for the reference's written answers (out of 1 point each).
# A row of the CLI table: student, autograded "s / m", written ("pending (k points)", "w / m" or "-"), total.
TABLE_ROW = re.compile(r"^(\S+)\s+(\S+) / (\S+)\s+(pending \(.*?\)|\S+ / \S+|-)\s+(\S+ / \S+|-)\s")
HUMAN_SCORES = {"svm_q1_answer": 1.0, "svm_q5_answer": 0.5, "svm_q6_answer": 1.0, "softmax_q3_answer": 0.0}


# ---------------------------------------------------------------- pure pieces (fast)

def _result(written_points):
    tests = (outcomes.TestResult("t1", "passed", 2.0, 2.0), outcomes.TestResult("t2", "failed", 0.0, 1.0, "x"),
             *(outcomes.TestResult(f"w{i}", Status.MANUAL, p, 1.0) for i, p in enumerate(written_points)))
    return SubmissionResult("ann", "toy", "graded", 2.0, 3.0, tests)


def test_written_answers_are_pending_until_all_are_graded_then_the_total_counts_them():
    pending = _result([None, 1.0])
    assert (pending.manual_pending, pending.written_score, pending.total, pending.total_max) == (1, None, None, 5.0)
    assert reports.score_parts(pending) == ("2 / 3", "pending (1 point)", "-")
    graded = _result([0.5, 1.0])
    assert (graded.manual_pending, graded.written_score, graded.total) == (0, 1.5, 3.5)
    assert reports.score_parts(graded) == ("2 / 3", "1.5 / 2", "3.5 / 5")
    assert "written answers: 1 submission(s) waiting for a grader, 1 graded" in reports.class_summary([pending, graded])
    row = next(csv.DictReader(io.StringIO(reports.grades_csv([pending]))))
    assert (row["score"], row["max_score"], row["manual_pending"], row["written_score"], row["total"]) == \
        ("2", "3", "1", "", "")


def test_latex_becomes_mathml_outside_code_spans():
    text = r"Loss $L_i = \sum_j s_j$ and `price = $5$` and $$\frac{a}{b}$$"
    converted = latex_to_mathml(text)
    assert converted.count("<math") == 2 and 'display="block"' in converted
    assert "`price = $5$`" in converted and "$" not in converted.replace("`price = $5$`", "")


# ---------------------------------------------------------------- every view of one graded class (slow)

def _views(course, results, exported_csv):
    """``{view: {student: (autograded score, autograded max, written answers pending, total)}}``."""
    folder = course / "autograder" / "reports" / ASSIGNMENT
    views = {"table": {}, "csv": {}, "json": {}, "feedback": {}, "export": {}, "formgrader": {}}
    for line in reports.class_table(results).splitlines()[2:]:
        student, score, maximum, written, total = TABLE_ROW.match(line).groups()
        views["table"][student] = (float(score), float(maximum), written.startswith("pending"),
                                   float(total.split(" / ")[0]) if " / " in total else None)
    for row in csv.DictReader(io.StringIO((folder / "grades.csv").read_text())):
        views["csv"][row["student"]] = _row_view(row)
    for entry in json.loads((folder / "report.json").read_text())["submissions"]:
        views["json"][entry["student"]] = (entry["score"], entry["max_score"], entry["manual_pending"] > 0, entry["total"])
    for student in STUDENTS:
        views["feedback"][student] = _feedback_view(_feedback_path(course, student))
    for row in csv.DictReader(io.StringIO(exported_csv)):
        if row["assignment"] == ASSIGNMENT:
            views["export"][row["student_id"]] = _row_view(row)
    api = make_api(course)
    for submission in api.get_submissions(ASSIGNMENT):
        views["formgrader"][submission["student"]] = (
            submission["code_score"], submission["max_code_score"], submission["needs_manual_grade"],
            None if submission["needs_manual_grade"] else submission["score"])
    return views


def _row_view(row):
    return (float(row["score"]), float(row["max_score"]), int(row["manual_pending"]) > 0,
            float(row["total"]) if row["total"] else None)


def _feedback_path(course, student):
    return course / "autograder" / "feedback" / student / ASSIGNMENT / f"{ASSIGNMENT}.html"


def _feedback_view(path):
    page = path.read_text()
    cells = {key: html.unescape(re.search(rf'id="{key}-score">([^<]*)<', page).group(1))
             for key in ("autograded", "written", "total")}
    score, maximum = (float(x) for x in cells["autograded"].split(" / "))
    total = float(cells["total"].split(" / ")[0]) if " / " in cells["total"] else None
    return score, maximum, cells["written"].startswith("pending"), total


def _export(course):
    """Run the real ``nbgrader export`` in the course; return the CSV text."""
    target = course / "exported.csv"
    done = subprocess.run([str(Path(sys.executable).parent / "nbgrader"), "export", f"--to={target}"], cwd=course,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return target.read_text()


def _assert_views_agree(views, expected):
    for name, view in views.items():
        assert view == expected, f"{name} disagrees: {view} != {expected}"


def _grade(course, students):
    results = grade_assignment(course, ASSIGNMENT, students=list(students), jobs=2, progress=False)
    reports.write_reports(course, ASSIGNMENT, results)
    return results


# Every test of the graded class runs on one xdist worker, so that the class is graded once (~50 s), not
# once per worker.
ON_THE_GRADED_CLASS = pytest.mark.xdist_group("scores_graded_class")


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """The loss assignment's small class, graded once: ``(course, {student: result})``."""
    course = copy_course(REPO, tmp_path_factory.mktemp("scores") / "course")
    shutil.copytree(REPO / "notebooks" / ASSIGNMENT, course / "notebooks" / ASSIGNMENT)
    simulated = load_course_module(f"autograder/simulated/{ASSIGNMENT}.py", root=REPO).STUDENTS
    write_simulated_class(course, ASSIGNMENT, [s for s in simulated if s["name"] in STUDENTS])
    results = _grade(course, STUDENTS)
    return course, results


@ON_THE_GRADED_CLASS
@pytest.mark.slow
def test_every_view_shows_the_same_scores_and_pending_written_answers(graded_class):
    course, results = graded_class
    by_student = {r.student: r for r in results}
    expected = {r.student: (r.score, r.max_score, r.manual_pending > 0, r.total) for r in results}
    # The solution's written answers wait for a grader; the blank release's are a graded 0.
    assert expected["reference"] == (32.0, 32.0, True, None)
    assert expected["blank"][2:] == (False, 0.0) and by_student["blank"].written_score == 0.0
    _assert_views_agree(_views(course, results, _export(course)), expected)
    # Formgrader's whole-assignment maximum is the kit's total maximum; students have names.
    submissions = {s["student"]: s for s in make_api(course).get_submissions(ASSIGNMENT)}
    assert {s["max_score"] for s in submissions.values()} == {by_student["reference"].total_max}
    assert all(s["last_name"] == name and s["first_name"] is not None for name, s in submissions.items())


@ON_THE_GRADED_CLASS
@pytest.mark.slow
def test_verification_caps_are_autograded_zeros_with_a_reason_never_over_a_graders_score(graded_class):
    course, results = graded_class
    student, capped, overridden = "svm_grad_sign_flipped", "test_svm_naive_known_answer", "test_l2_penalty_visible"
    before = next(r for r in results if r.student == student)
    api = make_api(course)
    gradebook = api.gradebook
    try:
        grades = _grades(gradebook, student)
        assert grades[capped].auto_score == grades[overridden].auto_score == 1.0
        grades[overridden].manual_score = 1.0  # a grader's decision
        gradebook.db.commit()
        record_verification(gradebook, ASSIGNMENT, student, {capped: "probe 'svm' differs", overridden: "probe 'l2'"},
                            course / "autograder" / "autograded" / student / ASSIGNMENT)
        grades = _grades(gradebook, student)
        assert (grades[capped].auto_score, grades[capped].manual_score) == (0.0, None)
        assert (grades[overridden].auto_score, grades[overridden].manual_score) == (0.0, 1.0)
        assert gradebook_result(gradebook, ASSIGNMENT, student).score == before.score - 1.0
    finally:
        gradebook.close()
    assert api.generate_feedback(ASSIGNMENT, student, force=True)["success"]
    page = html.unescape(_feedback_path(course, student).read_text())
    assert f"{VERIFICATION_ERROR}: probe 'svm' differs" in page
    assert _feedback_view(_feedback_path(course, student))[0] == before.score - 1.0


def _grades(gradebook, student):
    return {g.name: g for n in gradebook.find_submission(ASSIGNMENT, student).notebooks for g in n.grades}


@ON_THE_GRADED_CLASS
@pytest.mark.slow
def test_feedback_draws_maths_without_scripts_and_wraps_lines(graded_class):
    course, _ = graded_class
    page = _feedback_path(course, "reference").read_text()
    assert "<math" in page and "<script" not in page and "mathjax" not in page.lower()
    assert "white-space: pre-wrap" in page
    assert "pending: 1 point, not graded yet" in page


def test_images_without_an_alt_text_get_nbconverts_and_the_others_keep_theirs():
    page = '<p><img src="a.png"><IMG ALT="x" src=b><img\nsrc=c alt=y><image src=d>'
    assert with_alt_texts(page) == f'<p><img alt="{MISSING_ALT_TEXT}" src="a.png"><IMG ALT="x" src=b><img\nsrc=c alt=y><image src=d>'


@ON_THE_GRADED_CLASS
@pytest.mark.slow
def test_feedback_pages_leave_nothing_to_nbconverts_accessibility_pass(graded_class):
    """The feedback exporter skips ``HTMLExporter``'s second parse of the page (half of its time); on the
    kit's pages that pass would change nothing: every image (the notebook's figures) has an alt text, and
    the classic template has no JupyterLab cells to give a tab index."""
    course, _ = graded_class
    page = BeautifulSoup(_feedback_path(course, "reference").read_text(), features="html.parser")
    assert page.select("img") and page.select("img:not([alt])") == []
    assert page.select(".jp-Notebook div.jp-Cell-inputWrapper, .jp-Notebook div.jp-OutputArea-output") == []


@ON_THE_GRADED_CLASS
@pytest.mark.slow
def test_a_graders_scores_reach_every_view_and_survive_grading_again(graded_class):
    course, results = graded_class
    gradebook = make_api(course).gradebook
    try:  # what Formgrader does when a grader scores an answer
        for notebook in gradebook.find_submission(ASSIGNMENT, "reference").notebooks:
            for grade in notebook.grades:
                if grade.name in HUMAN_SCORES:
                    grade.manual_score, grade.needs_manual_grade = HUMAN_SCORES[grade.name], False
        gradebook.db.commit()
    finally:
        gradebook.close()
    regraded = {r.student: r for r in _grade(course, ["reference"])}
    reference = regraded["reference"]
    assert (reference.manual_pending, reference.written_score) == (0, sum(HUMAN_SCORES.values()))
    assert reference.total == reference.score + sum(HUMAN_SCORES.values())
    gradebook = make_api(course).gradebook
    try:
        grades = _grades(gradebook, "reference")
        assert {name: grades[name].manual_score for name in HUMAN_SCORES} == HUMAN_SCORES
        assert not any(grades[name].needs_manual_grade for name in HUMAN_SCORES)
    finally:
        gradebook.close()
    views = _views(course, list(regraded.values()), _export(course))
    expected = (reference.score, reference.max_score, False, reference.total)
    for name, view in views.items():
        assert view["reference"] == expected, name
    submission = next(s for s in make_api(course).get_submissions(ASSIGNMENT) if s["student"] == "reference")
    assert (submission["score"], submission["max_score"]) == (reference.total, reference.total_max)
