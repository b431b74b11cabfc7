"""Read an assignment's source notebook and run its solution cells without a kernel (not tests themselves).

Shared by the assignment tests (``tests/test_<a>_assignment.py``).

The source notebook is read as plain JSON (nbformat costs seconds to import). Solution cells run in
one namespace like a kernel would run them; each cell is put in ``linecache`` so that
``inspect.getsource`` works on the functions it defines, and a cell that raises
``NotImplementedError`` (a release stub) is skipped. The same functions read a release notebook,
whose solution cells are the stubs students start from (it has no solution markers).
"""

import json
import linecache
from pathlib import Path

from cs231kit.grading.cells import (BEGIN_HIDDEN_TESTS, BEGIN_SOLUTION, cell_text, hidden_tests as hidden_test_text,
                                    is_autograded_test, is_graded, is_solution, solution_text)
from cs231kit.grading.cells import nbgrader_metadata as nbgrader

REPO = Path(__file__).resolve().parents[1]


def read_notebook(path):
    """The notebook at ``path`` as a dict, every cell's source joined into one string."""
    notebook = json.loads(path.read_text())
    for cell in notebook["cells"]:
        cell["source"] = cell_text(cell["source"])
        cell.setdefault("metadata", {})
    return notebook


def solution_sources(notebook, *, code_only=True):
    """``grade_id -> source`` of the solution cells, with the solution marker lines removed."""
    return {nbgrader(c)["grade_id"]: solution_text(c["source"]) for c in notebook["cells"]
            if is_solution(c) and (c["cell_type"] == "code" or not code_only)}


def autograded_tests(notebook):
    """The grade ids of the autograded test cells."""
    return {nbgrader(c)["grade_id"] for c in notebook["cells"] if is_autograded_test(c)}


def hidden_tests(notebook):
    """``grade_id -> source of the hidden region`` of the autograded test cells that have one."""
    found = {nbgrader(c).get("grade_id"): hidden_test_text(c["source"]) for c in notebook["cells"] if is_graded(c)}
    return {grade_id: text for grade_id, text in found.items() if text is not None}


def patched_sources(notebook, student):
    """The solution code cells of a simulated student: every patch must apply exactly once."""
    sources = solution_sources(notebook, code_only=False)
    for patch in student["patches"]:
        count = sources[patch["cell"]].count(patch["old"])
        assert count == 1, f"{student['name']}: {patch['old']!r} occurs {count} times in {patch['cell']}"
        sources[patch["cell"]] = sources[patch["cell"]].replace(patch["old"], patch["new"])
    return {k: v for k, v in sources.items() if k in solution_sources(notebook)}


def run_cells(sources, label, namespace):
    """Execute cell sources in ``namespace`` (updated and returned), skipping cells that raise NotImplementedError."""
    namespace.setdefault("__name__", f"notebook_{label}")
    for k, (grade_id, source) in enumerate(sources.items()):
        filename = f"<{label}-cell-{k}-{grade_id}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        try:
            exec(compile(source, filename, "exec"), namespace)
        except NotImplementedError:
            pass
    return namespace


def assert_nbgrader_conventions(notebook):
    """Unique cell ids, no outputs, grade_id = cell id, locked tests of 1-2 points, markers only where they
    belong, and a locked setup cell second that loads the data."""
    ids = [c["id"] for c in notebook["cells"]]
    assert len(ids) == len(set(ids))
    for cell in notebook["cells"]:
        meta = nbgrader(cell)
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, f"{cell['id']} has outputs"
        if not meta:
            continue
        assert meta["schema_version"] == 3 and meta["grade_id"] == cell["id"]
        if meta["grade"] and not meta["solution"]:
            assert cell["id"].startswith("test_") and meta["locked"] and 0 < meta["points"] <= 2
        if BEGIN_HIDDEN_TESTS in cell["source"]:
            assert meta["grade"] and not meta["solution"]
        if BEGIN_SOLUTION in cell["source"]:
            assert meta["solution"]
    setup = notebook["cells"][1]
    assert nbgrader(setup)["locked"] and "load_dataset()" in setup["source"]


def failing_hidden_checks(checks, hidden_tests, namespace):
    """grade ids of ``hidden_tests`` (grade_id -> (function name, check name)) whose check raises
    AssertionError on the functions of ``namespace``."""
    failed = set()
    for grade_id, (function, check) in hidden_tests.items():
        try:
            getattr(checks, check)(namespace[function])
        except AssertionError:
            failed.add(grade_id)
    return failed


def assert_simulated_class_is_well_formed(notebook, simulated, assignment):
    """A simulated class (``autograder/simulated/<a>.py``) fits its source notebook: the right
    assignment, unique names, ``failing`` naming real autograded tests (``None`` for the untouched
    release), and every patch applying exactly once."""
    tests = autograded_tests(notebook)
    names = [s["name"] for s in simulated.STUDENTS]
    assert simulated.ASSIGNMENT == assignment and len(names) == len(set(names))
    for student in simulated.STUDENTS:
        if student.get("release"):
            assert student["failing"] is None
            continue
        assert set(student["failing"]) <= tests, student["name"]
        patched_sources(notebook, student)  # every patch applies exactly once

