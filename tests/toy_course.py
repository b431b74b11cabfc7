"""A tiny course (one assignment, three graded tests) for fast tests of the grading pipeline."""

import shutil
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENT = "toy"
TEST_POINTS = {"test_add_visible": 1.0, "test_add_hidden": 2.0, "test_scale_hidden": 3.0}


def _cell(factory, source, cell_id, **nbgrader):
    cell = factory(source)
    cell.id = cell_id
    if nbgrader:
        cell.metadata["nbgrader"] = {"schema_version": 3, "grade_id": cell_id, "locked": False,
                                     "solution": False, "grade": False, **nbgrader}
    return cell


def toy_source_notebook():
    """The instructor source: two solution cells, a visible and two hidden tests, a written answer."""
    test = dict(grade=True, locked=True)
    cells = [
        _cell(new_markdown_cell, "# Toy assignment", "intro"),
        _cell(new_code_cell, "def add(a, b):\n    ### BEGIN SOLUTION\n    return a + b\n    ### END SOLUTION",
              "add", solution=True),
        _cell(new_code_cell, "assert add(1, 2) == 3\nprint('visible tests passed')", "test_add_visible",
              points=TEST_POINTS["test_add_visible"], **test),
        _cell(new_code_cell, "### BEGIN HIDDEN TESTS\nassert add(-4, 10) == 6\n### END HIDDEN TESTS",
              "test_add_hidden", points=TEST_POINTS["test_add_hidden"], **test),
        _cell(new_code_cell, "def scale(x, k):\n    ### BEGIN SOLUTION\n    return x * k\n    ### END SOLUTION",
              "scale", solution=True),
        _cell(new_code_cell, "### BEGIN HIDDEN TESTS\nassert scale(3, 4) == 12\n### END HIDDEN TESTS",
              "test_scale_hidden", points=TEST_POINTS["test_scale_hidden"], **test),
        _cell(new_markdown_cell, "Why does addition commute?", "question"),
        _cell(new_markdown_cell, "Because it is defined symmetrically.", "answer", solution=True, grade=True,
              points=1.0),
    ]
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return notebook


SIMULATED = '''
STUDENTS = [
    dict(name="ada", description="correct", patches=[], failing=[]),
    dict(name="bob", description="the release", release=True, failing=None),
    dict(name="cy", description="subtracts", patches=[dict(cell="add", old="a + b", new="a - b")],
         failing=["test_add_visible", "test_add_hidden"]),
    dict(name="di", description="scale wrong", patches=[dict(cell="scale", old="x * k", new="x + k")],
         failing=["test_scale_hidden"]),
]
'''


def make_toy_course(root):
    """Create the toy course at ``root`` (nbgrader config copied from the repository)."""
    root = Path(root)
    (root / "solutions" / ASSIGNMENT).mkdir(parents=True)
    (root / "autograder" / "simulated").mkdir(parents=True)
    shutil.copy(REPO / "nbgrader_config.py", root / "nbgrader_config.py")
    nbformat.write(toy_source_notebook(), str(root / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"))
    (root / "autograder" / "simulated" / f"{ASSIGNMENT}.py").write_text(SIMULATED)
    return root
