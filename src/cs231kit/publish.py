"""Write the student repository: what a Binder link and a course website point at.

``cs231kit publish DIR`` turns the instructor's course into a folder students can clone or open on
Binder. It holds the release notebooks of the chosen assignments, the helper package and what
installs it (a ``pyproject.toml`` without the test extra, ``environment.yml``, ``binder/``), the
course settings (``course.json``) and a student README with the Binder badge; never ``solutions/``,
``autograder/``, ``tests/``, ``benchmarks/`` or ``nbgrader_config.py``.

The published ``pyproject.toml`` installs the student's lab settings into the environment
(``etc/jupyter``; a wheel does, an editable install does not): they switch off nbgrader's
instructor tools (Formgrader, Create Assignment, the course and assignment lists with their
exchange folder, the Nbgrader menu, and the lab's news prompt) and keep its Validate button,
with the course's per-cell time limit.
Installed the same way in a student's ``.venv`` and by Binder's ``postBuild``, the lab looks the
same in both; the instructor's environment, installed from the course's own ``pyproject.toml``,
keeps every tool.

The folder is owned by the command: re-running it rewrites what changed and removes what is no
longer published (an assignment left out of ``--assignments``), leaving ``.git/`` alone.
"""

import json
import shutil
import subprocess
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path

from .grading.gradescope import package_root
from .grading.session import list_assignments

TEMPLATES = Path(__file__).with_name("student_repo")
BINDER_PLACEHOLDER = "<org>/<repo>"
BINDER_URL = "https://mybinder.org/v2/gh/{repo}/HEAD?urlpath=lab/tree/notebooks"
COURSE_SETTINGS = "course.json"
# The student's JupyterLab settings, installed by the published pyproject into <env>/etc/jupyter.
JUPYTER_CONFIG = "jupyter-config"
DISABLED_LAB_PLUGINS = (
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:create-assignment",
    "@jupyter/nbgrader:assignment-list",
    "@jupyter/nbgrader:course-list",
    "@jupyter/nbgrader:menu",
    "@jupyterlab/apputils-extension:announcements",  # asks to fetch news from the internet on first start
)
DISABLED_SERVER_EXTENSIONS = (
    "nbgrader.server_extensions.formgrader",
    "nbgrader.server_extensions.assignment_list",
    "nbgrader.server_extensions.course_list",
)
# Validate's per-cell limit: the course grades with c.Execute.timeout = 120 (nbgrader's default is
# 30 s, which a slow cell on Binder's one CPU can exceed); tests/test_publish.py keeps them equal.
VALIDATE_CELL_SECONDS = 120
# Loaded after nbgrader's own nbgrader.json (jupyter reads a config.d folder in name order).
SERVER_CONFIG_NAME = "zz-cs231kit-student.json"
# Sections of the course's pyproject.toml that students do not need.
INSTRUCTOR_ONLY_SECTIONS = ("[project.optional-dependencies]", "[tool.pytest.ini_options]")
NOT_PUBLISHED = ("__pycache__", "*.pyc", ".ipynb_checkpoints", "*.egg-info")


@dataclass
class Publication:
    """What one run of :func:`publish` did to the student repository."""

    destination: Path
    assignments: list
    written: list = field(default_factory=list)
    removed: list = field(default_factory=list)
    commit: str | None = None


def student_lab_settings():
    """``{path below etc/jupyter: JSON text}`` of the student's lab settings.

    Returns
    -------
    dict of str to str
        JupyterLab's ``labconfig/page_config.json`` (plugins off), a server ``config.d`` file
        (nbgrader's instructor server extensions off; ``validate_assignment`` stays on) and the
        ``nbgrader_config.json`` that Validate reads (the course's per-cell time limit).
    """
    page_config = {"disabledExtensions": {plugin: True for plugin in DISABLED_LAB_PLUGINS}}
    server_config = {"ServerApp": {"jpserver_extensions": {name: False for name in DISABLED_SERVER_EXTENSIONS}}}
    return {"labconfig/page_config.json": _json(page_config),
            f"jupyter_server_config.d/{SERVER_CONFIG_NAME}": _json(server_config),
            "nbgrader_config.json": _json({"Execute": {"timeout": VALIDATE_CELL_SECONDS}})}


def student_pyproject(course_pyproject):
    """The student's ``pyproject.toml``: the course's without test extras and pytest settings,
    installing :func:`student_lab_settings` into the environment.

    Parameters
    ----------
    course_pyproject : str
        Text of the course's ``pyproject.toml``.

    Returns
    -------
    str
    """
    kept = [section for section in _toml_sections(course_pyproject)
            if section.splitlines()[0].strip() not in INSTRUCTOR_ONLY_SECTIONS]
    data_files = "\n".join(f'"{(Path("etc/jupyter") / name).parent.as_posix()}" = ["{JUPYTER_CONFIG}/{name}"]'
                           for name in sorted(student_lab_settings()))
    kept.append("# JupyterLab for students: nbgrader's instructor tools off (written by cs231kit publish)\n"
                f"[tool.setuptools.data-files]\n{data_files}\n")
    return "\n".join(section.rstrip("\n") + "\n" for section in kept)


def student_readme(assignments, binder_repo=BINDER_PLACEHOLDER, course="cs231kit", env_name="cs231kit"):
    """The student README: Binder badge, install route (venv first), how to work and hand in."""
    listing = "\n".join(f"- `notebooks/{a}/{a}.ipynb`" for a in assignments) or "- (none yet)"
    return (TEMPLATES / "README.md").read_text().format(
        course=course, binder_url=BINDER_URL.format(repo=binder_repo), assignment_list=listing, env_name=env_name)


