"""The layout every service follows (CONTRIBUTING.md), checked so it stays that way.

``services/<svc>/{main,settings,tables,models,deps}.py``, optional ``access.py``,
``migrations/``, and domain packages whose modules are all placed in the service's
import-linter ``layers`` contract: views above tasks above service above rules above models.
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("gateway", "registry", "opportunities", "matching", "reporting")
ROOT_REQUIRED = {"main", "settings", "tables", "models", "deps"}
ROOT_ALLOWED = ROOT_REQUIRED | {"__init__", "access"}
ORDER = ("views", "tasks", "service", "rules", "models")


def _contracts() -> list[dict[str, object]]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    contracts: list[dict[str, object]] = data["tool"]["importlinter"]["contracts"]
    return contracts


def _domains(service: str) -> list[Path]:
    base = ROOT / "services" / service
    return sorted(p for p in base.iterdir() if p.is_dir() and (p / "__init__.py").exists())


def _tails(layer: str) -> list[str]:
    parts = layer.replace("|", ":").split(":")
    return [part.strip().strip("()") for part in parts]


def _layers_contract(service: str) -> dict[str, object]:
    found = [
        contract
        for contract in _contracts()
        if contract.get("type") == "layers"
        and any(str(c).startswith(f"services.{service}.") for c in contract.get("containers", []))  # type: ignore[attr-defined]
    ]
    assert len(found) == 1, f"{service} needs exactly one layers contract, found {len(found)}"
    return found[0]


@pytest.mark.parametrize("service", SERVICES)
def test_root_holds_only_the_layout_modules(service: str) -> None:
    base = ROOT / "services" / service
    modules = {p.stem for p in base.glob("*.py")}
    assert modules >= ROOT_REQUIRED, f"missing {sorted(ROOT_REQUIRED - modules)}"
    assert modules <= ROOT_ALLOWED, f"not in the layout: {sorted(modules - ROOT_ALLOWED)}"
    for child in base.iterdir():
        # samples/ holds data files (a register extract to import), no code.
        if child.is_dir() and child.name not in ("migrations", "samples", "__pycache__"):
            assert (child / "__init__.py").exists(), f"{child.name} is no domain package"
            assert not any(child.glob("*/__init__.py")), f"{child.name} nests packages"


@pytest.mark.parametrize("service", SERVICES)
def test_every_domain_module_is_placed_in_the_layers(service: str) -> None:
    contract = _layers_contract(service)
    assert contract.get("exhaustive") is True, "the layers contract must be exhaustive"
    containers = set(contract["containers"])  # type: ignore[call-overload]
    domains = {f"services.{service}.{d.name}" for d in _domains(service)}
    assert containers == domains, f"containers differ from the domains: {containers ^ domains}"
    layers = [_tails(str(layer)) for layer in contract["layers"]]  # type: ignore[attr-defined]
    position = {tail: i for i, tails in enumerate(layers) for tail in tails}
    standard = [name for name in ORDER if name in position]
    assert standard == sorted(standard, key=position.__getitem__), (
        "views > tasks > service > rules > models"
    )
    for domain in _domains(service):
        for module in domain.glob("*.py"):
            if module.stem != "__init__":
                assert module.stem in position, f"{domain.name}/{module.name} is in no layer"


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
    return names


@pytest.mark.parametrize("service", SERVICES)
def test_only_main_imports_views(service: str) -> None:
    base = ROOT / "services" / service
    offenders = []
    for path in base.rglob("*.py"):
        if (path.name == "main.py" and path.parent == base) or "migrations" in path.parts:
            continue
        for name in _imported_modules(path):
            parts = name.split(".")
            if len(parts) >= 4 and parts[:2] == ["services", service] and parts[3] == "views":
                offenders.append(f"{path.relative_to(ROOT)} imports {name}")
    assert not offenders, offenders
