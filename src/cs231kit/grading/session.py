"""Drive nbgrader through its Python API with the course's own ``nbgrader_config.py``.

nbgrader's command line costs ~2.8 s of start-up per call; its API costs nothing per call, so the
kit uses the API and keeps one configuration object per course directory.
"""

import contextlib
import functools
import os
import warnings
from pathlib import Path

GRADING_ENVIRONMENT = {
    # The dataset is the course's setting (course.json), added per course by the grader
    # (cs231kit.data.dataset_environment): kernels cannot read the course tree.
    "MPLBACKEND": "Agg",
    # The kit's automatic progress bars would clutter the graded notebooks and their feedback.
    "CS231KIT_PROGRESS": "0",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    # One BLAS thread per kernel: several threads fighting over 2 cores made a notebook 3x slower.
    "OMP_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}


def load_config(root, sections=None, **overrides):
    """Load ``<root>/nbgrader_config.py`` and apply ``CourseDirectory`` overrides.

    Parameters
    ----------
    root : str or Path
        The course root (the folder holding ``nbgrader_config.py``).
    sections : dict, optional
        More settings, ``{section: {trait: value}}``, e.g. ``{"Execute": {"kernel_name": ...}}``.
    **overrides
        ``CourseDirectory`` traits to replace, e.g. ``release_directory="/tmp/x"`` or ``db_url=...``.

    Returns
    -------
    traitlets.config.Config
    """
    from traitlets.config.loader import PyFileConfigLoader

    root = Path(root).resolve()
    config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    for name, value in overrides.items():
        setattr(config.CourseDirectory, name, value)
    for section, values in (sections or {}).items():
        for name, value in values.items():
            setattr(config[section], name, value)
    return config


def make_api(root, sections=None, **overrides):
    """Return an ``NbGraderAPI`` bound to the course at ``root`` (see :func:`load_config`)."""
    import logging

    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    _stamp_new_gradebooks_in_process()
    config = load_config(root, sections, **overrides)
    # The exchange (/srv/nbgrader/exchange) is not used by the kit: silence its start-up complaint.
    logging.getLogger("NbGraderAPI").setLevel(logging.CRITICAL)
    coursedir = CourseDirectory(config=config)
    return NbGraderAPI(coursedir=coursedir, config=config)


def _stamp_new_gradebooks_in_process():
    """Have nbgrader stamp a new gradebook with its schema revision without running the ``alembic`` command.

    nbgrader asks ``alembic heads`` in a new process, which imports nbgrader again: 2.5 s for every new
    gradebook (every fresh course copy of the demo and the tests), and a command looked up on PATH, which
    a virtual environment that was not activated (``.venv/bin/cs231kit``) lacks. The same question,
    asked of alembic in this process (nbgrader is imported already), takes milliseconds.
    """
    import nbgrader.api

    nbgrader.api.get_alembic_version = nbgrader_schema_head


@functools.cache
def nbgrader_schema_head():
    """The newest gradebook schema revision of the installed nbgrader (the first line ``alembic heads`` prints)."""
    from alembic.script import ScriptDirectory
    from nbgrader.dbutil import ALEMBIC_DIR

    return ScriptDirectory(ALEMBIC_DIR).get_current_head()


# The order of the course (lectures 3, 4 and 7); an assignment not listed here comes after, by name.
COURSE_ORDER = ("loss", "gradcheck", "optimizers", "features", "regularization")


def list_assignments(root):
    """Return the assignment ids under ``<root>/solutions``, in course order (see :data:`COURSE_ORDER`).

    Returns
    -------
    list of str
    """
    source = Path(root) / "solutions"
    found = [p.name for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb"))]
    return sorted(found, key=_course_position)


def _course_position(assignment):
    """Sort key: position in :data:`COURSE_ORDER`, then the name for assignments not listed there."""
    if assignment in COURSE_ORDER:
        return (COURSE_ORDER.index(assignment), "")
    return (len(COURSE_ORDER), assignment)


@contextlib.contextmanager
def grading_environment(extra=None):
    """Set the environment variables that kernels started by nbgrader inherit, then restore them.

    Also silences nbgrader's known-harmless SQLAlchemy warnings for the duration.

    Parameters
    ----------
    extra : dict, optional
        More variables to set on top of :data:`GRADING_ENVIRONMENT`.
    """
    wanted = {**GRADING_ENVIRONMENT, **(extra or {})}
    saved = {name: os.environ.get(name) for name in wanted}
    os.environ.update(wanted)
    try:
        with warnings.catch_warnings():
            # nbgrader 0.9.6 + SQLAlchemy 2 warn "Object ... not in session" on every submission (harmless).
            warnings.filterwarnings("ignore", message=".*not in session.*")
            yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
