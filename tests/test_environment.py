"""environment.yml and pyproject.toml declare the same packages with the same version ranges, the
lock's versions lie in them, and make install installs exactly the lock."""

import importlib.metadata
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
    assert "python>=3.11,<3.14" in environment["dependencies"]


def locked_versions() -> dict[str, set[str]]:
    """uv.lock's versions by package (a package may have one per Python version)."""
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    versions: dict[str, set[str]] = {}
    for package in lock["package"]:
        if "version" in package:
            versions.setdefault(canonicalize_name(package["name"]), set()).add(package["version"])
    return versions


def test_the_locked_versions_lie_in_the_declared_ranges():
    locked = locked_versions()
    for name, specifier in environment_requirements().items():
        assert name in locked, f"{name} is not in uv.lock: run make lock"
        assert any(Requirement(f"{name}{specifier}").specifier.contains(v) for v in locked[name]), (
            f"uv.lock has {name} {sorted(locked[name])}, outside environment.yml's {specifier}"
        )


def test_the_installed_environment_is_the_lock():
    """make install syncs uv.lock exactly: every installed distribution is locked, at its version.

    pip seeds every venv; tf-keras is the benchmark's, outside the lock (see the Makefile).
    """
    locked = locked_versions()
    outside = {"pip", "tf-keras"}
    installed = {
        canonicalize_name(dist.metadata["Name"]): dist.version
        for dist in importlib.metadata.distributions()
    }
    wrong = {
        name: (version, sorted(locked.get(name, [])))
        for name, version in installed.items()
        if name not in outside and version not in locked.get(name, set())
    }
    assert not wrong, f"installed, but not as uv.lock has them (run make install): {wrong}"
