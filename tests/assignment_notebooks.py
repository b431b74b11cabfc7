"""An assignment's source notebook without a kernel: its cells, solution code, hidden tests, patches.

Shared by the tests of the assignments (``tests/test_<assignment>_assignment.py``). The notebook is
read as plain JSON (importing nbformat or ``cs231kit.grading`` costs seconds); solution cells are
executed in one namespace, like a kernel would, with every cell registered in ``linecache`` so that
``inspect.getsource`` works on the functions they define.
"""

import json
import linecache
import re

import numpy as np

SOLUTION_MARKER_LINE = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.M)
"""As in ``cs231kit.grading.simulate``, which is slow to import (it loads nbformat)."""
HIDDEN_REGION = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS[ \t]*\n(.*?)^[ \t]*### END HIDDEN TESTS", re.S | re.M)


def read_notebook(path):
    """The notebook at ``path`` as a dict, every cell's source joined into one string."""
    notebook = json.loads(path.read_text())
    for cell in notebook["cells"]:
        cell["source"] = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        cell.setdefault("metadata", {})
    return notebook


def nbgrader(cell):
    """The nbgrader metadata of a cell ({} for an ordinary cell)."""
    return cell["metadata"].get("nbgrader", {})


def solution_cells(notebook):
    """``{grade_id: source without the solution markers}`` of the code cells students write."""
    return {nbgrader(c)["grade_id"]: SOLUTION_MARKER_LINE.sub("", c["source"]) for c in notebook["cells"]
            if nbgrader(c).get("solution") and c["cell_type"] == "code"}


def autograded_tests(notebook):
    """Grade ids of the autograded test cells."""
    return {nbgrader(c)["grade_id"] for c in notebook["cells"]
            if nbgrader(c).get("grade") and not nbgrader(c)["solution"]}


def hidden_tests(notebook):
    """``{grade_id: source of the hidden region}`` of the test cells that have one."""
    found = {}
    for cell in notebook["cells"]:
        match = HIDDEN_REGION.search(cell["source"])
        if match and nbgrader(cell).get("grade"):
            found[nbgrader(cell)["grade_id"]] = match.group(1)
    return found


def run_cells(sources, label, namespace=None):
    """Execute cell sources in one namespace, like a kernel; return the namespace.

    A cell that raises NotImplementedError (a release stub) is skipped, as a student who runs all
    cells would see it fail and go on.
    """
    namespace = {"np": np, "__name__": f"notebook_{label}", **(namespace or {})}
    for k, (grade_id, source) in enumerate(sources.items()):
        filename = f"<{label}-cell-{k}-{grade_id}>"
        linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
        try:
            exec(compile(source, filename, "exec"), namespace)
        except NotImplementedError:
            pass
    return namespace


def patched_solution_cells(notebook, student):
    """The solution cells of a simulated student: the solution text with the student's patches applied."""
    sources = solution_cells(notebook)
    for patch in student["patches"]:
        assert sources[patch["cell"]].count(patch["old"]) == 1, f"{student['name']}: {patch['old']!r}"
        sources[patch["cell"]] = sources[patch["cell"]].replace(patch["old"], patch["new"])
    return sources


def release_solution_cells(release):
    """``{grade_id: source}`` of the solution cells of a release notebook (the stubs students start from)."""
    return {nbgrader(c)["grade_id"]: c["source"] for c in release["cells"]
            if c["cell_type"] == "code" and nbgrader(c).get("solution")}


def assert_metadata_conventions(notebook):
    """Unique cell ids, no outputs, grade_id = cell id, tests named ``test_*``, locked and worth 1-2 points,
    solution regions only in solution cells, and a locked setup cell that loads the data."""
    ids = [c["id"] for c in notebook["cells"]]
    assert len(ids) == len(set(ids))
    for cell in notebook["cells"]:
        meta = nbgrader(cell)
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, f"{cell['id']} has outputs"
        if not meta:
            continue
        assert meta["schema_version"] == 3 and meta["grade_id"] == cell["id"]
        if meta["grade"] and not meta["solution"]:  # an autograded test
            assert cell["id"].startswith("test_") and meta["locked"] and 0 < meta["points"] <= 2, cell["id"]
        if "### BEGIN HIDDEN TESTS" in cell["source"]:
            assert meta["grade"] and not meta["solution"], cell["id"]
        if "### BEGIN SOLUTION" in cell["source"]:
            assert meta["solution"], cell["id"]
    setup = notebook["cells"][1]
    assert nbgrader(setup)["locked"] and "load_dataset()" in setup["source"]
