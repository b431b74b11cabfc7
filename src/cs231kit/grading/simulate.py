"""Simulated students: submissions built from the solution, the release and typical bugs.

A class is described by ``autograder/simulated/<assignment>.py`` (plain data, see
:func:`load_simulated_class`). A submission is the release notebook whose solution cells hold the
source notebook's solution text (marker lines removed), then edited by the student's patches.
The adversarial corpus (``autograder/adversarial/<assignment>.py``) describes its submissions the
same way, with more kinds of edits (see :func:`student_files`) and of folders (see
:func:`write_submission`: extra files, links, hostile folder names).
"""

import json
import os
import shutil
from pathlib import Path

import nbformat

from ..course import load_course_module
from .cells import grade_id, is_autograded_test, is_solution, points, solution_text
from .intake import printable_id


class SimulationError(ValueError):
    """A simulated student's description does not fit the notebooks (e.g. a patch that does not apply)."""


def load_simulated_class(root, assignment):
    """Return the list of simulated students of ``assignment`` (``[]`` when it has none).

    Each student is a dict with ``name``, ``description``, and either ``release=True`` (submits the
    untouched release) or ``patches`` (a list of ``{"cell": grade_id, "old": text, "new": text}``),
    and ``failing``: the grade ids of the autograded tests that must lose their points (``None``
    means every one).
    """
    path = Path(root) / "autograder" / "simulated" / f"{assignment}.py"
    if not path.is_file():
        return []
    return list(load_course_module(f"autograder/simulated/{assignment}.py", root=root).STUDENTS)


def autograded_tests(notebook):
    """Return ``{grade_id: points}`` of a notebook's autograded test cells (graded code, not solution)."""
    return {grade_id(cell): points(cell) for cell in notebook.cells if is_autograded_test(cell)}


def fill_in_solutions(release, source):
    """Return a copy of ``release`` whose solution cells hold the solution text of ``source``."""
    solutions = {grade_id(c): solution_text(c.source) for c in source.cells if is_solution(c)}
    filled = nbformat.from_dict(release)
    for cell in filled.cells:
        if grade_id(cell) in solutions:
            cell.source = solutions[grade_id(cell)]
    return filled


def apply_patches(notebooks, patches, student):
    """Apply ``patches`` in place to the cells (matched by grade id) of a list of notebooks."""
    cells = {grade_id(c): c for nb in notebooks for c in nb.cells if grade_id(c)}
    for patch in patches:
        cell = cells.get(patch["cell"])
        if cell is None:
            raise SimulationError(f"{student}: no cell with grade_id {patch['cell']!r}")
        count = cell.source.count(patch["old"])
        if count != 1:
            raise SimulationError(f"{student}: the text to replace occurs {count} times in {patch['cell']!r} "
                                  f"(it must occur once): {patch['old']!r}")
        cell.source = cell.source.replace(patch["old"], patch["new"])


def write_simulated_class(root, assignment, students):
    """Write one submission per simulated student under ``autograder/submitted/<folder>/<assignment>/``
    (see :func:`write_submission`).

    Returns
    -------
    dict
        ``{student name: expected autograded score}``.
    """
    expected = {}
    for student in students:
        write_submission(root, assignment, student)
        expected[student["name"]] = expected_score(student, release_points(root, assignment))
    return expected


def submission_id(student):
    """The student id that grading reports for a simulated student (its folder name, escaped if odd)."""
    return printable_id(student.get("student_dir", student["name"]))


