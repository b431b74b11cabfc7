"""What is taken from a submission folder before it is graded, and putting its nbgrader cells back.

Nothing in the folder is trusted. :func:`take_submission` runs in the grader and executes nothing:

- the student id (the folder's name) must match :data:`STUDENT_ID`, or it never reaches nbgrader
  (whose ``--student`` is a glob) or a path;
- every path component is opened without following links (``O_NOFOLLOW`` relative to its parent),
  so a linked student folder, assignment folder or notebook is refused, and only a regular file
  is read;
- the notebook is read up to :attr:`IntakeLimits.max_bytes`, its bracket depth and number of JSON
  values are counted before it is parsed, and its cells are counted after: the grader's own memory
  and time stay bounded whatever the file holds;
- only the notebook is staged for nbgrader, in a folder outside the course (outputs cleared, as
  grading clears them anyway); every other file of the folder is ignored, so no ``json.py`` or
  ``cs231kit/`` beside the notebook ever lands on an import path.

A file that cannot be graded gets its status here (``missing notebook``, ``renamed notebook``,
``invalid notebook``, ``notebook too large``, ``wrong notebook``, ``unsafe submission``,
``invalid student id``), with a reason the student can act on; a gradable one gets notes on the
read-only cells it deleted, duplicated, retyped or edited and on changed nbgrader metadata
(grading restores them).

:class:`RestoreCells` is an nbgrader preprocessor that runs before ``OverwriteCells``: every cell
with a known grade id gets the released nbgrader metadata back (locked cells also their type and
source), and cells claiming unknown grade ids become ordinary cells. Without it, a changed flag
(a test cell marked as a solution, points raised to 100) makes nbgrader stop with "Inconsistent
checksums" and the submission goes ungraded.
"""

import errno
import json
import os
import re
import shutil
import stat
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np
from nbgrader.api import Gradebook
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import parse_utc

from .feedback import DEFAULT_MAX_OUTPUT_BYTES
from .status import Status
from .cells import cell_text, grade_id, nbgrader_metadata, replace_hidden_tests

# Letters, digits, '.', '_' and '-', starting with a letter or digit: nothing a glob, a regular
# expression, a shell or a path would read as syntax.
STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")
JSON_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"')
TIMESTAMP_FILE, MAX_TIMESTAMP_BYTES = "timestamp.txt", 100


