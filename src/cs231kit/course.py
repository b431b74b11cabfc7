"""Locate the course directory and load trusted course modules (hidden checks, simulated students).

The course root is the folder holding ``nbgrader_config.py`` (solutions/, notebooks/, autograder/).
Notebooks run from ``solutions/<a>/``, ``notebooks/<a>/`` or, under grading,
``autograder/autograded/<student>/<a>/``; all of them lie below the root.
"""

import importlib.util
import os
from pathlib import Path
from types import ModuleType

COURSE_ROOT_ENV = "CS231KIT_COURSE_ROOT"
COURSE_MARKER = "nbgrader_config.py"


def find_upwards(file_name, start=None):
    """The course folder that holds ``file_name``: ``$CS231KIT_COURSE_ROOT``, else the nearest folder upwards.

    Parameters
    ----------
    file_name : str
        A file that marks the folder, e.g. ``nbgrader_config.py`` or ``course.json``.
    start : str or Path, optional
        Folder to search upwards from; defaults to the current working directory.

    Returns
    -------
    Path or None
        ``$CS231KIT_COURSE_ROOT`` when that variable is set (whether or not it holds the file: the
        grader names the course), else the nearest of ``start`` and its parents holding the file,
        else None.
    """
    if os.environ.get(COURSE_ROOT_ENV):
        return Path(os.environ[COURSE_ROOT_ENV]).resolve()
    here = Path(start or os.getcwd()).resolve()
    return next((folder for folder in (here, *here.parents) if (folder / file_name).is_file()), None)


def find_course_root(start=None):
    """Return the course root: ``$CS231KIT_COURSE_ROOT`` or the nearest folder with ``nbgrader_config.py``.

    Parameters
    ----------
    start : str or Path, optional
        Folder to search upwards from; defaults to the current working directory.

    Returns
    -------
    Path

    Raises
    ------
    FileNotFoundError
        If no folder from ``start`` up to the file-system root holds ``nbgrader_config.py``.
    """
    folder = find_upwards(COURSE_MARKER, start)
    if folder is not None:
        return folder
    here = Path(start or os.getcwd()).resolve()
    raise FileNotFoundError(
        f"No course directory found: neither {here} nor any folder above it holds {COURSE_MARKER}. "
        f"Run this from inside the course folder or set {COURSE_ROOT_ENV}."
    )


def load_course_module(relative_path, root=None):
    """Import a Python file of the course tree by its path relative to the course root.

    Parameters
    ----------
    relative_path : str
        For example ``"autograder/checks/loss.py"``.
    root : str or Path, optional
        Course root; found with :func:`find_course_root` when omitted.

    Returns
    -------
    types.ModuleType
        A freshly executed module (never a cached entry of ``sys.modules``).
    """
    path = Path(root or find_course_root()) / relative_path
    if not path.is_file():
        raise FileNotFoundError(f"Course module {relative_path!r} not found at {path}.")
    spec = importlib.util.spec_from_file_location(f"cs231kit_course_{path.stem}", path)
    module: ModuleType = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