def write_submission(root, assignment, student):
    """Write one simulated student's submission of ``assignment`` (their other assignments' stay).

    Besides the files of :func:`student_files`, a student may have: ``student_dir`` (the folder's
    name, when it is not ``name``: glob characters, a newline...); ``student_link`` or
    ``folder_link`` (the student folder, or the assignment folder, is a symbolic link to a path of
    the course); ``notebook_link`` or ``notebook_hardlink`` (the notebook is a link to a course
    path); ``links`` and ``hardlinks`` (``{file name: course path or absolute path}``, beside the
    notebook); ``extra_files`` (``{relative path: text}``, e.g. a ``json.py`` or
    ``cs231kit/__init__.py`` beside the notebook); ``special_files`` (``{name: "fifo" or "folder"}``).
    """
    submitted = Path(root) / "autograder" / "submitted"
    student_root = submitted / student.get("student_dir", student["name"])
    target = student_root / assignment
    # The student's submissions of other assignments stay, unless this one replaces the whole folder.
    _remove(student_root if student.get("student_link") or not student_root.is_dir() or student_root.is_symlink()
            else target)
    if student.get("student_link"):
        student_root.symlink_to(_course_path(root, student["student_link"]), target_is_directory=True)
        return
    if student.get("folder_link"):
        student_root.mkdir(parents=True, exist_ok=True)
        target.symlink_to(_course_path(root, student["folder_link"]), target_is_directory=True)
        return
    target.mkdir(parents=True)
    for name, content in student_files(root, assignment, student).items():
        (target / name).write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    for name, text in student.get("extra_files", {}).items():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        (target / name).write_text(text, encoding="utf-8")
    notebook = f"{assignment}.ipynb"
    links = {**student.get("links", {}), **({notebook: student["notebook_link"]} if "notebook_link" in student else {})}
    hardlinks = {**student.get("hardlinks", {}),
                 **({notebook: student["notebook_hardlink"]} if "notebook_hardlink" in student else {})}
    for name, link_target in links.items():
        _remove(target / name)
        (target / name).symlink_to(_course_path(root, link_target))
    for name, link_target in hardlinks.items():
        _remove(target / name)
        os.link(_course_path(root, link_target), target / name)
    for name, kind in student.get("special_files", {}).items():
        _remove(target / name)
        os.mkfifo(target / name) if kind == "fifo" else (target / name).mkdir()


def _course_path(root, path):
    """``path`` if absolute, else the path inside the course."""
    return Path(path) if Path(path).is_absolute() else Path(root) / path


def _remove(path):
    """Remove a file, a link (never what it points to) or a folder, if there is one."""
    if path.is_symlink() or path.is_file():
        path.unlink()
    elif path.exists():
        shutil.rmtree(path)


def student_files(root, assignment, student):
    """``{file name: text or bytes}`` of one submission.

    Besides the keys of :func:`student_notebooks`, a student may have ``raw`` (the text or bytes of
    the file instead of a notebook: corrupt JSON, an empty file), ``file_name`` (a renamed
    notebook), ``from_assignment`` (the solution of another assignment, submitted under this one's
    name), ``metadata`` (notebook metadata to add) and ``splices`` (``{placeholder: JSON text}``:
    the JSON string ``placeholder``, e.g. the source of an inserted cell or a metadata value, is
    replaced by the text; a list ``[head, item, count, tail]`` stands for ``head`` + ``count``
    copies of ``item`` joined by commas + ``tail``, so that huge or deeply nested files stay small
    in the corpus).
    """
    if "raw" in student:
        return {student.get("file_name", f"{assignment}.ipynb"): student["raw"]}
    if student.get("from_assignment"):
        other = student["from_assignment"]
        notebooks = student_notebooks(root, other, {"name": student["name"], "patches": []})
        return {f"{assignment}.ipynb": nbformat.writes(next(iter(notebooks.values())))}
    notebooks = {name: _spliced(nbformat.writes(nb), student.get("splices", {}))
                 for name, nb in student_notebooks(root, assignment, student).items()}
    if student.get("file_name"):
        notebooks = {student["file_name"]: text for text in notebooks.values()}
    return notebooks


def release_points(root, assignment):
    """``{grade id: points}`` of the autograded tests of the release of ``assignment``."""
    release_dir = Path(root) / "notebooks" / assignment
    return {k: v for path in sorted(release_dir.glob("*.ipynb"))
            for k, v in autograded_tests(nbformat.read(str(path), as_version=4)).items()}


