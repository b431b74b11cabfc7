"""The conda/Binder environment and the pip package declare the same runtime dependencies."""

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
