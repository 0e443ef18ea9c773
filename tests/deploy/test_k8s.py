"""deploy/k8s and deploy/docker: every overlay and component combination builds, validates
strictly offline and keeps the pods hardened; the Dockerfile keeps the workspace build working.

The kustomize builds need the kustomize binary; `devstack.k8s_check` installs the pinned release
with `go install` into `~/.cache/kamqor/bin` the first time. The tests that need it are skipped
(with the reason) only when that is impossible here.
"""

from __future__ import annotations

import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack import k8s_check
from devstack.k8s_check import Build, KustomizeUnavailable, Rendered, Report

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"
DOCKERIGNORE = ROOT / "deploy" / "docker" / "Dockerfile.dockerignore"
SERVICES = ("intake", "plans", "registry", "shelter", "notify")

Obj = dict[str, Any]


@pytest.fixture(scope="module")
def kustomize() -> Path:
    try:
        return k8s_check.ensure_kustomize()
    except KustomizeUnavailable as exc:
        pytest.skip(f"kustomize cannot be installed here: {exc}")


@pytest.fixture(scope="module")
def report(kustomize: Path) -> Report:
    return k8s_check.check(K8S, kustomize=kustomize)


def _workloads(rendered: Rendered) -> Iterator[tuple[Obj, Obj]]:
    for obj in rendered.objects:
        spec = k8s_check.pod_spec(obj)
        if spec is not None:
            yield obj, spec


def _one(rendered: Rendered, kind: str, name: str) -> Obj:
    found = [
        o for o in rendered.objects if o["kind"] == kind and o["metadata"]["name"].startswith(name)
    ]
    assert len(found) == 1, f"{rendered.build.label}: {len(found)} {kind} named {name}*"
    return found[0]


def _container(rendered: Rendered, deployment: str) -> Obj:
    containers: list[Obj] = _one(rendered, "Deployment", deployment)["spec"]["template"]["spec"][
        "containers"
    ]
    assert len(containers) == 1
    return containers[0]


def _config(rendered: Rendered) -> dict[str, str]:
    data: dict[str, str] = _one(rendered, "ConfigMap", "kamqor-config-")["data"]
    return data


def _by_overlay(report: Report, overlay: str) -> list[Rendered]:
    return [r for r in report.rendered if r.build.overlay == overlay]


# --- the check itself ------------------------------------------------------------------------


def test_every_overlay_and_component_combination_builds_validates_and_is_hardened(
    report: Report,
) -> None:
    assert report.failures == [], "\n".join(report.failures)
    assert {r.build for r in report.rendered} == {
        Build("dev"),
        Build("dev", ("network-policies",)),
        Build("dev", ("otel-collector",)),
        Build("dev", ("network-policies", "otel-collector")),
        # production lists network-policies itself
        Build("production"),
        Build("production", ("otel-collector",)),
    }


def test_the_command_fails_with_one_line_per_problem(
    kustomize: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = tmp_path / "k8s"
    shutil.copytree(K8S, tree)
    shutil.rmtree(tree / "overlays" / "production")
    shutil.rmtree(tree / "components")
    intake = tree / "base" / "intake.yaml"
    intake.write_text(
        intake.read_text()
        .replace("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false")
        .replace("failureThreshold: 60", "failureTreshold: 60")
    )
    assert k8s_check.main([str(tree)]) == 1
    fails = [line for line in capsys.readouterr().out.splitlines() if line.startswith("FAIL ")]
    assert fails == [
        "FAIL overlays/dev: Deployment/kamqor-dev/intake: schema: "
        "spec.template.spec.containers.0.startupProbe: Additional properties are not allowed "
        "('failureTreshold' was unexpected)",
        "FAIL overlays/dev: Deployment/kamqor-dev/intake: container intake: "
        "readOnlyRootFilesystem is not true",
    ]


def test_hardening_rules_name_each_gap() -> None:
    bare: Obj = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "x"},
        "spec": {"template": {"spec": {"containers": [{"name": "x", "image": "x"}]}}},
    }
    assert k8s_check.hardening_failures(bare) == [
        "automountServiceAccountToken is not false",
        "terminationGracePeriodSeconds is not set",
        "container x: runAsNonRoot is not true",
        "container x: readOnlyRootFilesystem is not true",
        "container x: allowPrivilegeEscalation is not false",
        "container x: capabilities do not drop ALL",
        "container x: seccompProfile is not RuntimeDefault",
        "container x: resources.requests lacks cpu, memory",
        "container x: resources.limits lacks cpu, memory",
        "container x: image x has no pinned tag or digest",
    ]


