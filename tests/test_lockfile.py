"""The Docker image installs requirements.lock with `--no-deps`: a dependency added to
pyproject.toml but not to the lock would be missing from the image at run time."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


def _locked() -> dict[str, str]:
    pins = re.findall(r"^([A-Za-z0-9._-]+)==([^\s\\;]+)", (ROOT / "requirements.lock").read_text(), re.M)
    return {canonicalize_name(name): version for name, version in pins}


def _wanted() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    lines = project["dependencies"] + project["optional-dependencies"]["postgres"]
    return [Requirement(line) for line in lines]


def test_every_dependency_of_the_image_is_locked_at_an_allowed_version() -> None:
    locked = _locked()
    problems = []
    for requirement in _wanted():
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        version = locked.get(canonicalize_name(requirement.name))
        if version is None:
            problems.append(f"{requirement.name} is not in requirements.lock")
        elif not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement.name}=={version} does not meet {requirement.specifier}")
    assert problems == [], "regenerate requirements.lock (see the Dockerfile): " + "; ".join(problems)


def test_the_image_carries_no_stand_in_dependency() -> None:
    assert "google-crc32c" not in _locked()  # the emulator's alone (the `standins` extra)