@dataclass(frozen=True)
class IntakeLimits:
    """What the grader accepts from a submission (set them in ``nbgrader_config.py`` as ``c.Intake.<name>``).

    Attributes
    ----------
    max_bytes : int
        Size of the notebook file.
    max_cells : int
        Number of cells.
    max_depth : int
        Nesting of JSON arrays and objects (a notebook needs about 8).
    max_json_values : int
        Arrays, objects, strings and numbers in the file: what the parsed notebook costs in memory.
    max_output_bytes_per_cell : int
        Output each executed cell keeps in the autograded notebook and the feedback (see
        :class:`cs231kit.grading.feedback.BoundedExecute`).
    """

    max_bytes: int = 20 * 2**20
    max_cells: int = 2000
    max_depth: int = 64
    max_json_values: int = 1_000_000
    max_output_bytes_per_cell: int = DEFAULT_MAX_OUTPUT_BYTES

    @classmethod
    def from_config(cls, config):
        """Limits from the ``Intake`` section of a traitlets config (defaults for what is unset)."""
        section = config.get("Intake", {}) if config is not None else {}
        return cls(**{f.name: section[f.name] for f in fields(cls) if f.name in section})


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
    status : Status or None
        Why it cannot be graded (``renamed notebook``, ``invalid notebook``...), or None.
    reason : str
    notes : tuple of str
        Changes to released cells that grading undoes (the submission is graded all the same).
    ignored : tuple of str
        Names of the files and folders of the submission that were not taken.
    """

    status: Status | None = None
    reason: str = ""
    notes: tuple = ()
    ignored: tuple = ()


def printable_id(name):
    """``name`` as it may appear in a report: itself if printable, else with its odd characters escaped."""
    return name if name.isprintable() and _encodable(name) else name.encode("unicode_escape").decode("ascii")


def _encodable(text):
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_student_id(student):
    """Why ``student`` cannot be a student id (``""`` if it can)."""
    if STUDENT_ID.fullmatch(student):
        return ""
    return (f"the submission folder {printable_id(student)!r} is not a valid student id: it may hold only "
            f"letters, digits, '.', '_' and '-' (at most 100, starting with a letter or digit)")


def take_submission(submitted_root, student, assignment, released, staged_root, limits=IntakeLimits()):
    """Check one submission and stage its notebooks for nbgrader (JSON only, nothing runs).

    Parameters
    ----------
    submitted_root : str or Path
        ``autograder/submitted`` (trusted; everything below it is not).
    student, assignment : str
    released : dict
        ``{notebook name: {grade id: ReleasedCell}}``.
    staged_root : str or Path
        Where nbgrader will look for submissions: ``<staged_root>/<student>/<assignment>/`` receives
        the validated notebooks (and a valid ``timestamp.txt``), nothing else.
    limits : IntakeLimits

    Returns
    -------
    Intake
    """
    problem = check_student_id(student)
    if problem:
        return Intake(Status.INVALID_STUDENT_ID, problem)
    staged = Path(staged_root) / student / assignment
    shutil.rmtree(staged.parent, ignore_errors=True)
    try:
        folder = _open_folder(Path(submitted_root), (student, assignment))
    except _Refused as refused:
        return Intake(refused.status, refused.reason)
    try:
        return _stage_folder(folder, released, staged, limits)
    finally:
        os.close(folder)


class _Refused(Exception):
    """A submission that is refused: ``status`` and ``reason``."""

    def __init__(self, status, reason):
        super().__init__(reason)
        self.status, self.reason = status, reason


def _open_folder(root, parts):
    """A descriptor of ``root/parts...``, each component opened without following a link."""
    fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY)
    for depth, part in enumerate(parts):
        try:
            child = os.open(part, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=fd)
        except OSError as error:
            shown = "/".join(parts[: depth + 1])
            status, why = ((Status.UNSAFE_SUBMISSION, "is a symbolic link (only regular files and folders are taken)")
                           if error.errno in (errno.ELOOP, errno.ENOTDIR) and _is_link(fd, part)
                           else (Status.MISSING_NOTEBOOK, f"cannot be opened as a folder ({os.strerror(error.errno)})"))
            raise _Refused(status, f"{shown} {why}") from None
        finally:
            os.close(fd)
        fd = child
    return fd


def _is_link(dir_fd, name):
    try:
        return stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode)
    except OSError:
        return False


def _stage_folder(folder, released, staged, limits):
    """Stage the released notebooks of an open submission folder; return the :class:`Intake`."""
    entries = {e.name: e for e in os.scandir(folder)}
    notes, taken = [], set()
    for name, cells in released.items():
        file_name = f"{name}.ipynb"
        try:
            notebook = _read_notebook(folder, entries, file_name, limits)
        except _Refused as refused:
            return Intake(refused.status, refused.reason)
        if notebook is None:
            return _missing(entries, name)
        found = {grade_id(c) for c in notebook["cells"]} - {None}
        if len(found - set(cells)) > len(found & set(cells)):
            return Intake(Status.WRONG_NOTEBOOK,
                          f"{file_name} has mostly cells that this assignment does not have (such as "
                          f"{', '.join(sorted(found - set(cells))[:3])}): was another assignment's notebook submitted?")
        notes += cell_changes(notebook["cells"], cells)
        _write_staged(staged / file_name, notebook)
        taken.add(file_name)
    if _stage_timestamp(folder, entries.get(TIMESTAMP_FILE), staged):
        taken.add(TIMESTAMP_FILE)
    ignored = tuple(printable_id(n) for n in sorted(set(entries) - taken))
    return Intake(notes=tuple(notes), ignored=ignored)


def _missing(entries, name):
    """The intake of a folder without the released notebook: renamed if other notebooks are there."""
    others = sorted(printable_id(n) for n, e in entries.items() if n.endswith(".ipynb"))
    if others:
        return Intake(Status.RENAMED_NOTEBOOK,
                      f"found {', '.join(others)} but not {name}.ipynb: submit the notebook under its released name")
    return Intake(Status.MISSING_NOTEBOOK, f"no {name}.ipynb in the submission")


def _read_notebook(folder, entries, file_name, limits):
    """The parsed notebook ``file_name`` of the open ``folder`` (None if absent); :class:`_Refused` if it
    is not a regular file or not a notebook the grader can take."""
    entry = entries.get(file_name)
    if entry is None:
        return None
    if entry.is_symlink():
        raise _Refused(Status.UNSAFE_SUBMISSION, f"{file_name} is a symbolic link; submit the notebook file itself")
    try:
        fd = os.open(file_name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
    except OSError as error:
        raise _Refused(Status.UNSAFE_SUBMISSION if error.errno == errno.ELOOP else Status.INVALID_NOTEBOOK,
                       f"{file_name} cannot be opened ({os.strerror(error.errno)})") from None
    try:
        _check_regular_file(fd, file_name)
    except _Refused:
        os.close(fd)
        raise
    with os.fdopen(fd, "rb") as file:
        data = file.read(limits.max_bytes + 1)
    notebook, status, problem = parse_notebook(data, limits)
    if status:
        raise _Refused(status, f"{file_name}: {problem}")
    return notebook


def _check_regular_file(fd, file_name):
    """Refuse (:class:`_Refused`) an open file that is not a regular file with a single name."""
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode):
        raise _Refused(Status.INVALID_NOTEBOOK, f"{file_name} is not a regular file; submit the notebook file itself")
    if info.st_nlink > 1:  # the same file as another one: maybe the instructor's
        raise _Refused(Status.UNSAFE_SUBMISSION,
                       f"{file_name} has other hard links; submit a copy of the notebook file itself")


def parse_notebook(data, limits=IntakeLimits()):
    """Parse a submitted file within ``limits``.

    Parameters
    ----------
    data : bytes
        The file (at most ``limits.max_bytes + 1`` bytes of it: more means it is too large).
    limits : IntakeLimits

    Returns
    -------
    notebook : dict or None
    status : Status or None
        ``invalid notebook`` or ``notebook too large`` when it cannot be taken.
    problem : str
        What is wrong with it, for the student.
    """
    too_large = _size_problem(data, limits)
    if too_large:
        return None, Status.NOTEBOOK_TOO_LARGE, too_large
    if not data:
        return None, Status.INVALID_NOTEBOOK, ("the file is empty (0 bytes); save the notebook in JupyterLab and "
                                               "submit it again")
    status, problem = _structure_problem(data, limits)
    if status:
        return None, status, problem
    try:
        notebook = json.loads(data.decode("utf-8"))
    except (ValueError, RecursionError) as error:
        return None, Status.INVALID_NOTEBOOK, (f"the file is not valid JSON ({_short(error)}); it is corrupt or "
                                               "truncated: open it in JupyterLab, save and submit again")
    if not (isinstance(notebook, dict) and isinstance(notebook.get("cells"), list)
            and all(isinstance(c, dict) for c in notebook["cells"])):
        return None, Status.INVALID_NOTEBOOK, "the file is JSON but not a Jupyter notebook (no list of cells)"
    if len(notebook["cells"]) > limits.max_cells:
        return None, Status.NOTEBOOK_TOO_LARGE, (f"the notebook has {len(notebook['cells'])} cells, more than the "
                                                 f"{limits.max_cells} allowed; delete the cells you added and submit "
                                                 "again")
    if not _encodable(json.dumps(notebook, ensure_ascii=False)):
        return None, Status.INVALID_NOTEBOOK, ("the notebook holds text that is not valid Unicode (a lone surrogate "
                                               "such as \\ud800); delete that character, save and submit again")
    return notebook, None, ""


def _size_problem(data, limits):
    if len(data) <= limits.max_bytes:
        return ""
    return (f"the file is more than {limits.max_bytes / 2**20:.3g} MB, the most allowed; clear the outputs "
            "(Edit > Clear Outputs of All Cells), save and submit again")


def _structure_problem(data, limits):
    """``(status, problem)`` if the JSON nests deeper or holds more values than ``limits`` allow; ``(None, "")``.

    Counted on the text with its strings removed, before anything is parsed: a million nested
    brackets or tiny outputs cost the parser (and the grader's memory) more than their bytes.
    """
    skeleton = np.frombuffer(_skeleton(data), dtype=np.uint8)
    opens = (skeleton == ord("[")) | (skeleton == ord("{"))
    closes = (skeleton == ord("]")) | (skeleton == ord("}"))
    brackets = opens[opens | closes].astype(np.int32) * 2 - 1
    depth = int(np.cumsum(brackets).max()) if brackets.size else 0
    if depth > limits.max_depth:
        return Status.INVALID_NOTEBOOK, (f"the JSON is nested {depth} levels deep, more than the {limits.max_depth} "
                                         "a notebook can need; it is not a notebook saved by Jupyter")
    values = int(opens.sum()) + int(np.count_nonzero(skeleton == ord(","))) + 1
    if values > limits.max_json_values:
        return Status.NOTEBOOK_TOO_LARGE, (f"the notebook holds about {values} JSON values (outputs, lines, metadata), "
                                           f"more than the {limits.max_json_values} allowed; clear the outputs (Edit > "
                                           "Clear Outputs of All Cells), save and submit again")
    return None, ""


def _skeleton(data):
    """``data`` without its JSON strings, built piece by piece: a million strings cost no more memory
    than the file (``re.sub`` would hold a million pieces at once)."""
    skeleton, end, view = bytearray(), 0, memoryview(data)
    for match in JSON_STRING.finditer(data):
        skeleton += view[end:match.start()]
        end = match.end()
    skeleton += view[end:]
    return skeleton


def _short(error, limit=200):
    text = str(error)
    return text if len(text) <= limit else text[:limit] + "..."


def _write_staged(path, notebook):
    """Write the notebook for nbgrader with its outputs cleared (grading clears them too)."""
    cells = [{**c, "outputs": [], "execution_count": None} if c.get("cell_type") == "code" else c
             for c in notebook["cells"]]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({**notebook, "cells": cells}, ensure_ascii=False, indent=1), encoding="utf-8")


def _stage_timestamp(folder, entry, staged):
    """Copy ``timestamp.txt`` to ``staged`` if it is a small regular file holding a time; return whether it was."""
    if entry is None or not entry.is_file(follow_symlinks=False):
        return False
    try:
        fd = os.open(TIMESTAMP_FILE, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=folder)
        with os.fdopen(fd, "rb") as file:
            text = file.read(MAX_TIMESTAMP_BYTES + 1).decode("ascii").strip()
        if len(text) > MAX_TIMESTAMP_BYTES:
            return False
        parse_utc(text)
    except (OSError, ValueError):
        return False
    (staged / TIMESTAMP_FILE).write_text(text)
    return True


def released_cells(gradebook, assignment, notebook):
    """``{grade id: ReleasedCell}`` of one notebook, from the gradebook."""
    record = gradebook.find_notebook(notebook, assignment)
    points = {c.name: float(c.max_score) for c in record.grade_cells}
    solutions = {c.name for c in record.solution_cells}
    return {c.name: ReleasedCell(c.name, c.cell_type, bool(c.locked), c.name in solutions, points.get(c.name), c.source)
            for c in record.source_cells}


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
        by_id.setdefault(grade_id(cell), []).append(cell)
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
        if original.locked and _lines(cell_text(cell.get("source"))) != _lines(replace_hidden_tests(original.source, "")):
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
            if "nbgrader" in cell.get("metadata", {}):  # {} too: DeduplicateIds leaves it on all but the
                # last copy, and OverwriteCells would fail on it with KeyError: 'grade_id'
                restore_cell(cell, released.get(grade_id(cell)))
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