# --- properties of the rendered output -------------------------------------------------------


def test_every_container_is_hardened(report: Report) -> None:
    for rendered in report.rendered:
        for obj, spec in _workloads(rendered):
            where = f"{rendered.build.label}: {obj['metadata']['name']}"
            pod_sc = spec["securityContext"]
            assert pod_sc["runAsNonRoot"] is True, where
            assert pod_sc["seccompProfile"] == {"type": "RuntimeDefault"}, where
            assert spec["automountServiceAccountToken"] is False, where
            assert 0 < spec["terminationGracePeriodSeconds"] <= 60, where
            tmp_volumes = {v["name"] for v in spec["volumes"] if "emptyDir" in v}
            for container in spec["containers"]:
                sc = container["securityContext"]
                assert sc["runAsNonRoot"] is True, where
                assert sc["readOnlyRootFilesystem"] is True, where
                assert sc["allowPrivilegeEscalation"] is False, where
                assert sc["capabilities"] == {"drop": ["ALL"]}, where
                assert sc["seccompProfile"] == {"type": "RuntimeDefault"}, where
                for section in ("requests", "limits"):
                    assert set(container["resources"][section]) == {"cpu", "memory"}, where
                tmp = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
                assert len(tmp) == 1 and tmp[0]["name"] in tmp_volumes, where
                if obj["kind"] != "Job":  # a migrate Job runs to completion: no probes
                    assert container["livenessProbe"] and container["readinessProbe"], where


def test_every_deployable_has_its_own_service_account_without_a_token(report: Report) -> None:
    for rendered in report.rendered:
        for name in (*SERVICES, "gateway"):
            account = _one(rendered, "ServiceAccount", name)
            assert account["automountServiceAccountToken"] is False
            pod = _one(rendered, "Deployment", name)["spec"]["template"]
            assert pod["spec"]["serviceAccountName"] == name
            assert pod["metadata"]["labels"]["app.kubernetes.io/part-of"] == "kamqor"
            assert _one(rendered, "Service", name)["spec"]["selector"] == {
                "app.kubernetes.io/name": name
            }


def test_services_use_grpc_probes_and_their_own_database_secret(report: Report) -> None:
    for rendered in report.rendered:
        for name in SERVICES:
            container = _container(rendered, name)
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                assert container[probe]["grpc"] == {"port": 50051}, (name, probe)
            env = {e["name"]: e for e in container["env"]}
            assert env["KAMQOR_GRPC_LISTEN"]["value"] == "0.0.0.0:50051"
            assert env["KAMQOR_DATABASE_URL"]["valueFrom"] == {
                "secretKeyRef": {"name": f"kamqor-{name}-db", "key": "url"}
            }
            config_ref = container["envFrom"][0]["configMapRef"]["name"]
            assert config_ref == _one(rendered, "ConfigMap", "kamqor-config-")["metadata"]["name"]
        # Secrets are the platform's: the manifests never carry one.
        assert not [o for o in rendered.objects if o["kind"] == "Secret"]


def test_gateway_uses_http_probes_reaches_services_and_has_a_disruption_budget(
    report: Report,
) -> None:
    for rendered in report.rendered:
        container = _container(rendered, "gateway")
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert env["KAMQOR_LISTEN_HOST"] == "0.0.0.0"
        for name in SERVICES:
            assert env[f"KAMQOR_{name.upper()}_ADDR"] == f"{name}:50051"
        pdb = _one(rendered, "PodDisruptionBudget", "gateway")
        assert pdb["spec"]["selector"]["matchLabels"] == {"app.kubernetes.io/name": "gateway"}


def test_shared_config_names_issuer_nats_and_stream_replicas(report: Report) -> None:
    for rendered in report.rendered:
        config = _config(rendered)
        assert config["KAMQOR_NATS_URL"].startswith("nats://")
        assert config["KAMQOR_KEYCLOAK_ISSUER"].endswith("/realms/kamqor")
    for rendered in _by_overlay(report, "production"):
        config = _config(rendered)
        assert config["KAMQOR_STREAM_REPLICAS"] == "3"
        assert config["KAMQOR_ENVIRONMENT"] == "production"


