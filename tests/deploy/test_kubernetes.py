"""deploy/k8s (kustomize base and production overlay) against the code: every variable a
setting, ports and probes those of the apps, every service its CloudNativePG database and its
migration, resources and autoscalers where the issue asks for them, Secrets that exist."""

from __future__ import annotations

import ipaddress
import re
import shutil
import subprocess
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml

from services.gateway.settings import GatewaySettings
from tests.deploy.support import (
    DEPLOY,
    IMAGE,
    K8S,
    REPO,
    SERVICES,
    all_containers,
    default_port,
    env_prefix,
    find,
    kustomization,
    load_compose,
    object_key,
    option,
    production_settings,
    programme_env_names,
    render,
    setting_env_names,
    settings_class,
    uvicorn_target,
)

BASE = render(K8S / "base")
PRODUCTION = render(K8S / "overlays" / "production")
RENDERS = {"base": BASE, "production": PRODUCTION}
AUTOSCALED = ("gateway", "registry", "matching")

# Every Secret the manifests read that the CloudNativePG operator does not create: an operator
# creates them (deploy/README.md shows how), with a value of this shape under each key.
OPERATOR_SECRETS: dict[str, dict[str, str]] = {
    "sinergi-signing-key": {
        "signing-key.pem": "-----BEGIN PRIVATE KEY-----",
        "verification-key-files": "/run/secrets/sinergi/previous-public.pem",
    },
    "sinergi-clients": {
        "admin-client-id": "sinergi-admin",
        "admin-client-secret": "3f1c0a9e5b7d2c4e6f8a0b1c2d3e4f5a",
        "matching-client-secret": "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d",
        "reporting-client-secret": "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d",
        "registry-client-secret": "7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b",
        "service-clients": (
            '{"matching-service": "9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d", '
            '"reporting-service": "1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d", '
            '"registry-service": "7e6d5c4b3a2f1e0d9c8b7a6f5e4d3c2b"}'
        ),
    },
    "sinergi-reporting": {"pseudonym-key": "5e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d"},
    "sinergi-backup-credentials": {"ACCESS_KEY_ID": "AKIA...", "ACCESS_SECRET_KEY": "..."},
}


