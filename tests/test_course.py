"""The committed course: releases in sync with their sources, solutions that run, the demo's scores."""

import filecmp
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from cs231kit.grading import verify
from cs231kit.grading.cells import grade_id
from cs231kit.grading.demo import run_demo
from cs231kit.grading.release import find_leaked_markers, generate_release
from cs231kit.grading.session import COURSE_ORDER, grading_environment, list_assignments
from cs231kit.grading.simulate import load_simulated_class

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENTS = list_assignments(REPO)
SOLUTION_CELL_TIMEOUT = 300


def test_there_is_at_least_one_assignment_and_all_are_in_course_order():
    assert ASSIGNMENTS, "solutions/ holds no assignment"
    assert ASSIGNMENTS == [a for a in COURSE_ORDER if a in ASSIGNMENTS]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_holds_no_solution_or_hidden_test(assignment):
    for path in sorted((REPO / "notebooks" / assignment).glob("*.ipynb")):
        notebook = nbformat.read(str(path), as_version=4)
        assert find_leaked_markers(notebook) == [], f"{path} leaks solution or hidden-test markers"
        assert all(not c.get("outputs") for c in notebook.cells if c.cell_type == "code"), f"{path} has stale outputs"


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_committed_release_equals_a_fresh_generation(assignment, tmp_path):
    fresh = generate_release(REPO, assignment, tmp_path / "release", db_url=f"sqlite:///{tmp_path / 'gradebook.db'}")
    committed = REPO / "notebooks" / assignment
    comparison = filecmp.dircmp(fresh, committed)
    assert not (comparison.left_only or comparison.right_only), "release files differ: run `cs231kit release`"
    for name in comparison.common_files:
        assert (fresh / name).read_bytes() == (committed / name).read_bytes(), \
            f"notebooks/{assignment}/{name} is out of date: run `cs231kit release {assignment}`"


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_notebook_runs_top_to_bottom_and_passes_every_test(assignment):
    for path in sorted((REPO / "solutions" / assignment).glob("*.ipynb")):
        notebook = nbformat.read(str(path), as_version=4)
        with grading_environment():
            NotebookClient(notebook, timeout=SOLUTION_CELL_TIMEOUT, kernel_name="python3",
                           resources={"metadata": {"path": str(path.parent)}}, allow_errors=True).execute()
        errors = [(grade_id(c) or i, o.get("ename"), o.get("evalue"))
                  for i, c in enumerate(notebook.cells) for o in c.get("outputs", []) if o.get("output_type") == "error"]
        assert errors == [], f"{path.name}: cells raised {errors}"


def test_every_assignment_has_a_simulated_class():
    assert [a for a in ASSIGNMENTS if not load_simulated_class(REPO, a)] == []


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_demo_gives_every_simulated_student_exactly_the_expected_score(assignment):
    lines = []
    (demo,) = run_demo(REPO, assignments=[assignment], progress=False, echo=lines.append)
    assert demo.mismatches == [], "\n".join(lines)
    by_student = {r.student: r for r in demo.results}
    # Out-of-process verification agrees with the notebook's tests on every honest student: it takes
    # away exactly the failing tests that a probe backs, no more (nobody loses an earned point, nobody
    # is suspected) and no fewer (each probe checks what its tests check).
    backed = set(verify.probes_by_test(verify.load_probes(REPO, assignment).probes))
    for student in load_simulated_class(REPO, assignment):
        result = by_student[student["name"]]
        failing = backed if student["failing"] is None else set(student["failing"]) & backed
        assert (result.status, set(result.unverified)) == ("graded", failing), (student["name"], result.reason)
    assert by_student["reference"].score == by_student["reference"].max_score
    assert by_student["blank"].score == 0.0
