"""Reading the deployment files and the code they must agree with.

Everything here is read from the repository as it is: the services are the folders of
``services/`` that have a ``main.py``, their settings are their pydantic-settings classes, their
routes come from their real app factories, and the Kubernetes objects are rendered from the
kustomizations the way kustomize does for these files (resources, patches, namespace, images).
"""

from __future__ import annotations

import copy
import importlib
import os
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml
from fastapi import FastAPI
from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from shared.kit.settings import ServiceSettings

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
K8S = DEPLOY / "k8s"
SERVICES = sorted(p.parent.name for p in (REPO / "services").glob("*/main.py"))
IMAGE = "sinergi"


# Settings ---------------------------------------------------------------------------------


def settings_class(service: str) -> type[ServiceSettings]:
    """The service's own settings class: every service's extends the kit's."""
    module = importlib.import_module(f"services.{service}.settings")
    classes = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, ServiceSettings)
        and value.__module__ == module.__name__
    ]
    assert len(classes) == 1, f"services/{service}/settings.py should define one settings class"
    return classes[0]


def production_settings(
    cls: type[ServiceSettings], env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> ServiceSettings:
    """The settings a container reads from ``env`` alone, as the image runs them
    (``SINERGI_ENV=production``), once they pass the production checks."""
    for name in list(os.environ):
        if name.startswith((env_prefix(cls), "SINERGI_")):
            monkeypatch.delenv(name)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SINERGI_ENV", "production")  # the image's own ENV
    settings = cls()
    settings.check_production()
    return settings


def env_prefix(cls: type[BaseSettings]) -> str:
    return str(cls.model_config.get("env_prefix") or "").upper()


def setting_env_names(cls: type[BaseSettings]) -> set[str]:
    """The environment variables a settings class reads: prefix + field name, or its alias."""
    prefix = env_prefix(cls)
    names: set[str] = set()
    for name, field in cls.model_fields.items():
        alias = field.validation_alias
        if isinstance(alias, str):
            names.add(alias.upper())
        elif isinstance(alias, AliasChoices):
            names |= {choice.upper() for choice in alias.choices if isinstance(choice, str)}
        else:
            names.add(prefix + name.upper())
    return names


def programme_env_names() -> set[str]:
    """``SINERGI_*`` variables that the code reads straight from the environment."""
    pattern = re.compile(r"""os\.environ(?:\.get\(|\[)\s*["'](SINERGI_[A-Z0-9_]+)["']""")
    names: set[str] = set()
    for path in [*(REPO / "shared").rglob("*.py"), *(REPO / "services").rglob("*.py")]:
        names |= set(pattern.findall(path.read_text()))
    return names


def default_port(service: str) -> int:
    port = settings_class(service).model_fields["port"].default
    assert isinstance(port, int)
    return port


# The Procfile (what `make run` starts) ------------------------------------------------------


def procfile_commands() -> dict[str, list[str]]:
    commands: dict[str, list[str]] = {}
    for line in (REPO / "Procfile").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, command = line.partition(":")
            commands[name.strip()] = shlex.split(command)
    return commands


def option(args: list[str], name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


def uvicorn_target(args: list[str]) -> str:
    """``services.x.main:create_app`` from a uvicorn command line."""
    targets = [a for a in args if a.startswith("services.")]
    assert len(targets) == 1, args
    return targets[0]


# Compose ----------------------------------------------------------------------------------

INTERPOLATION = re.compile(r"\$\{([A-Z0-9_]+)(?:(:?[-?])([^}]*))?\}")


def load_compose() -> dict[str, Any]:
    document = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert isinstance(document, dict)
    return document


def interpolation_variables(text: str) -> dict[str, str | None]:
    """Each ``${VAR}`` in the compose file, with its default (None when it has none)."""
    found: dict[str, str | None] = {}
    for name, operator, rest in INTERPOLATION.findall(text):
        found[name] = rest if operator in (":-", "-") else found.get(name)
    return found


def interpolate(value: str, variables: dict[str, str]) -> str:
    """Compose's own substitution, for the forms the file uses."""

    def replace(match: re.Match[str]) -> str:
        name, operator, rest = match.group(1), match.group(2), match.group(3)
        if name in variables and (variables[name] or operator != ":-"):
            return variables[name]
        if operator in (":-", "-"):
            return rest
        raise AssertionError(f"${{{name}}} has no value and no default")

    return INTERPOLATION.sub(replace, value)


def env_example() -> dict[str, str]:
    values: dict[str, str] = {}
    for line in (DEPLOY / "env.example").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, value = line.partition("=")
            values[name.strip()] = value.strip()
    return values


# Kubernetes -------------------------------------------------------------------------------


def load_documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def object_key(document: dict[str, Any]) -> tuple[str, str]:
    return document["kind"], document["metadata"]["name"]


def _merge(target: Any, patch: Any) -> Any:
    """Strategic merge as kustomize applies these patches: maps merge, lists are replaced
    (none of our patches touches a list that kustomize would merge by key)."""
    if isinstance(target, dict) and isinstance(patch, dict):
        merged = dict(target)
        for key, value in patch.items():
            merged[key] = _merge(target.get(key), value) if key in target else value
        return merged
    return copy.deepcopy(patch)


def kustomization(directory: Path) -> dict[str, Any]:
    document = yaml.safe_load((directory / "kustomization.yaml").read_text())
    assert isinstance(document, dict)
    return document


def render(directory: Path) -> list[dict[str, Any]]:
    """The objects ``kubectl kustomize <directory>`` builds from these files."""
    spec = kustomization(directory)
    objects: list[dict[str, Any]] = []
    for resource in spec.get("resources", []):
        path = (directory / resource).resolve()
        assert path.exists(), f"{directory}: resource {resource} does not exist"
        objects += render(path) if path.is_dir() else load_documents(path)
    keys = [object_key(o) for o in objects]
    assert len(keys) == len(set(keys)), f"{directory}: an object is defined twice"
    for patch in spec.get("patches", []):
        patch_path = directory / patch["path"]
        assert patch_path.exists(), f"{directory}: patch {patch['path']} does not exist"
        for document in load_documents(patch_path):
            key = object_key(document)
            assert key in keys, f"{patch_path} patches {key}, which the base does not define"
            index = keys.index(key)
            objects[index] = _merge(objects[index], document)
    namespace = spec.get("namespace")
    for document in objects:
        if namespace and document["kind"] != "Namespace":
            document["metadata"] = {**document["metadata"], "namespace": namespace}
    for image in spec.get("images", []):
        for container in all_containers(objects):
            if container["image"].split(":")[0] == image["name"]:
                container["image"] = f"{image.get('newName', image['name'])}:{image['newTag']}"
    return objects


def all_containers(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    containers: list[dict[str, Any]] = []
    for document in objects:
        if document["kind"] == "Deployment":
            pod = document["spec"]["template"]["spec"]
            containers += pod.get("initContainers", []) + pod["containers"]
    return containers


def find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    for document in objects:
        if object_key(document) == (kind, name):
            return document
    raise AssertionError(f"no {kind} {name}")


def route_paths(app: FastAPI) -> set[str]:
    """The app's own paths, as its OpenAPI document lists them (for the gateway, its own
    routes; the merged document of all services is served elsewhere)."""
    return set(app.openapi()["paths"])