def cnpg_app_secrets(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The Secret ``<cluster>-app`` the operator creates for each Cluster, and what it opens."""
    return {
        f"{o['metadata']['name']}-app": o["spec"]["bootstrap"]["initdb"]
        for o in objects
        if o["kind"] == "Cluster"
    }


def pod_spec(objects: list[dict[str, Any]], service: str) -> dict[str, Any]:
    spec: dict[str, Any] = find(objects, "Deployment", service)["spec"]["template"]["spec"]
    return spec


def main_container(objects: list[dict[str, Any]], service: str) -> dict[str, Any]:
    containers = pod_spec(objects, service)["containers"]
    assert [c["name"] for c in containers] == [service]
    container: dict[str, Any] = containers[0]
    return container


def sample_env(container: dict[str, Any], objects: list[dict[str, Any]]) -> dict[str, str]:
    """The container's environment as the kubelet would give it, Secrets filled with samples."""
    clusters = cnpg_app_secrets(objects)
    env: dict[str, str] = {}
    for variable in container.get("env", []):
        if "value" in variable:
            env[variable["name"]] = str(variable["value"])
            continue
        ref = variable["valueFrom"]["secretKeyRef"]
        if ref["name"] in clusters:
            assert ref["key"] == "uri"
            database = clusters[ref["name"]]["database"]
            env[variable["name"]] = (
                f"postgresql://{database}:pw@{ref['name'].removesuffix('-app')}-rw:5432/{database}"
            )
        elif ref["key"] != "verification-key-files":  # optional: set during a rotation only
            env[variable["name"]] = OPERATOR_SECRETS[ref["name"]][ref["key"]]
    return env


def test_every_manifest_parses_as_kubernetes_objects() -> None:
    files = sorted(K8S.rglob("*.yaml"))
    assert len(files) >= 10
    for path in files:
        for document in yaml.safe_load_all(path.read_text()):
            assert isinstance(document, dict), path
            assert document.get("apiVersion") and document.get("kind"), path
            if document["kind"] != "Kustomization":
                assert document["metadata"]["name"], path


@pytest.mark.parametrize("overlay", ["base", "overlays/production"])
def test_kustomizations_list_existing_files_and_patch_existing_objects(overlay: str) -> None:
    directory = K8S / overlay
    spec = kustomization(directory)
    listed = {(directory / r).resolve() for r in spec.get("resources", [])}
    listed |= {(directory / p["path"]).resolve() for p in spec.get("patches", [])}
    for path in listed:
        assert path.exists(), path
    # Every manifest in the folder is used: none is left behind, silently not deployed.
    on_disk = {p.resolve() for p in directory.rglob("*.yaml") if p.name != "kustomization.yaml"}
    assert on_disk <= listed, sorted(str(p) for p in on_disk - listed)
    objects = render(directory)  # asserts each patch names an object the base defines
    assert all(
        o["metadata"].get("namespace") == "sinergi" for o in objects if o["kind"] != "Namespace"
    )


def test_kubectl_kustomize_builds_the_same_objects() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed; the Python rendering above still checked the files")
    for name, directory in (
        ("base", K8S / "base"),
        ("production", K8S / "overlays" / "production"),
    ):
        output = subprocess.run(
            [kubectl, "kustomize", str(directory)],
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout
        built = [d for d in yaml.safe_load_all(output) if d]
        ours = RENDERS[name]
        assert sorted(object_key(d) for d in built) == sorted(object_key(d) for d in ours)
        for document in built:
            if document["kind"] in ("Deployment", "Cluster", "HorizontalPodAutoscaler", "Ingress"):
                assert document["spec"] == find(ours, *object_key(document))["spec"], (
                    f"{name}: {object_key(document)} differs from what the tests check"
                )


@pytest.mark.parametrize("render_name", ["base", "production"])
@pytest.mark.parametrize("service", SERVICES)
def test_every_service_runs_its_command_on_its_port(service: str, render_name: str) -> None:
    objects = RENDERS[render_name]
    container = main_container(objects, service)
    command = container["command"]
    compose = load_compose()["services"][service]["command"]
    # Behind the ingress alone, the gateway trusts its forwarded headers (test below).
    assert without_forwarded_trust(command) == compose, "Kubernetes and compose run it the same way"
    assert uvicorn_target(command) == f"services.{service}.main:create_app"
    port = default_port(service)
    assert option(command, "--port") == str(port)
    assert container["ports"] == [{"name": "http", "containerPort": port, "protocol": "TCP"}]
    service_object = find(objects, "Service", service)
    assert service_object["spec"]["ports"] == [
        {"name": "http", "port": port, "targetPort": "http", "protocol": "TCP"}
    ]
    labels = find(objects, "Deployment", service)["spec"]["template"]["metadata"]["labels"]
    assert service_object["spec"]["selector"].items() <= labels.items()
    # The image kustomize pins: the base's local build, or the overlay's registry and tag.
    directory = K8S / "base" if render_name == "base" else K8S / "overlays" / "production"
    (pin,) = [i for i in kustomization(directory)["images"] if i["name"] == IMAGE]
    assert container["image"] == f"{pin['newName']}:{pin['newTag']}"
    assert pin["newTag"] != "latest"


@pytest.mark.parametrize("service", SERVICES)
def test_every_variable_is_a_setting_and_passes_the_production_checks(
    service: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    cls = settings_class(service)
    known = setting_env_names(cls) | programme_env_names()
    for objects in RENDERS.values():
        for container in pod_spec(objects, service)["initContainers"] + [
            main_container(objects, service)
        ]:
            names = [v["name"] for v in container.get("env", [])]
            assert len(names) == len(set(names)), f"{service}: a variable is set twice"
            unknown = sorted(set(names) - known)
            assert unknown == [], f"{service}: variables no setting reads: {unknown}"

    env = sample_env(main_container(PRODUCTION, service), PRODUCTION)
    settings = production_settings(cls, env, monkeypatch)
    assert settings.effective_database_url().startswith("postgresql://")


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_its_database_and_migrates_before_it_starts(service: str) -> None:
    for objects in RENDERS.values():
        cluster = find(objects, "Cluster", f"{service}-db")
        assert cluster["apiVersion"] == "postgresql.cnpg.io/v1"
        assert cluster["spec"]["bootstrap"]["initdb"] == {"database": service, "owner": service}
        url_variable = env_prefix(settings_class(service)) + "DATABASE_URL"
        database_ref = {"secretKeyRef": {"name": f"{service}-db-app", "key": "uri"}}
        container = main_container(objects, service)
        assert {"name": url_variable, "valueFrom": database_ref} in container["env"]

        (migrate,) = pod_spec(objects, service)["initContainers"]
        assert migrate["image"] == container["image"]
        assert migrate["command"] == [
            "alembic",
            "-c",
            f"services/{service}/alembic.ini",
            "upgrade",
            "head",
        ]
        assert (REPO / "services" / service / "alembic.ini").exists()
        # The migration opens the same database with the same credentials, and nothing else.
        assert migrate["env"] == [{"name": url_variable, "valueFrom": database_ref}]
    production = find(PRODUCTION, "Cluster", f"{service}-db")["spec"]
    assert production["instances"] >= 3
    assert production["plugins"][0]["parameters"]["serverName"] == f"{service}-db"
    backup = find(PRODUCTION, "ScheduledBackup", f"{service}-db-daily")["spec"]
    assert backup["cluster"] == {"name": f"{service}-db"}


def quantity(value: str | int) -> float:
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    text = str(value)
    for suffix, factor in units.items():
        if text.endswith(suffix):
            return float(text.removesuffix(suffix)) * factor
    return float(text)


@pytest.mark.parametrize("render_name", ["base", "production"])
def test_every_container_has_requests_and_limits_and_runs_unprivileged(render_name: str) -> None:
    objects = RENDERS[render_name]
    dockerfile = (DEPLOY / "Dockerfile").read_text()
    match = re.search(r"^USER (\d+):(\d+)$", dockerfile, re.M)
    assert match is not None
    for container in all_containers(objects):
        resources = container["resources"]
        for resource in ("cpu", "memory"):
            request = quantity(resources["requests"][resource])
            limit = quantity(resources["limits"][resource])
            assert 0 < request <= limit, (container["name"], resource)
        security = container["securityContext"]
        assert security["allowPrivilegeEscalation"] is False
        assert security["readOnlyRootFilesystem"] is True
        assert security["capabilities"] == {"drop": ["ALL"]}
    for service in SERVICES:
        pod = pod_spec(objects, service)
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["runAsUser"] == int(match.group(1))
        assert pod["automountServiceAccountToken"] is False
    for document in objects:
        if document["kind"] == "Cluster":
            assert document["spec"]["resources"]["requests"]


def test_gateway_registry_and_matching_autoscale() -> None:
    for objects in RENDERS.values():
        autoscalers = {
            o["metadata"]["name"]: o for o in objects if o["kind"] == "HorizontalPodAutoscaler"
        }
        assert set(AUTOSCALED) <= set(autoscalers)
        for name, autoscaler in autoscalers.items():
            target = autoscaler["spec"]["scaleTargetRef"]
            assert (target["kind"], target["name"]) == ("Deployment", name)
            find(objects, "Deployment", name)
            assert 1 <= autoscaler["spec"]["minReplicas"] <= autoscaler["spec"]["maxReplicas"]
            # Utilisation is a share of the request: a container without one never scales.
            assert main_container(objects, name)["resources"]["requests"]["cpu"]


def test_the_ingress_reaches_the_gateway_alone() -> None:
    for objects in RENDERS.values():
        ingresses = [o for o in objects if o["kind"] == "Ingress"]
        assert [o["metadata"]["name"] for o in ingresses] == ["gateway"]
        backends = [
            path["backend"]["service"]
            for rule in ingresses[0]["spec"]["rules"]
            for path in rule["http"]["paths"]
        ]
        assert backends == [{"name": "gateway", "port": {"name": "http"}}]
        port_names = [p["name"] for p in find(objects, "Service", "gateway")["spec"]["ports"]]
        assert "http" in port_names
        services = [o["metadata"]["name"] for o in objects if o["kind"] == "Service"]
        for name in services:
            assert find(objects, "Service", name)["spec"].get("type", "ClusterIP") == "ClusterIP"
    assert find(PRODUCTION, "Ingress", "gateway")["spec"]["tls"]


@pytest.mark.parametrize("render_name", ["base", "production"])
def test_urls_name_the_services_that_answer_there(render_name: str) -> None:
    objects = RENDERS[render_name]
    ports = {
        o["metadata"]["name"]: o["spec"]["ports"][0]["port"]
        for o in objects
        if o["kind"] == "Service"
    }
    checked = 0
    for service in SERVICES:
        for name, value in sample_env(main_container(objects, service), objects).items():
            if re.match(r"^(https?|redis)://", value):
                parts = urlsplit(value)
                assert ports.get(str(parts.hostname)) == parts.port, f"{service} {name}: {value}"
                checked += 1
    assert checked >= 10


@pytest.mark.parametrize("render_name", ["base", "production"])
def test_every_secret_read_exists_or_is_documented(render_name: str) -> None:
    objects = RENDERS[render_name]
    clusters = cnpg_app_secrets(objects)
    readme = (DEPLOY / "README.md").read_text()
    used: set[tuple[str, str | None]] = set()
    for container in all_containers(objects):
        for variable in container.get("env", []):
            ref = variable.get("valueFrom", {}).get("secretKeyRef")
            if ref:
                used.add((ref["name"], ref["key"]))
    for document in objects:
        if document["kind"] == "Deployment":
            for volume in document["spec"]["template"]["spec"].get("volumes", []):
                if "secret" in volume:
                    used.add((volume["secret"]["secretName"], None))
        if document["kind"] == "ObjectStore":
            credentials = document["spec"]["configuration"]["s3Credentials"]
            used |= {(ref["name"], ref["key"]) for ref in credentials.values()}
    assert used
    for name, key in used:
        if name in clusters:
            assert key == "uri"
            continue
        assert name in OPERATOR_SECRETS, f"{name} is neither made by CloudNativePG nor documented"
        assert name in readme, f"deploy/README.md does not say how to create {name}"
        if key is not None:
            assert key in OPERATOR_SECRETS[name]
            assert key in readme, f"deploy/README.md does not name {name}'s key {key}"


def test_network_policies_name_ports_the_pods_have() -> None:
    policies = [o for o in BASE if o["kind"] == "NetworkPolicy"]
    assert policies
    declared = {
        port["name"]
        for document in BASE
        if document["kind"] == "Deployment"
        for container in document["spec"]["template"]["spec"]["containers"]
        for port in container.get("ports", [])
    }
    for policy in policies:
        for rule in policy["spec"]["ingress"]:
            for port in rule["ports"]:
                assert port["port"] in declared, policy["metadata"]["name"]


FORWARDED_TRUST = ["--proxy-headers", "--forwarded-allow-ips", "$(GATEWAY_TRUSTED_PROXIES)"]


def without_forwarded_trust(command: list[str]) -> list[str]:
    text = " ".join(command).replace(" " + " ".join(FORWARDED_TRUST), "")
    return text.split(" ")


@pytest.mark.parametrize("render_name", ["base", "production"])
def test_uvicorn_trusts_forwarded_headers_in_the_gateway_alone(render_name: str) -> None:
    objects = RENDERS[render_name]
    gateway = main_container(objects, "gateway")
    command = gateway["command"]
    start = command.index("--proxy-headers")
    assert command[start : start + 3] == FORWARDED_TRUST
    # Kubernetes expands $(NAME) from the container's own environment.
    assert "GATEWAY_TRUSTED_PROXIES" in {e["name"] for e in gateway["env"]}
    for service in SERVICES:
        if service != "gateway":
            assert "--no-proxy-headers" in main_container(objects, service)["command"], service


@pytest.mark.parametrize("render_name", ["base", "production"])
def test_gateway_trusts_forwarded_for_from_the_ingress_only(render_name: str) -> None:
    # Behind the ingress every peer is the ingress: without trusted proxies the login brake
    # would count every caller as one address (issue 13, item 4).
    objects = BASE if render_name == "base" else PRODUCTION
    env = sample_env(main_container(objects, "gateway"), objects)
    trusted = GatewaySettings(trusted_proxies=env["GATEWAY_TRUSTED_PROXIES"]).trusted_proxies
    assert trusted and all(ipaddress.ip_network(n).is_private for n in trusted)
    policy = next(o for o in objects if o["metadata"]["name"] == "gateway-from-ingress")
    sources = policy["spec"]["ingress"][0]["from"]
    assert sources == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "ingress-nginx"}}}
    ]
