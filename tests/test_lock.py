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


def test_every_package_the_service_imports_is_in_the_service_lock():
    """The image installs requirements.lock alone: a module the service imports that only the tests' lock holds
    would pass every test here and fail in production at import."""
    import ast
    import sys
    from importlib.metadata import packages_distributions

    distributions = packages_distributions()
    service = pins("requirements.lock")
    missing = set()
    for path in [
        *(ROOT / "mobilise").rglob("*.py"),
        *(ROOT / "workers").rglob("*.py"),
        ROOT / "app.py",
        ROOT / "gunicorn.conf.py",
    ]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top in sys.stdlib_module_names or top in ("mobilise", "workers"):
                    continue
                found = {canonicalize_name(d) for d in distributions.get(top, [])}
                if not found & service.keys():
                    missing.add(f"{top} (imported by {path.relative_to(ROOT)})")
    assert not missing, sorted(missing)
