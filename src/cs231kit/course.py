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
    if os.environ.get(COURSE_ROOT_ENV):
        return Path(os.environ[COURSE_ROOT_ENV]).resolve()
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / COURSE_MARKER).is_file():
            return folder
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