def student_files(root, assignments, binder_repo=BINDER_PLACEHOLDER):
    """``{relative path: bytes or source Path}`` of the student repository.

    Parameters
    ----------
    root : str or Path
        Course root.
    assignments : list of str
        Assignments whose release (``notebooks/<a>/``) is published.
    binder_repo : str
        ``org/repo`` of the published repository on GitHub, for the Binder badge.

    Returns
    -------
    dict
        Generated files as bytes, copied ones as the Path to copy.
    """
    root, package = Path(root), package_root(root)
    files = {}
    for assignment in assignments:
        files.update(_files_below(root / "notebooks" / assignment, f"notebooks/{assignment}"))
    files.update(_files_below(package / "src" / "cs231kit", "src/cs231kit"))
    environment = (root / "environment.yml").read_text()
    files.update({
        "README.md": student_readme(assignments, binder_repo, env_name=_environment_name(environment)).encode(),
        "pyproject.toml": student_pyproject((package / "pyproject.toml").read_text()).encode(),
        "environment.yml": environment.encode(),
        "binder/environment.yml": environment.encode(),
        "binder/postBuild": TEMPLATES / "postBuild",
        ".gitignore": TEMPLATES / "gitignore",
    })
    files.update({f"{JUPYTER_CONFIG}/{name}": text.encode() for name, text in student_lab_settings().items()})
    if (root / COURSE_SETTINGS).is_file():
        files[COURSE_SETTINGS] = root / COURSE_SETTINGS
    return files


def publish(root, destination, assignments=None, *, git=False, binder_repo=BINDER_PLACEHOLDER):
    """Write or update the student repository in ``destination``.

    Parameters
    ----------
    root : str or Path
        Course root (its ``notebooks/`` must hold the releases: run ``cs231kit release`` first).
    destination : str or Path
        The student repository; created if missing, updated in place otherwise.
    assignments : list of str, optional
        Assignments released so far (default: every assignment of ``solutions/``).
    git : bool
        Make ``destination`` a git repository (first time) and commit the update, if anything changed.
    binder_repo : str
        ``org/repo`` for the README's Binder badge.

    Returns
    -------
    Publication

    Raises
    ------
    FileNotFoundError
        If an assignment has no release in ``notebooks/``.
    """
    root, destination = Path(root).resolve(), Path(destination).resolve()
    assignments = list(assignments or list_assignments(root))
    missing = [a for a in assignments if not (root / "notebooks" / a).is_dir()]
    if missing:
        raise FileNotFoundError(f"no release of {', '.join(missing)} in {root / 'notebooks'}: run cs231kit release first")
    files = student_files(root, assignments, binder_repo)
    result = Publication(destination, assignments)
    destination.mkdir(parents=True, exist_ok=True)
    for name, content in sorted(files.items()):
        if _write_if_changed(destination / name, content):
            result.written.append(name)
    result.removed = _remove_unpublished(destination, set(files))
    if git:
        result.commit = commit_publication(destination, assignments)
    return result


def commit_publication(destination, assignments):
    """``git init`` (first time) and commit everything in ``destination``; return the commit id, or
    None when nothing changed since the last commit."""
    def run(*args):
        return subprocess.run(["git", "-C", str(destination), *args], check=True, capture_output=True, text=True).stdout

    if not (destination / ".git").exists():
        run("init", "--quiet")
    run("add", "--all")
    if not run("status", "--porcelain").strip():
        return None
    identity = ["-c", "user.name=cs231kit publish", "-c", "user.email=cs231kit-publish@localhost"]
    run(*identity, "commit", "--quiet", "-m", f"Publish {', '.join(assignments)}")
    return run("rev-parse", "HEAD").strip()


def _write_if_changed(path, content):
    """Write ``content`` (bytes, or a file to copy with its permissions) to ``path`` unless it is already there."""
    data = content.read_bytes() if isinstance(content, Path) else content
    if path.is_file() and path.read_bytes() == data:
        return False
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if isinstance(content, Path):
        shutil.copymode(content, path)
    return True


def _remove_unpublished(destination, published):
    """Delete files of ``destination`` (outside ``.git/``) that are not in ``published``, then empty folders."""
    removed = []
    for path in sorted(destination.rglob("*"), reverse=True):
        relative = path.relative_to(destination).as_posix()
        if relative == ".git" or relative.startswith(".git/"):
            continue
        if path.is_dir() and not path.is_symlink():
            if not any(path.iterdir()):
                path.rmdir()
        elif relative not in published:
            path.unlink()
            removed.append(relative)
    return sorted(removed)


def _files_below(folder, prefix):
    """``{prefix/relative path: file}`` of every file below ``folder``, without caches and build clutter."""
    files = {}
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if path.is_file() and not any(fnmatch(part, pattern) for part in parts for pattern in NOT_PUBLISHED):
            files[f"{prefix}/{'/'.join(parts)}"] = path
    return files


def _toml_sections(text):
    """Split TOML text into its preamble and ``[table]`` sections (each keeping its header line)."""
    sections, current = [], []
    for line in text.splitlines(keepends=True):
        if line.startswith("[") and current:
            sections.append("".join(current))
            current = []
        current.append(line)
    sections.append("".join(current))
    return [s for s in sections if s.strip()]


def _environment_name(environment_yml):
    """The ``name:`` of a conda environment file (``cs231kit`` if it has none)."""
    names = [line.split(":", 1)[1].strip() for line in environment_yml.splitlines() if line.startswith("name:")]
    return names[0] if names else "cs231kit"


def _json(value):
    """``value`` as indented JSON text ending in a newline."""
    return json.dumps(value, indent=2) + "\n"
