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


def test_binder_installs_the_package_itself():
    assert "pip install --no-deps -e ." in (REPO / "postBuild").read_text()
