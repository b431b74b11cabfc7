"""The nbgrader vocabulary of a notebook cell, read from plain JSON.

A cell is a dict as in the ``.ipynb`` file (an nbformat ``NotebookNode`` is one too). Its
``metadata["nbgrader"]`` says what the cell is: a *solution* cell (the student writes it), an
autograded *test* cell (``grade`` without ``solution``), a *locked* (read-only) cell; ``grade_id``
names it and ``points`` is what a test is worth. Nothing in a submitted notebook is trusted, so every
reader here accepts malformed cells (missing or non-dict metadata, a source that is neither a string
nor a list of lines) and answers as for an ordinary cell.

Two kinds of marked regions live in cell sources (nbgrader's delimiters, written as ``### `` comments
in this course): the solution region of a solution cell, which the release replaces with a stub,
and the hidden-test region of a test cell, which the release removes.

No nbformat here: the sandboxed verification child imports this module.
"""

import re

BEGIN_SOLUTION, END_SOLUTION = "BEGIN SOLUTION", "END SOLUTION"
BEGIN_HIDDEN_TESTS, END_HIDDEN_TESTS = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
"""nbgrader's delimiters: a line that holds one is a marker line."""


def _region(begin, end):
    """A marked region from its ``### begin`` line to its ``### end`` line; group 1 is the text between."""
    return re.compile(rf"^[ \t]*### {begin}[^\n]*\n(.*?)^[ \t]*### {end}[^\n]*$", re.S | re.M)


SOLUTION_REGION = _region(BEGIN_SOLUTION, END_SOLUTION)
HIDDEN_TESTS_REGION = _region(BEGIN_HIDDEN_TESTS, END_HIDDEN_TESTS)
SOLUTION_MARKER_LINE = re.compile(rf"^[ \t]*### ({BEGIN_SOLUTION}|{END_SOLUTION})[ \t]*\n?", re.M)
ANY_MARKER = re.compile(rf"### ({BEGIN_SOLUTION}|{END_SOLUTION}|{BEGIN_HIDDEN_TESTS}|{END_HIDDEN_TESTS})")


def nbgrader_metadata(cell):
    """The ``nbgrader`` metadata of a cell (``{}`` when missing or malformed)."""
    metadata = cell.get("metadata")
    meta = metadata.get("nbgrader") if isinstance(metadata, dict) else None
    return meta if isinstance(meta, dict) else {}


def grade_id(cell):
    """The cell's grade id, or ``None`` for an ordinary cell (or one whose id is not a string)."""
    name = nbgrader_metadata(cell).get("grade_id")
    return name if isinstance(name, str) else None


def is_solution(cell):
    """Whether the student writes this cell."""
    return bool(nbgrader_metadata(cell).get("solution"))


def is_graded(cell):
    """Whether the cell earns points (an autograded test or a solution graded by hand)."""
    return bool(nbgrader_metadata(cell).get("grade"))


def is_locked(cell):
    """Whether the cell is read-only."""
    return bool(nbgrader_metadata(cell).get("locked"))


def is_autograded_test(cell):
    """Whether the cell is an autograded test: a graded code cell that is not a solution."""
    return cell.get("cell_type") == "code" and is_graded(cell) and not is_solution(cell)


def points(cell):
    """The points of a graded cell (0.0 when it states none)."""
    return float(nbgrader_metadata(cell).get("points", 0))


def cell_text(source):
    """A cell source (a string or a list of lines) as one string; ``""`` when malformed."""
    return source if isinstance(source, str) else "".join(source) if isinstance(source, list) else ""


def solution_text(source):
    """The source of a solution cell with its ``### BEGIN/END SOLUTION`` lines removed (the code between stays)."""
    return SOLUTION_MARKER_LINE.sub("", source)


def has_markers(source):
    """Whether ``source`` holds a solution or hidden-test marker (a release must hold none)."""
    return ANY_MARKER.search(source) is not None


def hidden_tests(source):
    """The text between the hidden-test markers of a test cell's source, or ``None`` when it has none."""
    match = HIDDEN_TESTS_REGION.search(source)
    return match.group(1) if match else None


def replace_hidden_tests(source, replacement):
    """``source`` with its hidden-test regions, marker lines included, replaced by ``replacement``."""
    return hidden_test_regions(source, lambda _: replacement)


def hidden_test_regions(source, replacement):
    """``source`` with each hidden-test region, marker lines included, replaced by ``replacement(indent)``
    (``indent``: the whitespace before the region's first marker, for a region inside a block)."""
    def replace(match):
        region = match.group(0)
        return replacement(region[: len(region) - len(region.lstrip(" \t"))])
    return HIDDEN_TESTS_REGION.sub(replace, source)
