"""The lock holds what pyproject.toml asks for: a range changed without `scripts/lock` fails here, not in production."""
import re
import tomllib

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .conftest import ROOT

PINNED = re.compile(r"^([A-Za-z0-9._-]+)==([^\s;\\]+)", re.M)


def pins(lock: str) -> dict[str, str]:
    text = (ROOT / lock).read_text()
    assert "--hash=sha256:" in text  # hash-checking mode needs every pin hashed
    return {canonicalize_name(name): version for name, version in PINNED.findall(text)}


def asked(*extras: str) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = list(project["dependencies"])
    for extra in extras:
        wanted += project["optional-dependencies"][extra]
    return [Requirement(line) for line in wanted]


def unsatisfied(requirements: list[Requirement], locked: dict[str, str]) -> list[str]:
    problems = []
    for requirement in requirements:
        version = locked.get(canonicalize_name(requirement.name))
        if version is None:
            problems.append(f"{requirement.name}: not in the lock")
        elif not requirement.specifier.contains(version, prereleases=True):
            problems.append(f"{requirement.name}: locked {version}, pyproject asks {requirement.specifier}")
    return problems


def test_the_service_lock_pins_every_dependency_within_its_range():
    assert unsatisfied(asked(), pins("requirements.lock")) == [], "run scripts/lock"


def test_the_dev_lock_pins_the_service_tests_and_tools_and_agrees_with_the_service_lock():
    dev = pins("requirements-dev.lock")
    assert unsatisfied(asked("test", "dev"), dev) == [], "run scripts/lock"
    service = pins("requirements.lock")
    assert {name: dev.get(name) for name in service} == service  # the tests run what production runs
