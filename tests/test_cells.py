"""The notebook-cell vocabulary (cs231kit.grading.cells) on hand-written cells and on the course's notebooks."""

import pytest
from notebook_cells import REPO, read_notebook

from cs231kit.grading import cells
from cs231kit.grading.session import list_assignments

TEST_CELL = ("assert add(1, 2) == 3\n"
             "### BEGIN HIDDEN TESTS\n"
             "assert add(-4, 10) == 6\n"
             "### END HIDDEN TESTS\n"
             "print('visible tests passed')\n")


def _cell(source="", cell_type="code", **nbgrader):
    return {"cell_type": cell_type, "source": source, "metadata": {"nbgrader": nbgrader} if nbgrader else {}}


def test_solution_text_drops_only_marker_lines():
    source = "def f():\n    ### BEGIN SOLUTION\n    return 1\n    ### END SOLUTION\n"
    assert cells.solution_text(source) == "def f():\n    return 1\n"


def test_hidden_tests_are_the_lines_between_the_markers():
    assert cells.hidden_tests(TEST_CELL) == "assert add(-4, 10) == 6\n"
    assert cells.hidden_tests("assert add(1, 2) == 3\n") is None


def test_replacing_the_hidden_tests_keeps_the_visible_lines_around_them():
    replaced = cells.replace_hidden_tests(TEST_CELL, "VERDICT")
    assert replaced == "assert add(1, 2) == 3\nVERDICT\nprint('visible tests passed')\n"
    assert not cells.has_markers(replaced) and cells.has_markers(TEST_CELL)


def test_the_roles_of_a_cell_follow_its_nbgrader_metadata():
    test = _cell(TEST_CELL, grade=True, grade_id="test_add", locked=True, points=2, solution=False)
    solution = _cell("### BEGIN SOLUTION\n### END SOLUTION", grade=False, grade_id="add", solution=True)
    written = _cell("answer", "markdown", grade=True, grade_id="why", solution=True, points=1)
    assert (cells.grade_id(test), cells.points(test), cells.is_locked(test)) == ("test_add", 2.0, True)
    assert [cells.is_autograded_test(c) for c in (test, solution, written)] == [True, False, False]
    assert [cells.is_solution(c) for c in (test, solution, written)] == [False, True, True]
    assert [cells.is_graded(c) for c in (test, solution, written)] == [True, False, True]


@pytest.mark.parametrize("cell", [
    {}, {"metadata": None}, {"metadata": {"nbgrader": ["grade"]}}, {"metadata": {"nbgrader": {"grade_id": ["x"]}}},
    {"metadata": {"nbgrader": None}, "source": 3},
])
def test_malformed_cells_read_as_ordinary_cells(cell):
    assert cells.grade_id(cell) is None and not cells.is_solution(cell) and not cells.is_autograded_test(cell)
    assert cells.cell_text(cell.get("source")) == ""


def test_cell_text_joins_a_list_of_lines():
    assert cells.cell_text(["a = 1\n", "b = 2"]) == "a = 1\nb = 2"


@pytest.mark.parametrize("assignment", list_assignments(REPO))
def test_every_hidden_test_region_of_the_course_is_read_and_its_release_has_no_markers(assignment):
    source = read_notebook(REPO / "solutions" / assignment / f"{assignment}.ipynb")["cells"]
    marked = [c for c in source if cells.BEGIN_HIDDEN_TESTS in c["source"]]
    assert marked and all(cells.is_autograded_test(c) and cells.hidden_tests(c["source"]) for c in marked)
    release = read_notebook(REPO / "notebooks" / assignment / f"{assignment}.ipynb")["cells"]
    assert not any(cells.has_markers(c["source"]) for c in release)
