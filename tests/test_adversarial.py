"""The adversarial corpus (``autograder/adversarial/loss.py``) graded in one parallel batch.

Every bad submission must end with its expected status and exactly the score its honest
counterpart earns (never more), the batch must finish, and no submission file may change.
"""

import shutil

import pytest

from cs231kit.course import load_course_module
from cs231kit.grading.autograde import grade_assignment
from cs231kit.grading.demo import copy_course
from cs231kit.grading.reports import write_reports
from cs231kit.grading.simulate import release_points, write_simulated_class
from notebook_cells import REPO

ASSIGNMENT = "loss"
CORPUS = load_course_module(f"autograder/adversarial/{ASSIGNMENT}.py", root=REPO)
# Per-cell and per-notebook limits for the batch: far above what the notebook needs (about 20 s,
# a minute on a loaded CI machine), low enough that the endless loop costs little.
LIMITS = "c.Execute.timeout = 60\nc.Sandbox.wall_seconds = 300\n"


def _expected_score(case, points):
    if case["failing"] is None:
        return None
    return sum(points.values()) - sum(points[name] for name in case["failing"])


def test_the_corpus_has_at_least_25_cases_with_unique_names_and_known_tests():
    names = [case["name"] for case in CORPUS.CASES]
    assert len(names) >= 25 and len(set(names)) == len(names)
    points = release_points(REPO, ASSIGNMENT)
    for case in CORPUS.CASES:
        assert set(case["failing"] or ()) <= set(points), case["name"]
        assert set(case.get("test_statuses", {})) <= set(case["failing"] or ()), case["name"]


def _grade_corpus(course):
    """Grade the corpus in ``course`` in one batch of two workers; return ``({name: result}, submissions unchanged)``."""
    for assignment in (ASSIGNMENT, "gradcheck"):  # gradcheck: for the notebook submitted to the wrong assignment
        shutil.copytree(REPO / "notebooks" / assignment, course / "notebooks" / assignment)
    with open(course / "nbgrader_config.py", "a") as config:
        config.write(LIMITS)
    write_simulated_class(course, ASSIGNMENT, CORPUS.CASES)
    submitted = course / "autograder" / "submitted"
    before = {p: p.read_bytes() for p in submitted.rglob("*") if p.is_file()}
    results = grade_assignment(course, ASSIGNMENT, jobs=2, progress=False)
    write_reports(course, ASSIGNMENT, results)
    after = {p: p.read_bytes() for p in submitted.rglob("*") if p.is_file()}
    return {r.student: r for r in results}, before == after


@pytest.mark.slow
def test_every_bad_submission_ends_with_its_status_gains_no_point_and_the_batch_finishes(tmp_path):
    course = copy_course(REPO, tmp_path / "course")
    results, submissions_unchanged = _grade_corpus(course)
    points = release_points(course, ASSIGNMENT)

    outcomes = {case["name"]: (results[case["name"]].status, results[case["name"]].score) for case in CORPUS.CASES}
    expected = {case["name"]: (case["status"], _expected_score(case, points)) for case in CORPUS.CASES}
    assert outcomes == expected
    for case in CORPUS.CASES:
        result = results[case["name"]]
        assert result.reason or result.status == "graded", case["name"]
        tests = {t.name: t.status for t in result.tests}
        assert {t: tests[t] for t in case.get("test_statuses", {})} == case.get("test_statuses", {}), case["name"]
    flagged = [name for name, r in results.items() if r.status == "tamper suspected"]
    assert all("tests patched?" in results[name].reason or "replaced trusted code" in results[name].reason
               for name in flagged)

    assert submissions_unchanged and set(results) == {case["name"] for case in CORPUS.CASES}
    csv_text = (course / "autograder" / "reports" / ASSIGNMENT / "grades.csv").read_text()
    assert all(case["name"] in csv_text for case in CORPUS.CASES)
