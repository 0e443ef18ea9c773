"""deploy/k8s and deploy/docker: every overlay and component combination builds, validates
strictly offline (Kubernetes schemas, the operators' CRDs kept in the repo), passes the policy
gate, and renders the whole platform (CloudNativePG, NATS JetStream, Keycloak, migrate Jobs);
the Dockerfile passes hadolint and keeps the workspace build working. Each check is shown to
fail, with its message, on a copy of deploy/ broken on purpose.

The kustomize builds need the kustomize binary; `devstack.k8s_check` installs the pinned release
with `go install` into `~/.cache/kamqor/bin` the first time. The tests that need it are skipped
(with the reason) only when that is impossible here.
"""

from __future__ import annotations

import json
import shutil
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devstack import k8s_check
from devstack.k8s_check import Build, KustomizeUnavailable, Rendered, Report

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
K8S = ROOT / "deploy" / "k8s"
DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"
DOCKERIGNORE = ROOT / "deploy" / "docker" / "Dockerfile.dockerignore"
SERVICES = ("intake", "plans", "registry", "shelter", "notify")
# Every deployable with a database of its own (the console keeps its sessions in one).
WITH_DATABASE = (*SERVICES, "console")
DEPLOYABLES = (*SERVICES, "gateway", "console")

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


def _broken_copy(tmp_path: Path) -> Path:
    """A copy of deploy/ that builds only the dev overlay (one build: a fast check)."""
    shutil.copytree(DEPLOY, tmp_path / "deploy")
    tree = tmp_path / "deploy" / "k8s"
    shutil.rmtree(tree / "overlays" / "production")
    shutil.rmtree(tree / "components" / "network-policies")
    shutil.rmtree(tree / "components" / "otel-collector")
    return tree


def _edit(path: Path, old: str, new: str, count: int = 1) -> None:
    text = path.read_text()
    assert text.count(old) >= count, f"{path}: {old!r} not found"
    path.write_text(text.replace(old, new, count))


def _fails(tree: Path, capsys: pytest.CaptureFixture[str]) -> list[str]:
    assert k8s_check.main([str(tree)]) == 1
    return [line for line in capsys.readouterr().out.splitlines() if line.startswith("FAIL ")]


