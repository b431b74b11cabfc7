"""Generate student releases (``notebooks/<a>``) from instructor sources (``solutions/<a>``).

nbgrader writes the release in place and, when it fails half-way (for example because cells were
added after submissions exist), it has already deleted the old release. The kit therefore lets
nbgrader write into a scratch folder and only then swaps the result into ``notebooks/``.
"""

import shutil
import tempfile
from pathlib import Path

from .cells import has_markers
from .session import list_assignments, make_api


class ReleaseError(RuntimeError):
    """nbgrader could not generate a release; the committed release was left untouched."""


def generate_release(root, assignment, release_dir, db_url=None):
    """Run nbgrader's ``generate_assignment`` for one assignment into ``release_dir``.

    Parameters
    ----------
    root : str or Path
        Course root.
    assignment : str
        Assignment id (a folder of ``solutions/``).
    release_dir : str or Path
        Folder that receives ``<assignment>/``; it replaces ``notebooks/`` for this run.
    db_url : str, optional
        Gradebook to register the assignment in; defaults to the course's gradebook.

    Returns
    -------
    Path
        ``release_dir / assignment``.

    Raises
    ------
    ReleaseError
        With nbgrader's own explanation when generation fails.
    """
    overrides = {"release_directory": str(Path(release_dir).resolve())}
    if db_url is not None:
        overrides["db_url"] = db_url
    (Path(root) / "autograder").mkdir(exist_ok=True)  # sqlite cannot create the gradebook's folder
    result = make_api(root, **overrides).generate_assignment(assignment, force=True, create=True)
    if not result["success"]:
        raise ReleaseError(f"nbgrader could not release {assignment!r}:\n{result.get('error') or result.get('log')}")
    return Path(release_dir) / assignment


def release_assignment(root, assignment):
    """Regenerate ``notebooks/<assignment>`` and register the assignment in the course gradebook.

    The new release replaces the old one only after nbgrader has succeeded.

    Returns
    -------
    Path
        The release folder ``<root>/notebooks/<assignment>``.
    """
    notebooks = Path(root) / "notebooks"
    notebooks.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory(dir=notebooks, prefix=".release-") as scratch:
        fresh = generate_release(root, assignment, scratch)
        _swap_into_place(fresh, notebooks / assignment)
    return notebooks / assignment


def release_all(root, assignments=None):
    """Release every assignment of ``solutions/`` (or the given ones), in order.

    Returns
    -------
    list of Path
    """
    return [release_assignment(root, a) for a in (assignments or list_assignments(root))]


def find_leaked_markers(notebook):
    """Return the indices of cells whose source still holds a solution or hidden-test marker.

    Parameters
    ----------
    notebook : nbformat.NotebookNode

    Returns
    -------
    list of int
    """
    return [i for i, cell in enumerate(notebook.cells) if has_markers(cell.source)]


def _swap_into_place(fresh, target):
    """Move folder ``fresh`` to ``target``, keeping the old ``target`` until the new one is in place."""
    staged = target.with_name(f".{target.name}.new")
    retired = target.with_name(f".{target.name}.old")
    for leftover in (staged, retired):
        shutil.rmtree(leftover, ignore_errors=True)
    shutil.copytree(fresh, staged)
    if target.exists():
        target.rename(retired)
    staged.rename(target)
    shutil.rmtree(retired, ignore_errors=True)
