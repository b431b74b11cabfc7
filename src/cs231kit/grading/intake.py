"""What a submission looks like before it is graded, and putting its nbgrader cells back as released.

:func:`inspect_submission` runs in the grader, on the untrusted JSON only (nothing is executed): a
missing, renamed, empty, oversized, corrupt or foreign notebook gets its status here, with a reason
the student can act on; a gradable one gets notes on the read-only cells it deleted, duplicated,
retyped or edited and on changed nbgrader metadata (grading restores them).

:class:`RestoreCells` is an nbgrader preprocessor that runs before ``OverwriteCells``: every cell
with a known grade id gets the released nbgrader metadata back (locked cells also their type and
source), and cells claiming unknown grade ids become ordinary cells. Without it, a changed flag
(a test cell marked as a solution, points raised to 100) makes nbgrader stop with "Inconsistent
checksums" and the submission goes ungraded.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path

from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor

from .verify import cell_text, nbgrader_metadata

MAX_NOTEBOOK_BYTES = 50 * 2**20
HIDDEN_TESTS = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS.*?^[ \t]*### END HIDDEN TESTS[^\n]*$", re.S | re.M)
RENAMED, MISSING, INVALID, WRONG = "renamed notebook", "missing notebook", "invalid notebook", "wrong notebook"


@dataclass(frozen=True)
class ReleasedCell:
    """A cell of the release that nbgrader tracks (read-only cells, solution cells, graded cells)."""

    name: str
    cell_type: str
    locked: bool
    solution: bool
    points: float | None
    source: str

    @property
    def metadata(self):
        """The released ``nbgrader`` metadata of the cell."""
        meta = {"grade": self.points is not None, "grade_id": self.name, "locked": self.locked,
                "solution": self.solution, "schema_version": 3}
        return {**meta, "points": self.points} if self.points is not None else meta


@dataclass(frozen=True)
class Intake:
    """The verdict on a submission before grading.

    Attributes
    ----------
    status : str or None
        Why it cannot be graded (``renamed notebook``, ``invalid notebook``...), or None.
    reason : str
    notes : tuple of str
        Changes to released cells that grading undoes (the submission is graded all the same).
    """

    status: str | None = None
    reason: str = ""
    notes: tuple = ()


def released_cells(gradebook, assignment, notebook):
    """``{grade id: ReleasedCell}`` of one notebook, from the gradebook."""
    record = gradebook.find_notebook(notebook, assignment)
    points = {c.name: float(c.max_score) for c in record.grade_cells}
    solutions = {c.name for c in record.solution_cells}
    return {c.name: ReleasedCell(c.name, c.cell_type, bool(c.locked), c.name in solutions, points.get(c.name), c.source)
            for c in record.source_cells}


def inspect_submission(folder, released):
    """Check the notebooks of one submission folder against the release (JSON only, nothing runs).

    Parameters
    ----------
    folder : str or Path
        ``autograder/submitted/<student>/<assignment>``.
    released : dict
        ``{notebook name: {grade id: ReleasedCell}}``.

    Returns
    -------
    Intake
    """
    notes = []
    for name, cells in released.items():
        path = Path(folder) / f"{name}.ipynb"
        if not path.is_file():
            return _missing(folder, name)
        notebook, problem = _load(path)
        if problem:
            return Intake(INVALID, f"{path.name}: {problem}")
        found = {_grade_id(c) for c in notebook["cells"]} - {None}
        if len(found - set(cells)) > len(found & set(cells)):
            return Intake(WRONG, f"{path.name} has mostly cells that this assignment does not have (such as "
                                 f"{', '.join(sorted(found - set(cells))[:3])}): was another assignment's notebook submitted?")
        notes += cell_changes(notebook["cells"], cells)
    return Intake(notes=tuple(notes))


def _missing(folder, name):
    """The intake of a folder without the released notebook: renamed if other notebooks are there."""
    others = sorted(p.name for p in Path(folder).glob("*.ipynb"))
    if others:
        return Intake(RENAMED, f"found {', '.join(others)} but not {name}.ipynb: submit the notebook under its "
                               f"released name")
    return Intake(MISSING, f"no {name}.ipynb in the submission")


def _load(path):
    """``(notebook dict, "")`` or ``(None, what is wrong)`` for a submitted file."""
    size = path.stat().st_size
    if size == 0:
        return None, "the file is empty (0 bytes); save the notebook in JupyterLab and submit it again"
    if size > MAX_NOTEBOOK_BYTES:
        return None, (f"the file is {size / 2**20:.0f} MB, more than the {MAX_NOTEBOOK_BYTES // 2**20} MB allowed; "
                      f"clear the outputs (Edit > Clear Outputs of All Cells), save and submit again")
    try:
        notebook = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as error:
        return None, f"the file is not valid JSON ({error}); it is corrupt or truncated: open it in JupyterLab, save and submit again"
    if not (isinstance(notebook, dict) and isinstance(notebook.get("cells"), list)
            and all(isinstance(c, dict) for c in notebook["cells"])):
        return None, "the file is JSON but not a Jupyter notebook (no list of cells)"
    return notebook, ""


def _grade_id(cell):
    name = nbgrader_metadata(cell).get("grade_id")
    return name if isinstance(name, str) else None


def _lines(text):
    """The non-blank lines of a cell, without trailing spaces (what an edit must change)."""
    return [line.rstrip() for line in text.splitlines() if line.strip()]


def cell_changes(cells, released):
    """Notes on what the student changed in released read-only cells and in nbgrader metadata.

    Parameters
    ----------
    cells : list of dict
        The submitted notebook's cells (JSON).
    released : dict
        ``{grade id: ReleasedCell}``.
    """
    by_id = {}
    for cell in cells:
        by_id.setdefault(_grade_id(cell), []).append(cell)
    notes = []
    for name, original in released.items():
        copies = by_id.get(name, [])
        kind = "test cell" if original.points is not None and not original.solution else "read-only cell"
        if not copies:
            if original.locked:
                notes.append(f"{kind} {name} was deleted; it was put back" + (" and graded" if kind == "test cell" else ""))
            continue
        if len(copies) > 1:
            notes.append(f"{name} appears {len(copies)} times; only the last copy is graded")
        cell = copies[-1]
        if cell.get("cell_type") != original.cell_type:
            notes.append(f"{name} was changed from a {original.cell_type} cell to a {cell.get('cell_type')} cell; "
                         f"it was changed back")
        if original.locked and _lines(cell_text(cell.get("source"))) != _lines(HIDDEN_TESTS.sub("", original.source)):
            notes.append(f"{kind} {name} was edited; it was graded as released")
        if {k: v for k, v in nbgrader_metadata(cell).items() if k in original.metadata} != original.metadata:
            notes.append(f"the nbgrader metadata of {name} was changed; it was restored")
    unknown = sorted({n for n in by_id if n and n not in released})
    if unknown:
        notes.append(f"cells with grade ids that the release does not have were graded as ordinary cells: {', '.join(unknown)}")
    return notes


class RestoreCells(NbGraderPreprocessor):
    """Put the released nbgrader metadata back on every known cell (and the released type and source
    on read-only cells); cells with unknown, missing or malformed grade ids lose their nbgrader metadata."""

    def preprocess(self, nb, resources):
        """Restore the cells of one notebook from the gradebook."""
        info = resources["nbgrader"]
        with Gradebook(info["db_url"]) as gradebook:
            released = released_cells(gradebook, info["assignment"], info["notebook"])
        for cell in nb.cells:
            meta = cell.get("metadata", {}).get("nbgrader")
            if meta is not None:  # {} too: DeduplicateIds leaves it on all but the last copy, and
                # OverwriteCells would fail on it with KeyError: 'grade_id'
                restore_cell(cell, released.get(meta.get("grade_id")) if isinstance(meta, dict) else None)
        return nb, resources


def restore_cell(cell, original):
    """Restore one cell in place from its :class:`ReleasedCell` (``None``: make it an ordinary cell)."""
    if original is None:
        del cell.metadata["nbgrader"]
        return
    cell.metadata["nbgrader"] = {**cell.metadata["nbgrader"], **original.metadata}
    if not original.locked:
        return
    if cell.cell_type != original.cell_type:
        cell.cell_type = original.cell_type
        for key in ("outputs", "execution_count", "attachments"):
            cell.pop(key, None)
        if original.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    cell.source = original.source
