"""The rendered Kubernetes objects (base and production overlay) against Kubernetes' own JSON
schemas, offline: the ``kubernetes-validate`` package ships them. Strict, so a misspelt field
fails instead of being dropped by the API server. CloudNativePG's objects (``Cluster``,
``ScheduledBackup``) and the Barman Cloud plugin's ``ObjectStore`` are checked against the
openAPIV3Schema of their CustomResourceDefinitions, kept in ``tests/deploy/crds/`` (from
cloudnative-pg v1.30.0 and plugin-barman-cloud v0.14.0; replace them when the overlay moves to
a newer operator)."""

from __future__ import annotations

import copy
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from tests.deploy.support import K8S, render

CRDS = Path(__file__).parent / "crds"
# The oldest Kubernetes minor version the manifests promise to run on.
KUBERNETES_VERSION = "1.30"
RENDERS = {"base": K8S / "base", "production": K8S / "overlays" / "production"}


@cache
def crd_schemas() -> dict[tuple[str, str], dict[str, Any]]:
    """(apiVersion, kind) -> the served version's openAPIV3Schema, from the kept CRDs."""
    schemas: dict[tuple[str, str], dict[str, Any]] = {}
    for path in sorted(CRDS.glob("*.yaml")):
        crd = yaml.safe_load(path.read_text())
        assert crd["kind"] == "CustomResourceDefinition", path.name
        group, kind = crd["spec"]["group"], crd["spec"]["names"]["kind"]
        for version in crd["spec"]["versions"]:
            if version.get("served"):
                schemas[(f"{group}/{version['name']}", kind)] = version["schema"]["openAPIV3Schema"]
    return schemas


def objects_of(render_name: str) -> list[dict[str, Any]]:
    return render(RENDERS[render_name])


def strict(schema: Any) -> Any:
    """A CRD schema where an object with ``properties`` refuses other keys (the API server
    prunes unknown fields silently; here they fail), as kubernetes-validate's strict mode
    does for the built-in kinds. ``x-kubernetes-preserve-unknown-fields`` stays open."""
    if isinstance(schema, list):
        return [strict(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: strict(value) for key, value in schema.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    return out


def custom(obj: dict[str, Any]) -> bool:
    return "." in obj["apiVersion"].split("/")[0] and not obj["apiVersion"].startswith(
        ("networking.k8s.io", "policy", "autoscaling", "apps", "batch", "rbac.authorization")
    )


@pytest.mark.parametrize("render_name", list(RENDERS))
def test_built_in_objects_validate_against_kubernetes_schemas(render_name: str) -> None:
    checked = 0
    for obj in objects_of(render_name):
        if custom(obj):
            continue
        try:
            kubernetes_validate.validate(copy.deepcopy(obj), KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{obj['kind']}/{obj['metadata']['name']}: {error.message} at {error.path}")
        checked += 1
    assert checked >= 10


@pytest.mark.parametrize("render_name", list(RENDERS))
def test_cloudnativepg_objects_validate_against_their_crds(render_name: str) -> None:
    schemas = crd_schemas()
    objects = [o for o in objects_of(render_name) if custom(o)]
    assert any(o["kind"] == "Cluster" for o in objects)
    for obj in objects:
        key = (obj["apiVersion"], obj["kind"])
        assert key in schemas, f"no CRD kept in tests/deploy/crds for {key}"
        jsonschema.validate(obj, strict(schemas[key]))
        assert obj["metadata"]["name"]


def test_the_validation_catches_what_it_should() -> None:
    """Mistakes the schemas must refuse, so the two tests above are not vacuous."""
    deployment = next(o for o in objects_of("base") if o["kind"] == "Deployment")
    misspelt = copy.deepcopy(deployment)
    misspelt["spec"]["template"]["spec"]["containers"][0]["imagePullPolice"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(misspelt, KUBERNETES_VERSION, strict=True)
    wrong_type = copy.deepcopy(deployment)
    wrong_type["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(wrong_type, KUBERNETES_VERSION, strict=True)

    cluster = next(o for o in objects_of("base") if o["kind"] == "Cluster")
    schema = strict(crd_schemas()[(cluster["apiVersion"], "Cluster")])
    body = copy.deepcopy(cluster)
    jsonschema.validate(body, schema)
    bad = copy.deepcopy(body)
    bad["spec"]["instance"] = 3
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
    bad = copy.deepcopy(body)
    bad["spec"]["instances"] = "three"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
