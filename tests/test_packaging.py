"""The conda/Binder environment and the pip package declare the same runtime dependencies, and the
test tools installed by ``.[test]`` do what ``make test`` relies on."""

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def _normalise(requirement):
    """``"nbgrader>=0.9.6,<0.10"`` -> ``("nbgrader", ">=0.9.6,<0.10")`` (names lower-case, no spaces)."""
    requirement = requirement.replace(" ", "").lower()
    cut = next((i for i, ch in enumerate(requirement) if ch in "<>=!~"), len(requirement))
    return requirement[:cut], requirement[cut:]


def test_environment_yml_matches_pyproject_dependencies():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    environment = yaml.safe_load((REPO / "environment.yml").read_text())
    conda = [d for d in environment["dependencies"] if isinstance(d, str) and not d.startswith(("python", "pip"))]
    assert dict(map(_normalise, conda)) == dict(map(_normalise, project["dependencies"]))


def test_binder_installs_the_package_itself_with_the_student_lab_settings():
    """The student repository's binder/postBuild installs the kit as a wheel: an editable install
    would leave out the lab settings that hide the instructor tools (setuptools data files)."""
    post_build = REPO / "src" / "cs231kit" / "student_repo" / "postBuild"
    assert "pip install --no-deps .\n" in post_build.read_text() and post_build.stat().st_mode & 0o111
    assert not (REPO / "postBuild").exists() and not (REPO / "binder").exists(), \
        "Binder points at the published student repository, not at the course with its solutions"


GROUPED_MODULE = """
import os
import pytest

@pytest.fixture(scope="module")
def expensive():
    with open(os.environ["SETUPS"], "a") as file:
        file.write(f"{os.getpid()}\\n")

@pytest.mark.xdist_group("shared")
@pytest.mark.parametrize("i", range(4))
def test_grouped(expensive, i):
    pass

@pytest.mark.parametrize("i", range(4))
def test_free(i):
    pass
"""


def test_xdist_groups_share_one_worker_so_a_module_fixture_is_built_once(tmp_path):
    """``make test`` runs ``--dist loadgroup`` so that tests sharing an expensive module fixture (a graded
    class, a lab) run on one worker and build it once. pytest 9.2 silently broke xdist 3.8's grouping
    (pytest-dev/pytest-xdist#1386): every grouped fixture was then built once per worker."""
    (tmp_path / "test_grouped.py").write_text(GROUPED_MODULE)
    setups = tmp_path / "setups"
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-n", "2", "--dist",
                          "loadgroup", str(tmp_path / "test_grouped.py")], cwd=tmp_path, capture_output=True,
                         text=True, env={**os.environ, "SETUPS": str(setups)})
    assert run.returncode == 0, run.stdout + run.stderr
    assert len(setups.read_text().split()) == 1, "the grouped tests ran on several workers: " + run.stdout


IMPORT_THE_GRADER = """
import sys
import cs231kit.grading.autograde
import nbformat
valid = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1")])
nbformat.validate(valid)
invalid = dict(valid, cells=[{"cell_type": "code", "source": 1}])
try:
    nbformat.validate(invalid)
except nbformat.ValidationError:
    print("lark" in sys.modules)
"""


def test_a_grading_process_compiles_no_iri_parser_and_still_validates_notebooks():
    """Importing the grader (nbformat, nbgrader, hence jsonschema) must not compile ``rfc3987_syntax``'s
    Earley parsers (with lark, about 2 s in the CLI and in each worker); notebooks are validated as
    before: a valid one passes, an invalid one is refused."""
    run = subprocess.run([sys.executable, "-c", IMPORT_THE_GRADER],
                         capture_output=True, text=True, cwd=REPO)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split() == ["False"], run.stdout
