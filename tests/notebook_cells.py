"""Read an instructor notebook's cells without a kernel: solution cells, patched students, the release.

Shared by the assignment tests (``tests/test_<a>_assignment.py``). Cells are executed in one plain
namespace, like a kernel would, and registered in ``linecache`` so that ``inspect.getsource`` (and
the line counting of the hidden checks) see them.
"""

import json
import linecache
import re

SOLUTION_MARKERS = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.MULTILINE)


def read_notebook(path):
    """The notebook as plain JSON with every cell's source joined into one string."""
    notebook = json.loads(path.read_text())
    for cell in notebook["cells"]:
        cell["source"] = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        cell.setdefault("metadata", {})
    return notebook


def nbgrader(cell):
    return cell["metadata"].get("nbgrader", {})


def solution_code(notebook):
    """``{grade_id: source}`` of the solution code cells, with the solution marker lines removed."""
    return {nbgrader(c)["grade_id"]: SOLUTION_MARKERS.sub("", c["source"]) for c in notebook["cells"]
            if c["cell_type"] == "code" and nbgrader(c).get("solution")}


def autograded_tests(notebook):
    """grade ids of the autograded test cells."""
    return {nbgrader(c)["grade_id"] for c in notebook["cells"] if nbgrader(c).get("grade") and not nbgrader(c)["solution"]}


def patched_code(notebook, student):
    """The solution code cells of ``notebook`` with a simulated student's patches applied (each exactly once)."""
    sources = solution_code(notebook)
    for patch in student["patches"]:
        count = sources[patch["cell"]].count(patch["old"])
        assert count == 1, f"{student['name']}: the patch text occurs {count} times in {patch['cell']!r}: {patch['old']!r}"
        sources[patch["cell"]] = sources[patch["cell"]].replace(patch["old"], patch["new"])
    return sources


def run_cells(sources, label, namespace):
    """Execute cell sources in order in ``namespace`` (updated and returned).

    A cell that raises NotImplementedError (a release stub) is skipped, as a student's kernel would
    go on to the next cell.
    """
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
    """Unique cell ids, no outputs, grade ids equal to cell ids, test cells named ``test_*``, locked and
    worth 1-2 points, hidden tests only in graded test cells, a locked setup cell second that loads the data."""
    ids = [c["id"] for c in notebook["cells"]]
    assert len(ids) == len(set(ids))
    for cell in notebook["cells"]:
        meta = nbgrader(cell)
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None, f"{cell['id']} has outputs"
        if not meta:
            continue
        assert meta["schema_version"] == 3 and meta["grade_id"] == cell["id"]
        if meta["grade"] and not meta["solution"]:  # autograded test
            assert cell["id"].startswith("test_") and meta["locked"] and 0 < meta["points"] <= 2
        if "### BEGIN HIDDEN TESTS" in cell["source"]:
            assert meta["grade"] and not meta["solution"]
        if "### BEGIN SOLUTION" in cell["source"]:
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
