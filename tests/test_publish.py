"""``cs231kit publish``: the student repository holds the releases and what installs them, no answer.

The leak test collects every line of every solution region and every hidden test of the source
notebooks and looks for each of them in every file of the published tree (notebook cells and all
other text files, line by line, stripped), except lines the source also holds outside those regions
(given code). A later assignment may give an earlier one's answer as a
read-only cell, released on purpose: a line is allowed where another published assignment's release
holds it. A handful of generic statements that a solution shares with the package's own code
(:data:`SHARED_WITH_PACKAGE`) are allowed too.
"""

import json
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest
from notebook_cells import REPO, nbgrader, read_notebook

from cs231kit.cli import main
from cs231kit.grading.cells import HIDDEN_TESTS_REGION, SOLUTION_REGION
from cs231kit.grading.session import list_assignments, load_config
from cs231kit.publish import DISABLED_LAB_PLUGINS, DISABLED_SERVER_EXTENSIONS, publish, student_lab_settings

ASSIGNMENTS = list_assignments(REPO)
TRIVIAL_LENGTH = 12
"""Lines shorter than this (``continue``, ``return dW``, ``)``) say nothing about an answer."""
SHARED_WITH_PACKAGE = {
    "batch = rng.integers(0, X.shape[0], size=batch_size)",  # the minibatch draw of cs231kit.training
    "for _ in range(num_steps):",
    "for k, index in enumerate(indices):",
}
TOP_LEVEL = {".gitignore", "README.md", "pyproject.toml", "environment.yml", "binder", "jupyter-config", "notebooks",
             "src"}
NEVER_PUBLISHED = ("solutions", "autograder", "tests", "benchmarks", "nbgrader_config.py", "Makefile", ".venv")


def secret_lines(assignment):
    """Stripped lines of the solution regions (whole solution cells where unmarked) and hidden tests
    that the source notebook does not also hold outside them (given code the release keeps)."""
    secret, given = set(), set()
    for cell in read_notebook(REPO / "solutions" / assignment / f"{assignment}.ipynb")["cells"]:
        regions = [HIDDEN_TESTS_REGION]
        if nbgrader(cell).get("solution"):
            regions.append(SOLUTION_REGION if SOLUTION_REGION.search(cell["source"]) else re.compile(r"(.*)", re.S))
        rest = cell["source"]
        for region in regions:
            secret.update(line.strip() for text in region.findall(rest) for line in text.splitlines())
            rest = region.sub("", rest)
        given.update(line.strip() for line in rest.splitlines())
    return {line for line in secret - given if len(line) >= TRIVIAL_LENGTH}


def published_lines(tree):
    """``{relative path: set of stripped lines}`` of every file of ``tree`` (notebooks: every cell's source)."""
    found = {}
    for path in sorted(p for p in tree.rglob("*") if p.is_file() and ".git" not in p.relative_to(tree).parts):
        if path.suffix == ".ipynb":
            text = "\n".join(cell["source"] for cell in read_notebook(path)["cells"])
        else:
            text = path.read_bytes().decode("utf-8", errors="replace")
        found[path.relative_to(tree).as_posix()] = {line.strip() for line in text.splitlines()}
    return found


def leaked_lines(tree, assignments):
    """``{(assignment, file): lines}`` of every secret line of ``assignments`` found in ``tree``."""
    files = published_lines(tree)
    leaks = {}
    for assignment in assignments:
        given_elsewhere = set().union(*(lines for name, lines in files.items()
                                        if name.startswith("notebooks/") and not name.startswith(f"notebooks/{assignment}/")))
        secrets = secret_lines(assignment) - given_elsewhere - SHARED_WITH_PACKAGE
        for name, lines in files.items():
            if secrets & lines:
                leaks[assignment, name] = sorted(secrets & lines)
    return leaks


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    """The whole course published once (every assignment)."""
    destination = tmp_path_factory.mktemp("student") / "repo"
    return publish(REPO, destination)


def test_published_tree_has_the_student_files_and_nothing_of_the_instructor(published):
    tree = published.destination
    assert {p.name for p in tree.iterdir()} == TOP_LEVEL | ({"course.json"} if (REPO / "course.json").is_file() else set())
    assert sorted(p.relative_to(tree).as_posix() for p in (tree / "notebooks").rglob("*.ipynb")) == \
        [f"notebooks/{a}/{a}.ipynb" for a in sorted(ASSIGNMENTS)]
    for name in ("binder/environment.yml", "binder/postBuild", "src/cs231kit/__init__.py", "src/cs231kit/gradcheck.py"):
        assert (tree / name).is_file(), name
    for name in NEVER_PUBLISHED:
        assert not list(tree.rglob(name)), name
    assert not list(tree.rglob("__pycache__")) and not list(tree.rglob("*.ipynb_checkpoints"))
    assert (tree / "binder" / "postBuild").stat().st_mode & 0o111, "repo2docker runs postBuild only if executable"
    assert (tree / "binder" / "environment.yml").read_text() == (REPO / "environment.yml").read_text()


def test_published_tree_holds_no_solution_line_and_no_hidden_test(published):
    assert all(secret_lines(a) for a in ASSIGNMENTS), "every source notebook has solutions to look for"
    assert leaked_lines(published.destination, ASSIGNMENTS) == {}


def test_the_leak_search_finds_a_solution_line(tmp_path):
    tree = publish(REPO, tmp_path / "repo", ["loss"]).destination
    line = sorted(secret_lines("loss"))[0]
    with open(tree / "src" / "cs231kit" / "vis.py", "a") as module:
        module.write(f"\n    {line}\n")
    assert list(leaked_lines(tree, ["loss"])) == [("loss", "src/cs231kit/vis.py")]