def student_notebooks(root, assignment, student):
    """``{file name: notebook}`` that one simulated student submits (built from the release and sources)."""
    release_dir, source_dir = Path(root) / "notebooks" / assignment, Path(root) / "solutions" / assignment
    names = sorted(p.name for p in release_dir.glob("*.ipynb"))
    releases = [nbformat.read(str(release_dir / n), as_version=4) for n in names]
    if student.get("release"):
        return dict(zip(names, releases))
    notebooks = [fill_in_solutions(r, nbformat.read(str(source_dir / n), as_version=4)) for r, n in zip(releases, names)]
    apply_patches(notebooks, student.get("patches", []), student["name"])
    for notebook in notebooks:
        notebook.metadata.update(student.get("metadata", {}))
    for edit in student.get("cell_edits", []):
        edit_cells(notebooks, edit, student["name"])
    return dict(zip(names, notebooks))


def _spliced(text, splices):
    """The notebook's JSON text with each quoted placeholder replaced by its JSON text (see :func:`student_files`)."""
    for placeholder, value in splices.items():
        quoted = json.dumps(placeholder)
        if text.count(quoted) != 1:
            raise SimulationError(f"the placeholder {placeholder!r} occurs {text.count(quoted)} times (it must occur once)")
        if not isinstance(value, str):
            head, item, count, tail = value
            value = head + ",".join([item] * count) + tail
        text = text.replace(quoted, value)
    return text


def edit_cells(notebooks, edit, student):
    """Apply one cell edit in place: ``{"cell": grade id, "action": ..., ...}``.

    Actions: ``delete``; ``duplicate`` (the copy, which nbgrader grades, gets ``source``);
    ``retype`` (to a markdown cell); ``edit`` (new ``source``); ``metadata`` (``nbgrader`` values
    updated from ``values``); ``insert`` (a new code cell with ``source`` after the cell, with
    ``nbgrader`` metadata ``values`` if given).
    """
    for notebook in notebooks:
        for index, cell in enumerate(notebook.cells):
            if grade_id(cell) == edit["cell"]:
                _EDITS[edit["action"]](notebook, index, edit)
                return
    raise SimulationError(f"{student}: no cell with grade_id {edit['cell']!r} to {edit['action']}")


def _insert(notebook, index, edit):
    cell = nbformat.v4.new_code_cell(edit["source"])
    if edit.get("values"):
        cell.metadata["nbgrader"] = dict(edit["values"])
    notebook.cells.insert(index + 1, cell)


def _duplicate(notebook, index, edit):
    copy = nbformat.from_dict(notebook.cells[index])
    copy.id, copy.source = f"{copy.get('id', 'cell')}-copy", edit["source"]
    notebook.cells.insert(index + 1, copy)


def _retype(notebook, index, edit):
    cell = notebook.cells[index]
    notebook.cells[index] = nbformat.v4.new_markdown_cell(cell.source, metadata=cell.metadata, id=cell.get("id"))


_EDITS = {
    "delete": lambda notebook, index, edit: notebook.cells.pop(index),
    "edit": lambda notebook, index, edit: setattr(notebook.cells[index], "source", edit["source"]),
    "metadata": lambda notebook, index, edit: notebook.cells[index].metadata["nbgrader"].update(edit["values"]),
    "insert": _insert,
    "duplicate": _duplicate,
    "retype": _retype,
}


def expected_score(student, points):
    """Total points minus the points of the tests the student is expected to fail."""
    failing = student.get("failing")
    if failing is None:
        return 0.0
    unknown = set(failing) - set(points)
    if unknown:
        raise SimulationError(f"{student['name']}: unknown test cells in 'failing': {sorted(unknown)}")
    return sum(points.values()) - sum(points[name] for name in failing)
