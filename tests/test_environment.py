"""environment.yml and pyproject.toml declare the same packages with the same version ranges."""

import tomllib
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
LINUX_X86 = {"sys_platform": "linux", "platform_machine": "x86_64"}


def requirement_set(lines):
    found = {}
    for line in lines:
        requirement = Requirement(line)
        if requirement.marker is None or requirement.marker.evaluate(LINUX_X86):
            found[canonicalize_name(requirement.name)] = str(requirement.specifier)
    return found


def pyproject_requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return requirement_set(project["dependencies"] + project["optional-dependencies"]["dev"])


def environment_requirements():
    lines = []
    for entry in yaml.safe_load((ROOT / "environment.yml").read_text())["dependencies"]:
        if isinstance(entry, dict):
            lines += [line for line in entry["pip"] if not line.startswith("-e")]
        elif entry.split(">")[0].split("=")[0] not in ("python", "pip"):
            lines.append(entry)
    return requirement_set(lines)


def test_environment_yml_matches_pyproject():
    assert environment_requirements() == pyproject_requirements()


def test_environment_yml_installs_the_package_and_asks_for_python_311():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(
        entry["pip"] for entry in environment["dependencies"] if isinstance(entry, dict)
    )
    assert "-e ." in pip_section
    assert "python>=3.11" in environment["dependencies"]