def test_the_command_fails_with_one_line_per_problem(
    kustomize: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = _broken_copy(tmp_path)
    intake = tree / "base" / "intake.yaml"
    _edit(intake, "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false")
    _edit(intake, "failureThreshold: 60", "failureTreshold: 60")
    assert _fails(tree, capsys) == [
        "FAIL overlays/dev: Deployment/kamqor-dev/intake: schema: "
        "spec.template.spec.containers.0.startupProbe: Additional properties are not allowed "
        "('failureTreshold' was unexpected)",
        "FAIL overlays/dev: Deployment/kamqor-dev/intake: container intake: "
        "readOnlyRootFilesystem is not true",
    ]


def test_a_kustomization_that_does_not_build_fails(
    kustomize: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = _broken_copy(tmp_path)
    _edit(
        tree / "components" / "platform" / "kustomization.yaml", "  - nats.yaml\n", "  - nats.yml\n"
    )
    fails = _fails(tree, capsys)
    assert len(fails) == 1
    assert fails[0].startswith("FAIL overlays/dev: kustomize build failed: ")
    assert "nats.yml" in fails[0]


def test_custom_resources_are_validated_against_their_operators_crds(
    kustomize: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = _broken_copy(tmp_path)
    platform = tree / "components" / "platform"
    _edit(platform / "keycloak.yaml", "  instances: 2\n", "  instnaces: 2\n")
    _edit(platform / "postgres.yaml", "  instances: 3\n", '  instances: "three"\n')
    _edit(platform / "postgres.yaml", "  owner: registry\n", "  owner: registry\n  ownr: x\n")
    # The dev overlay's own patch sets Cluster.spec.instances again: drop it for this copy.
    _edit(tree / "overlays" / "dev" / "platform-dev.yaml", "  instances: 1\n", "", 1)
    assert sorted(_fails(tree, capsys)) == [
        "FAIL overlays/dev: Cluster/kamqor-dev/kamqor-pg: schema (cloudnative-pg-1.30.0 CRD): "
        "spec.instances: 'three' is not of type 'integer'",
        "FAIL overlays/dev: Database/kamqor-dev/kamqor-pg-registry: schema "
        "(cloudnative-pg-1.30.0 CRD): spec: Additional properties are not allowed "
        "('ownr' was unexpected)",
        "FAIL overlays/dev: Keycloak/kamqor-dev/keycloak: schema (keycloak-operator-26.0.0 CRD): "
        "spec: Additional properties are not allowed ('instnaces' was unexpected)",
    ]


def test_a_custom_resource_without_its_crd_fails(
    kustomize: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = _broken_copy(tmp_path)
    shutil.rmtree(tree / "crds" / "keycloak-operator-26.0.0")
    assert _fails(tree, capsys) == [
        f"FAIL overlays/dev: {kind}/kamqor-dev/{name}: schema: no CRD for "
        f"k8s.keycloak.org/v2alpha1 {kind} in {tree / 'crds'} (keep the operator's CRD there)"
        for kind, name in (("Keycloak", "keycloak"), ("KeycloakRealmImport", "kamqor-realm"))
    ]


def test_the_policy_gate_fails_on_each_rule(
    kustomize: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = _broken_copy(tmp_path)
    base, platform = tree / "base", tree / "components" / "platform"
    # No probes on a server: the NATS StatefulSet loses its readiness and liveness probes.
    nats = platform / "nats.yaml"
    text = nats.read_text()
    start, end = text.index("          readinessProbe:"), text.index("          lifecycle:")
    nats.write_text(text[:start] + text[end:])
    # No limits, root, a writable root filesystem on the gateway.
    gateway = base / "gateway.yaml"
    _edit(gateway, '            limits:\n              cpu: "1"\n              memory: 512Mi\n', "")
    _edit(gateway, "runAsNonRoot: true", "runAsNonRoot: false", 2)
    _edit(gateway, "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false")
    # An unpinned image, on a workload and on an operator-run one.
    _edit(nats, "image: nats:2.15.1-alpine", "image: nats:latest")
    _edit(platform / "postgres.yaml", ":17.6-standard-bookworm", "")
    # An operator-run workload without limits.
    _edit(platform / "keycloak.yaml", '    limits:\n      cpu: "2"\n      memory: 1536Mi\n', "")
    # Secret literals: a password in an env value, a Secret with data, a URL with a password.
    _edit(
        base / "intake.yaml",
        """            - name: KAMQOR_NATS_PASSWORD
              valueFrom:
                secretKeyRef:
                  name: kamqor-intake-nats
                  key: password
""",
        """            - name: KAMQOR_NATS_PASSWORD
              value: hunter2hunter2
""",
    )
    _edit(
        base / "plans.yaml",
        '"postgresql+asyncpg://plans@kamqor-pg-rw',
        '"postgresql+asyncpg://plans:hunter2@kamqor-pg-rw',
    )
    (base / "leak.yaml").write_text(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: leak\nstringData:\n  password: x\n"
    )
    _edit(base / "kustomization.yaml", "  - migrate.yaml\n", "  - migrate.yaml\n  - leak.yaml\n")
    fails = _fails(tree, capsys)
    expected = [
        "Deployment/kamqor-dev/gateway: container gateway: runAsNonRoot is not true",
        "Deployment/kamqor-dev/gateway: container gateway: readOnlyRootFilesystem is not true",
        "Deployment/kamqor-dev/gateway: container gateway: resources.limits lacks cpu, memory",
        "StatefulSet/kamqor-dev/nats: container nats: image nats:latest has no pinned tag or "
        "digest",
        "StatefulSet/kamqor-dev/nats: container nats: no readinessProbe and no livenessProbe",
        "Cluster/kamqor-dev/kamqor-pg: spec.imageName: image "
        "ghcr.io/cloudnative-pg/postgresql has no pinned tag or digest",
        "Keycloak/kamqor-dev/keycloak: spec.resources.limits lacks cpu, memory",
        "Deployment/kamqor-dev/intake: secret literal: container intake: env "
        "KAMQOR_NATS_PASSWORD has a value, not a secretKeyRef",
        "Deployment/kamqor-dev/plans: secret literal: container plans: env "
        "KAMQOR_DATABASE_URL holds a URL with a password",
        "Secret/kamqor-dev/leak: secret literal: a Secret with data in the manifests "
        "(create it out of band)",
    ]
    for line in expected:
        assert f"FAIL overlays/dev: {line}" in fails, "\n".join(fails)
    assert len(fails) == len(expected), "\n".join(fails)


def test_the_dockerfile_must_pass_hadolint(
    kustomize: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = _broken_copy(tmp_path)
    dockerfile = tree.parent / "docker" / "Dockerfile"
    _edit(dockerfile, "# hadolint ignore=DL3008\n", "")
    fails = _fails(tree, capsys)
    assert fails, "hadolint found nothing"
    assert all(f.startswith("FAIL Dockerfile: hadolint: ") for f in fails), fails
    assert any("DL3008" in f and "Pin versions in apt get install" in f for f in fails), fails


def test_stale_generated_copies_fail_and_k8s_sync_rewrites_them(
    kustomize: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    tree = _broken_copy(tmp_path)
    realm = tree.parent / "keycloak" / "kamqor-realm.production.json"
    _edit(realm, '"kamqor-partner"', '"kamqor-partner-2"')
    _edit(tree.parent / "nats" / "kamqor-auth.conf", "authorization {", "authorization {\n")
    assert _fails(tree, capsys) == [
        f"FAIL {path} is stale: run `make k8s-sync` (python -m devstack.k8s_check {tree} "
        "--write-generated)"
        for path in (
            "components/platform/keycloak-realm-import.yaml",
            "components/platform/kamqor-auth.conf",
            "overlays/dev/kamqor-auth.conf",
        )
    ]
    assert k8s_check.main([str(tree), "--write-generated"]) == 0
    assert k8s_check.main([str(tree)]) == 0
    assert "kamqor-partner-2" in (tree / k8s_check.REALM_IMPORT).read_text()


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
        "container x: no readinessProbe and no livenessProbe",
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


def test_services_use_grpc_probes_and_their_own_database_by_client_certificate(
    report: Report,
) -> None:
    for rendered in report.rendered:
        for name in SERVICES:
            container = _container(rendered, name)
            for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
                assert container[probe]["grpc"] == {"port": 50051}, (name, probe)
            env = {e["name"]: e for e in container["env"]}
            assert env["KAMQOR_GRPC_LISTEN"]["value"] == "0.0.0.0:50051"
            config_ref = container["envFrom"][0]["configMapRef"]["name"]
            assert config_ref == _one(rendered, "ConfigMap", "kamqor-config-")["metadata"]["name"]
            assert env["KAMQOR_NATS_PASSWORD"]["valueFrom"] == {
                "secretKeyRef": {"name": f"kamqor-{name}-nats", "key": "password"}
            }
        # Secrets are the operators' or created out of band: the manifests never carry one.
        assert not [o for o in rendered.objects if o["kind"] == "Secret"]


def _database_wiring(rendered: Rendered, name: str, pod: Obj, container: Obj) -> None:
    """Its own database as its own role, no password, the operator's client certificate over
    verified TLS."""
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["KAMQOR_DATABASE_URL"] == f"postgresql+asyncpg://{name}@kamqor-pg-rw:5432/{name}"
    assert env["PGSSLMODE"] == "verify-full"
    mounts = {m["name"]: m["mountPath"] for m in container["volumeMounts"]}
    assert mounts["pg-tls"] == "/etc/kamqor/pg"
    for variable, file in (
        ("PGSSLROOTCERT", "ca.crt"),
        ("PGSSLCERT", "tls.crt"),
        ("PGSSLKEY", "tls.key"),
    ):
        assert env[variable] == f"/etc/kamqor/pg/{file}"
    volume = next(v for v in pod["volumes"] if v["name"] == "pg-tls")
    sources = {s["secret"]["name"]: s["secret"]["items"] for s in volume["projected"]["sources"]}
    assert sources == {
        f"kamqor-pg-{name}-client-cert": [
            {"key": "tls.crt", "path": "tls.crt"},
            {"key": "tls.key", "path": "tls.key"},
        ],
        # Never the CA's key.
        "kamqor-pg-ca": [{"key": "ca.crt", "path": "ca.crt"}],
    }
    role = _one(rendered, "DatabaseRole", f"kamqor-pg-{name}")["spec"]
    assert role["name"] == name and role["login"] is True
    assert role["clientCertificate"] == {"enabled": True} and role["disablePassword"] is True


def test_every_deployable_with_a_database_reaches_it_by_the_operators_certificate(
    report: Report,
) -> None:
    for rendered in report.rendered:
        for name in WITH_DATABASE:
            pod = _one(rendered, "Deployment", name)["spec"]["template"]["spec"]
            _database_wiring(rendered, name, pod, _container(rendered, name))
            job = _one(rendered, "Job", f"{name}-migrate")["spec"]["template"]["spec"]
            _database_wiring(rendered, name, job, job["containers"][0])


def test_postgres_is_one_cloudnativepg_cluster_with_a_database_per_deployable(
    report: Report,
) -> None:
    for rendered in report.rendered:
        production = rendered.build.overlay == "production"
        cluster = _one(rendered, "Cluster", "kamqor-pg")["spec"]
        assert cluster["instances"] == (3 if production else 1)
        assert cluster["imageName"].startswith("ghcr.io/cloudnative-pg/postgresql:17.")
        initdb = cluster["bootstrap"]["initdb"]
        assert (initdb["localeCType"], initdb["database"], initdb["owner"]) == (
            "C.UTF-8",
            "keycloak",
            "keycloak",
        )
        assert cluster["enableSuperuserAccess"] is False
        assert sorted(cluster["postgresql"]["pg_hba"]) == sorted(
            f"hostssl {n} {n} all cert" for n in WITH_DATABASE
        )
        for name in WITH_DATABASE:
            database = _one(rendered, "Database", f"kamqor-pg-{name}")["spec"]
            assert (database["name"], database["owner"], database["localeCType"]) == (
                name,
                name,
                "C.UTF-8",
            )
            assert database["cluster"] == {"name": "kamqor-pg"}
            extensions = [e["name"] for e in database.get("extensions") or []]
            assert extensions == (["pg_trgm"] if name == "registry" else [])
        backups = [o for o in rendered.objects if o["kind"] == "ScheduledBackup"]
        if production:
            assert cluster["backup"]["barmanObjectStore"]["destinationPath"].startswith("s3://")
            assert [b["spec"]["cluster"] for b in backups] == [{"name": "kamqor-pg"}]
        else:
            assert "backup" not in cluster and not backups


def test_nats_is_a_jetstream_cluster_that_syncs_every_write_with_a_user_per_service(
    report: Report,
) -> None:
    users = (DEPLOY / "nats" / "kamqor-auth.conf").read_text()
    for rendered in report.rendered:
        production = rendered.build.overlay == "production"
        sts = _one(rendered, "StatefulSet", "nats")["spec"]
        assert sts["replicas"] == (3 if production else 1)
        claim = sts["volumeClaimTemplates"][0]
        assert claim["metadata"]["name"] == "data"
        assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
        pod = sts["template"]["spec"]
        config_name = next(v for v in pod["volumes"] if v["name"] == "config")["configMap"]["name"]
        config = _one(rendered, "ConfigMap", config_name)["data"]
        assert "sync_interval: always" in config["nats.conf"]
        assert "store_dir: /data/jetstream" in config["nats.conf"]
        assert ("cluster {" in config["nats.conf"]) == production
        assert config["kamqor-auth.conf"] == users
        env = {e["name"]: e for e in pod["containers"][0]["env"]}
        for user in (*SERVICES, "gateway"):
            assert env[f"KAMQOR_NATS_{user.upper()}_PASSWORD"]["valueFrom"] == {
                "secretKeyRef": {"name": f"kamqor-{user}-nats", "key": "password"}
            }
        assert _config(rendered)["KAMQOR_NATS_URL"] == "nats://nats:4222"
        if production:
            assert _config(rendered)["KAMQOR_STREAM_REPLICAS"] == "3"
            assert _one(rendered, "PodDisruptionBudget", "nats")["spec"]["maxUnavailable"] == 1


def test_keycloak_runs_on_the_cluster_and_imports_the_production_realm(report: Report) -> None:
    realm = json.loads((DEPLOY / "keycloak" / "kamqor-realm.production.json").read_text())
    for rendered in report.rendered:
        keycloak = _one(rendered, "Keycloak", "keycloak")["spec"]
        assert keycloak["db"]["host"] == "kamqor-pg-rw"
        assert keycloak["db"]["database"] == "keycloak"
        assert keycloak["db"]["passwordSecret"] == {"name": "kamqor-pg-app", "key": "password"}
        imported = _one(rendered, "KeycloakRealmImport", "kamqor-realm")["spec"]
        assert imported["keycloakCRName"] == "keycloak"
        assert imported["realm"]["realm"] == realm["realm"] == "kamqor"
        assert not imported["realm"].get("users")
        secrets = {c["clientId"]: c.get("secret") for c in imported["realm"]["clients"]}
        assert secrets["kamqor-console"] == "${KAMQOR_CONSOLE_CLIENT_SECRET}"
        assert imported["placeholders"]["KAMQOR_CONSOLE_CLIENT_SECRET"] == {
            "secret": {"name": "kamqor-console-oidc", "key": "client-secret"}
        }
        assert _config(rendered)["KAMQOR_KEYCLOAK_JWKS_URL"].startswith(
            "http://keycloak-service:8080/realms/kamqor/"
        )
        if rendered.build.overlay == "production":
            assert keycloak["instances"] == 2
            assert keycloak["hostname"]["hostname"] == "https://auth.kamqor.example"
            assert _config(rendered)["KAMQOR_KEYCLOAK_ISSUER"] == (
                "https://auth.kamqor.example/realms/kamqor"
            )


def test_migrations_run_as_jobs_between_the_platform_and_the_rollout(report: Report) -> None:
    for rendered in report.rendered:
        for name in WITH_DATABASE:
            job = _one(rendered, "Job", f"{name}-migrate")
            container = job["spec"]["template"]["spec"]["containers"][0]
            assert container["args"] == ["migrate"]
            assert container["image"] == _container(rendered, name)["image"]
            assert job["metadata"]["labels"]["kamqor.io/stage"] == "migrate"
            notes = job["metadata"]["annotations"]
            assert notes["argocd.argoproj.io/hook"] == "Sync"
            assert notes["argocd.argoproj.io/sync-wave"] == "0"
        for name in DEPLOYABLES:
            deployment = _one(rendered, "Deployment", name)["metadata"]
            assert deployment["labels"]["kamqor.io/stage"] == "rollout"
            assert deployment["annotations"]["argocd.argoproj.io/sync-wave"] == "1"
            # The services' start path never migrates: no migrate argument on a Deployment.
            assert "migrate" not in (_container(rendered, name).get("args") or [])
        for kind, name in (
            ("Cluster", "kamqor-pg"),
            ("Database", "kamqor-pg-intake"),
            ("DatabaseRole", "kamqor-pg-intake"),
            ("StatefulSet", "nats"),
            ("Keycloak", "keycloak"),
            ("KeycloakRealmImport", "kamqor-realm"),
        ):
            annotations = _one(rendered, kind, name)["metadata"]["annotations"]
            assert annotations["argocd.argoproj.io/sync-wave"] == "-1", (kind, name)
            assert "kamqor.io/stage" not in _one(rendered, kind, name)["metadata"].get("labels", {})


def test_the_console_is_a_scaled_workload_behind_an_ingress(report: Report) -> None:
    for rendered in _by_overlay(report, "production"):
        env = {e["name"]: e for e in _container(rendered, "console")["env"]}
        assert env["KAMQOR_CONSOLE_CLIENT_SECRET"]["valueFrom"]["secretKeyRef"] == {
            "name": "kamqor-console-oidc",
            "key": "client-secret",
        }
        ingress = _one(rendered, "Ingress", "console")["spec"]
        (rule,) = ingress["rules"]
        backend = rule["http"]["paths"][0]["backend"]["service"]
        assert backend == {"name": "console", "port": {"name": "http"}}
        assert ingress["tls"][0]["hosts"] == [rule["host"]]
        # Nothing sticky: no session-affinity annotation, no affinity on the Service.
        assert not _one(rendered, "Ingress", "console")["metadata"].get("annotations")
        assert "sessionAffinity" not in _one(rendered, "Service", "console")["spec"]
        assert (
            _one(rendered, "Ingress", "gateway")["spec"]["rules"][0]["http"]["paths"][0]["path"]
            == "/v1"
        )


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


def test_production_autoscales_everything_from_two_behind_network_policies(
    report: Report,
) -> None:
    for rendered in _by_overlay(report, "production"):
        for name in DEPLOYABLES:
            hpa = _one(rendered, "HorizontalPodAutoscaler", name)["spec"]
            assert hpa["scaleTargetRef"] == {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "name": name,
            }
            assert hpa["minReplicas"] >= 2 and hpa["maxReplicas"] > hpa["minReplicas"]
            (metric,) = hpa["metrics"]
            assert metric["resource"]["name"] == "cpu"
            # The autoscaler owns the replica count.
            assert "replicas" not in _one(rendered, "Deployment", name)["spec"]
            assert _one(rendered, "PodDisruptionBudget", name)["spec"]["maxUnavailable"] == 1
            spread = _one(rendered, "Deployment", name)["spec"]["template"]["spec"][
                "topologySpreadConstraints"
            ]
            assert {c["topologyKey"] for c in spread} == {
                "kubernetes.io/hostname",
                "topology.kubernetes.io/zone",
            }
        deny = _one(rendered, "NetworkPolicy", "default-deny-all")
        assert deny["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
        namespace = _one(rendered, "Namespace", "kamqor")
        assert namespace["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == (
            "restricted"
        )
        for obj in rendered.objects:
            if obj["kind"] != "Namespace":
                assert obj["metadata"]["namespace"] == "kamqor", k8s_check.object_name(obj)


def test_requests_follow_the_bench_figures(report: Report) -> None:
    """README "Performance": CPU per admission by process at 20 admissions/s over 2 replicas,
    RSS 109-129 MB per process."""
    rendered = report.rendered[0]
    cpu = {n: _container(rendered, n)["resources"]["requests"]["cpu"] for n in DEPLOYABLES}
    assert cpu == {
        "shelter": "150m",  # 12.7 ms x 20/s / 2 = 127m
        "notify": "125m",  # 10.6 ms x 20/s / 2 = 106m
        "gateway": "100m",  # 3.9 ms x 20/s = 78m, plus reads
        "intake": "100m",
        "plans": "100m",
        "registry": "100m",
        "console": "50m",
    }
    for name in DEPLOYABLES:
        assert _container(rendered, name)["resources"]["requests"]["memory"] == "160Mi"


def test_network_policies_open_only_the_paths_kamqor_uses(report: Report) -> None:
    rendered = next(r for r in report.rendered if r.build == Build("dev", ("network-policies",)))
    services = _one(rendered, "NetworkPolicy", "services")["spec"]
    assert services["ingress"] == [
        {
            "from": [{"podSelector": {"matchLabels": {"app.kubernetes.io/name": "gateway"}}}],
            "ports": [{"protocol": "TCP", "port": 50051}],
        }
    ]
    egress = {
        tuple(sorted(rule["to"][0]["podSelector"]["matchLabels"].items())): [
            p["port"] for p in rule["ports"]
        ]
        for rule in services["egress"]
    }
    assert egress == {
        (("app.kubernetes.io/name", "nats"),): [4222],
        (("cnpg.io/cluster", "kamqor-pg"),): [5432],
        (("app", "keycloak"),): [8080],
        (("app.kubernetes.io/name", "otel-collector"),): [4317],
    }
    dns = _one(rendered, "NetworkPolicy", "allow-dns-egress")["spec"]
    assert {p["port"] for rule in dns["egress"] for p in rule["ports"]} == {53}
    postgres = _one(rendered, "NetworkPolicy", "postgres")["spec"]
    assert postgres["podSelector"] == {"matchLabels": {"cnpg.io/cluster": "kamqor-pg"}}
    nats = _one(rendered, "NetworkPolicy", "nats")["spec"]
    assert sorted(p["port"] for rule in nats["ingress"] for p in rule["ports"]) == [4222, 6222]


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