def test_student_pyproject_installs_the_lab_settings_and_no_test_extra(published):
    tree = published.destination
    student = tomllib.loads((tree / "pyproject.toml").read_text())
    course = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "optional-dependencies" not in student["project"] and "pytest" not in student.get("tool", {})
    assert student["project"]["dependencies"] == course["project"]["dependencies"]
    assert student["project"]["scripts"] == course["project"]["scripts"]
    installed = {f"{target}/{source.rsplit('/', 1)[1]}": source
                 for target, sources in student["tool"]["setuptools"]["data-files"].items() for source in sources}
    assert installed == {f"etc/jupyter/{name}": f"jupyter-config/{name}" for name in student_lab_settings()}
    for source in installed.values():
        assert (tree / source).is_file(), source
    assert "data-files" not in course["tool"]["setuptools"], "the instructor's environment keeps nbgrader's tools"


def test_lab_settings_name_real_nbgrader_plugins_and_keep_validate():
    extension = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "@jupyter" / "nbgrader"
    bundle = "\n".join(p.read_text(errors="replace") for p in extension.rglob("*.js"))
    for plugin in DISABLED_LAB_PLUGINS:
        if plugin.startswith("@jupyter/nbgrader:"):
            assert f'"{plugin}"' in bundle, plugin
    assert '"@jupyter/nbgrader:validate-assignment"' in bundle
    settings = {name: json.loads(text) for name, text in student_lab_settings().items()}
    disabled = settings["labconfig/page_config.json"]["disabledExtensions"]
    assert not any("validate" in plugin for plugin in disabled)
    servers = next(v for k, v in settings.items() if k.startswith("jupyter_server_config.d/"))
    assert servers["ServerApp"]["jpserver_extensions"] == dict.fromkeys(DISABLED_SERVER_EXTENSIONS, False)
    for name in DISABLED_SERVER_EXTENSIONS:
        __import__(name)


def test_validate_uses_the_courses_time_limit_per_cell():
    settings = json.loads(student_lab_settings()["nbgrader_config.json"])
    assert settings["Execute"]["timeout"] == load_config(REPO).Execute.timeout


def test_subset_publishes_only_the_listed_assignments_and_updates_in_place(tmp_path):
    destination = tmp_path / "repo"
    publish(REPO, destination)
    again = publish(REPO, destination)
    assert again.written == [] and again.removed == []
    subset = publish(REPO, destination, ["loss", "gradcheck"])
    assert sorted(p.parent.name for p in (destination / "notebooks").rglob("*.ipynb")) == ["gradcheck", "loss"]
    assert set(subset.removed) == {f"notebooks/{a}/{a}.ipynb" for a in ASSIGNMENTS if a not in ("loss", "gradcheck")}
    assert subset.written == ["README.md"]
    readme = (destination / "README.md").read_text()
    assert "notebooks/loss/loss.ipynb" in readme and "notebooks/features" not in readme
    assert leaked_lines(destination, ASSIGNMENTS) == {}, "nor the answers of assignments not yet released"


def test_git_commits_each_change_once(tmp_path, capsys):
    destination = tmp_path / "repo"

    def commits():
        log = subprocess.run(["git", "-C", str(destination), "log", "--format=%s"], capture_output=True, text=True, check=True)
        return log.stdout.splitlines()

    assert main(["--course-dir", str(REPO), "publish", str(destination), "--git", "--assignments", "loss"]) == 0
    assert main(["--course-dir", str(REPO), "publish", str(destination), "--git", "--assignments", "loss"]) == 0
    assert "nothing to commit" in capsys.readouterr().out
    assert commits() == ["Publish loss"]
    assert main(["--course-dir", str(REPO), "publish", str(destination), "--git", "--assignments", "loss,gradcheck"]) == 0
    assert commits() == ["Publish loss, gradcheck", "Publish loss"]
    status = subprocess.run(["git", "-C", str(destination), "status", "--porcelain"], capture_output=True, text=True)
    assert status.stdout == ""


def test_binder_badge_and_an_unreleased_assignment(tmp_path, capsys):
    destination = tmp_path / "repo"
    assert main(["--course-dir", str(REPO), "publish", str(destination), "--assignments", "loss",
                 "--binder", "my-org/cs231-notebooks"]) == 0
    readme = (destination / "README.md").read_text()
    assert "https://mybinder.org/v2/gh/my-org/cs231-notebooks/HEAD?urlpath=lab/tree/notebooks" in readme
    assert "python3 -m venv .venv" in readme and ".venv/bin/jupyter lab notebooks/" in readme
    assert main(["--course-dir", str(REPO), "publish", str(tmp_path / "other"), "--assignments", "no_such_assignment"]) == 1
    assert "run cs231kit release first" in capsys.readouterr().err
    assert not (tmp_path / "other").exists()


@pytest.mark.slow
def test_published_repository_builds_a_wheel_that_installs_the_lab_settings(published, tmp_path):
    """What ``pip install .`` (the student README, Binder's postBuild) installs: the package and,
    into the environment's etc/jupyter, the settings that hide the instructor tools."""
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp_path),
                            str(published.destination)], capture_output=True, text=True)
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = tmp_path.glob("cs231kit-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        data = {name.split(".data/data/", 1)[1]: archive.read(name).decode() for name in names if ".data/data/" in name}
    assert data == {f"etc/jupyter/{name}": text for name, text in student_lab_settings().items()}
    assert "cs231kit/gradcheck.py" in names and "cs231kit/student_repo/postBuild" in names