def test_production_runs_two_or_more_of_everything_behind_network_policies(
    report: Report,
) -> None:
    for rendered in _by_overlay(report, "production"):
        for name in SERVICES:
            assert _one(rendered, "Deployment", name)["spec"]["replicas"] >= 2
            assert _one(rendered, "PodDisruptionBudget", name)
        hpa = _one(rendered, "HorizontalPodAutoscaler", "gateway")
        assert hpa["spec"]["scaleTargetRef"]["name"] == "gateway"
        assert hpa["spec"]["minReplicas"] >= 2
        # The autoscaler owns the gateway's replica count.
        assert "replicas" not in _one(rendered, "Deployment", "gateway")["spec"]
        deny = _one(rendered, "NetworkPolicy", "default-deny-all")
        assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        namespace = _one(rendered, "Namespace", "kamqor")
        assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == (
            "restricted"
        )
        for obj in rendered.objects:
            if obj["kind"] != "Namespace":
                assert obj["metadata"]["namespace"] == "kamqor", k8s_check.object_name(obj)


def test_network_policies_open_only_the_paths_kamqor_uses(report: Report) -> None:
    rendered = next(r for r in report.rendered if r.build == Build("dev", ("network-policies",)))
    services = _one(rendered, "NetworkPolicy", "services")["spec"]
    assert services["ingress"] == [
        {
            "from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}}}],
            "ports": [{"protocol": "TCP", "port": 50051}],
        }
    ]
    egress_ports = sorted(p["port"] for rule in services["egress"] for p in rule["ports"])
    assert egress_ports == [4222, 4317, 5432, 8080, 8443]
    dns = _one(rendered, "NetworkPolicy", "allow-dns-egress")["spec"]
    assert {p["port"] for rule in dns["egress"] for p in rule["ports"]} == {53}


def test_otel_component_adds_a_collector_and_points_every_deployable_at_it(
    report: Report,
) -> None:
    with_otel = [r for r in report.rendered if "otel-collector" in r.build.components]
    without = [r for r in report.rendered if "otel-collector" not in r.build.components]
    assert with_otel and without
    for rendered in with_otel:
        assert _config(rendered)["KAMQOR_OTEL_EXPORTER_ENDPOINT"] == "http://otel-collector:4317"
        assert _one(rendered, "Deployment", "otel-collector")
        assert _one(rendered, "Service", "otel-collector")
    for rendered in without:
        assert "KAMQOR_OTEL_EXPORTER_ENDPOINT" not in _config(rendered)


# --- the image -------------------------------------------------------------------------------


def test_dockerfile_copies_every_workspace_members_manifest_before_the_dependency_layer() -> None:
    text = DOCKERFILE.read_text()
    root = tomllib.loads((ROOT / "pyproject.toml").read_text())
    members: list[Path] = []
    for pattern in root["tool"]["uv"]["workspace"]["members"]:
        members.extend(p.parent for p in sorted(ROOT.glob(f"{pattern}/pyproject.toml")))
    assert members
    deps_step = text.index("uv sync --frozen --no-dev --no-install-workspace")
    for member in members:
        rel = member.relative_to(ROOT).as_posix()
        line = f"COPY {rel}/pyproject.toml {rel}/"
        assert line in text, f"Dockerfile lacks `{line}`: uv cannot see the workspace"
        assert text.index(line) < deps_step


def test_dockerfile_builds_one_package_without_dev_deps_as_a_non_root_user() -> None:
    text = DOCKERFILE.read_text()
    assert 'uv sync --frozen --no-dev --no-install-workspace --package "kamqor-${SERVICE}"' in text
    assert 'uv sync --frozen --no-dev --package "kamqor-${SERVICE}"' in text
    assert "tzdata" in text
    assert "USER 10001:10001" in text
    assert 'ENTRYPOINT ["/app/entrypoint"]' in text
    for name in (*SERVICES, "gateway"):
        project = tomllib.loads(
            (
                ROOT / ("gateway" if name == "gateway" else f"services/{name}") / "pyproject.toml"
            ).read_text()
        )["project"]
        # /app/entrypoint links to this console script; services find migrations/ beside it.
        assert f"kamqor-{name}" in project["scripts"]
        assert project["name"] == f"kamqor-{name}"
    for name in SERVICES:
        assert (ROOT / "services" / name / "migrations").is_dir()


def test_dockerignore_keeps_what_the_build_copies_and_drops_local_state() -> None:
    lines = [
        line.strip()
        for line in DOCKERIGNORE.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert lines[0] == "**"
    for needed in ("!uv.lock", "!pyproject.toml", "!libs/kamqor/", "!services/", "!gateway/"):
        assert needed in lines
    for dropped in ("**/.venv/", "**/.run/", "**/*.db", "**/__pycache__/", "**/.env"):
        assert dropped in lines
