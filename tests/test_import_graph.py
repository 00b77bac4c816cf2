"""The domains stack one way: a package imports only the packages below it in ORDER, and the shared modules.

So no two domains import each other, and reading one needs nothing above it. The README's map of the code
describes each layer; this is where the order is written.
"""

import ast
import importlib
import pkgutil
from pathlib import Path

import mobilise

# Bottom to top.
ORDER = (
    "audit",
    "offices",
    "auth",
    "supporters",
    "cases",
    "sequences",
    "counts",
    "outbound",
    "sending",
    "tracking",
    "deliverability",
    "dashboard",
    "api",
)
# Modules any domain may use; they import no domain themselves.
SHARED = (
    "extensions",
    "clock",
    "errors",
    "validation",
    "sql",
    "jobs",
    "config",
    "security",
    "languages",
    "tokens",
    "networks",
    "guard",
    "logs",
)

ROOT = Path(mobilise.__file__).parent


def modules(package: str) -> list[str]:
    """Every module of one domain package, imported (so each is known to load on its own)."""
    found = [f"mobilise.{package}"]
    found += [info.name for info in pkgutil.walk_packages([str(ROOT / package)], prefix=f"mobilise.{package}.")]
    for name in found:
        importlib.import_module(name)
    return found


def is_module(name: str) -> bool:
    path = ROOT.parent.joinpath(*name.split("."))
    return path.with_suffix(".py").exists() or (path / "__init__.py").exists()


def imported(module_name: str) -> set[str]:
    """The mobilise modules a module imports."""
    module = importlib.import_module(module_name)
    package = module_name if Path(module.__file__).name == "__init__.py" else module_name.rpartition(".")[0]
    return imports_in(Path(module.__file__).read_text(), package)


def imports_in(source: str, package: str) -> set[str]:
    """The mobilise modules this source imports, at the top or inside a function, relatively or not."""
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join([*parts[: len(parts) - node.level + 1], *filter(None, [base])])
            for alias in node.names:  # `from .. import models` imports the module mobilise.models
                names.add(f"{base}.{alias.name}" if is_module(f"{base}.{alias.name}") else base)
    return {name for name in names if name == "mobilise" or name.startswith("mobilise.")}


def layer(module_name: str) -> str:
    """The domain or shared module a module belongs to; "mobilise" for the package itself."""
    parts = module_name.split(".")
    return parts[1] if len(parts) > 1 else "mobilise"


def climbing(package: str) -> list[str]:
    """Each import of this domain's modules that reaches anything but a lower domain or a shared module."""
    allowed = {*ORDER[: ORDER.index(package) + 1], *SHARED}
    return [
        f"{name} imports {target}"
        for name in modules(package)
        for target in sorted(imported(name))
        if layer(target) not in allowed
    ]


def test_every_package_has_its_place_in_the_order():
    packages = {path.parent.name for path in ROOT.glob("*/__init__.py")}
    assert packages == set(ORDER), f"place each package in ORDER: {sorted(packages ^ set(ORDER))}"


def test_each_domain_imports_only_the_domains_below_it():
    wrong = [line for package in ORDER for line in climbing(package)]
    assert not wrong, "imports that climb the stack " + " → ".join(ORDER) + ":\n" + "\n".join(wrong)


def test_the_shared_modules_import_no_domain():
    wrong = [
        f"mobilise.{name} imports {target}"
        for name in SHARED
        for target in sorted(imported(f"mobilise.{name}"))
        if layer(target) not in SHARED
    ]
    assert not wrong, "\n".join(wrong)


def test_the_reader_sees_every_way_of_importing():
    source = """
from flask import Flask
from ..cases.models import Case
from .. import models
from . import service
import mobilise.jobs
from mobilise.tracking import events


def later():
    from ..sending.render import render
"""
    assert imports_in(source, "mobilise.sequences") == {
        "mobilise.cases.models",
        "mobilise.models",
        "mobilise.sequences.service",
        "mobilise.jobs",
        "mobilise.tracking.events",
        "mobilise.sending.render",
    }
