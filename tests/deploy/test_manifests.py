"""The deployment artefacts: Dockerfile, docker-compose.yml, Kubernetes, Prometheus, Grafana.

Needs kubectl (kustomize), promtool and the PyPI package kubernetes-validate; a missing tool
fails the test (it never skips): `bash scripts/install-test-tools.sh` installs them.
"""

from __future__ import annotations

import functools
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.metrics import MetricWrapperBase
from pydantic_settings import BaseSettings

from libs.common import metrics as common_metrics
from libs.common.settings import SERVICES, Settings
from services.ingest.settings import IngestSettings
from services.notify.settings import NotifySettings
from tests.support.promql import metric_names

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "docker" / "Dockerfile"
COMPOSE_FILE = ROOT / "docker-compose.yml"
PROMETHEUS_CONFIG = DEPLOY / "prometheus" / "prometheus.yml"
ALERTS = DEPLOY / "prometheus" / "alerts.yml"
ALERT_TESTS = DEPLOY / "prometheus" / "alerts.test.yml"
OPERATIONS_DOC = ROOT / "docs" / "operations.md"
DASHBOARDS = DEPLOY / "grafana" / "dashboards"
GRAFANA_PROVISIONING = DEPLOY / "grafana" / "provisioning"
KUSTOMIZATIONS = {
    "base": DEPLOY / "k8s" / "base",
    "production": DEPLOY / "k8s" / "overlays" / "production",
}
INSTALL_HINT = "install the test tools with `bash scripts/install-test-tools.sh`"

# The Kubernetes version the manifests must be valid for (CronJob timeZone needs >= 1.27).
K8S_VERSION = "1.30"
NAMESPACE = "dx-tracker"
IMAGE = "dx-tracker"
APP_PORT = 8000
SERVED = ("gateway", *SERVICES)
BACKENDS = tuple(SERVICES)  # reachable from the gateway only
# Custom resources kubernetes-validate has no schema for; each is checked structurally instead.
CRD_KINDS = {("monitoring.coreos.com/v1", "ServiceMonitor")}
# Secrets the production overlay expects to exist in the cluster, created out of band.
EXTERNAL_SECRETS = {"production": {"dx-secrets"}, "base": set()}
TOPICS = (
    "dx.submissions.v1",
    "dx.observations.v1",
    "dx.scores.v1",
    "dx.catalogue.v1",
    "dx.submission-status.v1",
)

Manifest = dict[str, Any]

# ------------------------------------------------------------------------------------------
# Metric names: the source of truth for alerts and dashboards.
# ------------------------------------------------------------------------------------------

# Shared metrics every service exports; they must be defined in libs/common/metrics.py.
SHARED_METRICS = frozenset(
    {
        "dx_http_requests_total",
        "dx_http_request_duration_seconds",
        "dx_events_published_total",
        "dx_events_consumed_total",
        "dx_event_handling_seconds",
        "dx_outbox_backlog",
        "dx_outbox_oldest_age_seconds",
        "dx_outbox_publish_failures_total",
        "dx_consumer_lag",
        "dx_consumer_retrying_seconds",
        "dx_service_up",
    }
)
# Metrics the services add themselves (name as written in PromQL -> Prometheus type).
SERVICE_METRICS = {
    "dx_ingest_submissions_total": "counter",
    "dx_ingest_accept_to_stored_seconds": "histogram",
    "dx_scoring_dirty_backlog": "gauge",
    "dx_scoring_dirty_oldest_age_seconds": "gauge",
    "dx_scoring_coalesced_marks": "histogram",
    "dx_scoring_rescore_pass_seconds": "histogram",
    "dx_ingest_unsettled_oldest_age_seconds": "gauge",
    "dx_ingest_reconciled_total": "counter",
    "dx_notify_emails_sent_total": "counter",
    "dx_notify_emails_failed_total": "counter",
    "dx_notify_emails_retried_total": "counter",
    "dx_notify_last_successful_run_timestamp_seconds": "gauge",
}
SAMPLE_SUFFIXES = {
    "counter": ("_total",),
    "gauge": ("",),
    "histogram": ("_bucket", "_sum", "_count"),
    "summary": ("", "_sum", "_count"),
    "info": ("_info",),
}


def _family(name: str, kind: str) -> str:
    return name.removesuffix("_total") if kind == "counter" else name


@functools.cache
def metric_families() -> dict[str, str]:
    """Every metric family a service exports, with its type (libs/common/metrics.py + above)."""
    families: dict[str, str] = {}
    for value in vars(common_metrics).values():
        if isinstance(value, MetricWrapperBase):
            for family in value.describe():
                families[family.name] = family.type
    for name, kind in SERVICE_METRICS.items():
        families[_family(name, kind)] = kind
    return families


@functools.cache
def exported_series() -> frozenset[str]:
    """The series names a query may use (``_total``, ``_bucket``, ``_sum``, ``_count``, ...)."""
    return frozenset(
        family + suffix
        for family, kind in metric_families().items()
        for suffix in SAMPLE_SUFFIXES[kind]
    )


def test_metric_name_extraction() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (service, le) (rate(dx_x_bucket{route!~"a|b"}'
        "[$__rate_interval]))) / on (service) group_left dx_y offset 1h > 1e3 "
        'unless absent(dx_z{service="gateway"}) or time() - 26 * 3600'
    )
    assert metric_names(expr) == {"dx_x_bucket", "dx_y", "dx_z"}
    assert metric_names("label_values(dx_service_up, service)") == {"dx_service_up"}


def test_shared_metrics_are_the_ones_libs_common_exports() -> None:
    families = metric_families()

    def exported(name: str) -> bool:
        if name.endswith("_total"):
            return families.get(name.removesuffix("_total")) == "counter"
        return name in families and families[name] != "counter"

    missing = sorted(name for name in SHARED_METRICS if not exported(name))
    assert not missing, f"libs/common/metrics.py no longer exports {missing}"
    for name, kind in SERVICE_METRICS.items():
        family = _family(name, kind)
        assert name.startswith(("dx_ingest_", "dx_scoring_", "dx_notify_")), name
        assert metric_families()[family] == kind


# ------------------------------------------------------------------------------------------
# Tools
# ------------------------------------------------------------------------------------------


def require_tool(name: str) -> str:
    """The path of a command-line tool; the test fails (never skips) without it."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"`{name}` is not on PATH: {INSTALL_HINT}", pytrace=False)
    return path


def run_tool(*command: str) -> subprocess.CompletedProcess[str]:
    require_tool(command[0])
    result = subprocess.run(
        command, cwd=ROOT, capture_output=True, text=True, timeout=300, check=False
    )
    if result.returncode != 0:
        pytest.fail(
            f"`{' '.join(command)}` exited {result.returncode}:\n{result.stdout}\n{result.stderr}",
            pytrace=False,
        )
    return result


def load_yaml(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


# Every class of settings read from the environment, each under its own prefix.
SETTINGS_CLASSES: tuple[type[BaseSettings], ...] = (Settings, IngestSettings, NotifySettings)


def settings_env_names() -> set[str]:
    return {
        f"{cls.model_config.get('env_prefix', '')}{field}".upper()
        for cls in SETTINGS_CLASSES
        for field in cls.model_fields
    }


# ------------------------------------------------------------------------------------------
# Dockerfile
# ------------------------------------------------------------------------------------------


def dockerfile_instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text(encoding="utf-8").replace("\\\n", " ")
    instructions = []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and not stripped.startswith("#"):
            keyword, _, rest = stripped.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
    return instructions


def test_dockerfile_one_image_for_every_service() -> None:
    instructions = dockerfile_instructions()
    froms = [rest for keyword, rest in instructions if keyword == "FROM"]
    assert len(froms) >= 2, "multi-stage: a builder stage and a runtime stage"
    assert any(rest.endswith(" AS builder") for rest in froms)
    args = dict(
        rest.split("=", 1) for keyword, rest in instructions if keyword == "ARG" and "=" in rest
    )
    assert args.get("PYTHON_IMAGE") == "python:3.11-slim"
    assert all(rest.split()[0] == "${PYTHON_IMAGE}" for rest in froms)

    runs = " ".join(rest for keyword, rest in instructions if keyword == "RUN")
    assert "pip wheel" in runs, "the builder builds wheels"
    # Every COPY source of the build context exists (COPY --from=... copies between stages).
    for keyword, rest in instructions:
        if keyword == "COPY" and not rest.startswith("--from"):
            *sources, _target = rest.split()
            for source in sources:
                assert (ROOT / source).exists(), f"Dockerfile copies missing {source}"

    users = [rest for keyword, rest in instructions if keyword == "USER"]
    assert users, "the runtime stage must not run as root"
    assert users[-1].split(":")[0] not in {"0", "root"}

    healthchecks = [rest for keyword, rest in instructions if keyword == "HEALTHCHECK"]
    assert healthchecks
    assert "urllib" in healthchecks[-1]
    assert "/healthz" in healthchecks[-1]

    entrypoint = [rest for keyword, rest in instructions if keyword == "ENTRYPOINT"]
    cmd = [rest for keyword, rest in instructions if keyword == "CMD"]
    assert json.loads(entrypoint[-1]) == ["dx"]
    assert json.loads(cmd[-1]) == ["serve", "gateway"]


# ------------------------------------------------------------------------------------------
# docker-compose.yml
# ------------------------------------------------------------------------------------------


@functools.cache
def compose() -> dict[str, Any]:
    data: dict[str, Any] = load_yaml(COMPOSE_FILE)
    return data


def compose_services() -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = compose()["services"]
    return services


def compose_command(service: dict[str, Any]) -> list[str]:
    command = service.get("command", [])
    return command.split() if isinstance(command, str) else [str(part) for part in command]


def test_compose_build_and_file_references_exist() -> None:
    built = 0
    for name, service in compose_services().items():
        build = service.get("build")
        if build is not None:
            built += 1
            context = ROOT / (build if isinstance(build, str) else build.get("context", "."))
            assert context.is_dir(), f"{name}: build context {context} missing"
            dockerfile = "Dockerfile" if isinstance(build, str) else build.get("dockerfile")
            assert (context / str(dockerfile)).is_file(), f"{name}: {dockerfile} missing"
        for volume in service.get("volumes", []):
            source = volume.split(":")[0] if isinstance(volume, str) else volume.get("source")
            if str(source).startswith("."):
                assert (ROOT / str(source)).exists(), f"{name}: mounts missing {source}"
    assert built >= len(SERVED), "every dx service is built from deploy/docker/Dockerfile"


def test_compose_runs_the_platform_and_its_infrastructure() -> None:
    services = compose_services()
    for name in SERVED:
        assert name in services, f"docker-compose.yml lacks {name}"
        assert compose_command(services[name]) == ["serve", name]
    images = {name: str(service.get("image", "")) for name, service in services.items()}
    assert images["postgres"].startswith("postgres:16")
    assert images["kafka"].startswith("apache/kafka")
    assert images["mailpit"].startswith("axllent/mailpit")
    assert images["prometheus"].startswith("prom/prometheus")
    assert images["grafana"].startswith("grafana/grafana")
    kafka_env = services["kafka"]["environment"]
    assert "controller" in kafka_env["KAFKA_PROCESS_ROLES"], "KRaft: no ZooKeeper"

    migrate = " ".join(compose_command(services["migrate"]))
    assert "dx migrate" in migrate
    assert "dx seed" in migrate
    assert migrate.index("dx migrate") < migrate.index("dx seed")
    topics = " ".join(compose_command(services["kafka-topics"]))
    for topic in TOPICS:
        assert topic in topics
    assert ".dlq" in topics


def test_compose_dependencies_are_defined_and_ordered() -> None:
    services = compose_services()
    for name, service in services.items():
        depends = service.get("depends_on", {})
        targets = depends if isinstance(depends, list) else list(depends)
        for target in targets:
            assert target in services, f"{name} depends on undefined {target}"
        if isinstance(depends, dict):
            for target, spec in depends.items():
                assert spec["condition"] in {
                    "service_started",
                    "service_healthy",
                    "service_completed_successfully",
                }
                if spec["condition"] == "service_healthy":
                    has_check = "healthcheck" in services[target] or services[target].get("build")
                    assert has_check, f"{target} has no healthcheck for {name} to wait on"
    for name in SERVED:
        depends = services[name]["depends_on"]
        assert depends["migrate"]["condition"] == "service_completed_successfully"
        assert depends["kafka-topics"]["condition"] == "service_completed_successfully"

    gateway = services["gateway"]
    for backend in BACKENDS:
        url = gateway["environment"][f"DX_{backend.upper()}_URL"]
        assert url == f"http://{backend}:{APP_PORT}", url
        assert gateway["depends_on"][backend]["condition"] == "service_healthy"
    notify_env = services["notify"]["environment"]
    assert notify_env["DX_SMTP_HOST"] in services


def test_compose_settings_are_dx_settings() -> None:
    known = settings_env_names()
    for name, service in compose_services().items():
        environment = service.get("environment", {})
        assert isinstance(environment, dict), f"{name}: use a mapping for environment"
        unknown = sorted(key for key in environment if key.startswith("DX_") and key not in known)
        assert not unknown, f"{name}: {unknown} are not settings of libs/common/settings.py"
        if name in SERVED or name == "migrate":
            assert environment["DX_BUS"] == "kafka"
            assert environment["DX_DATABASE_URL"].startswith("postgresql+asyncpg://")
            assert environment["DX_KAFKA_BOOTSTRAP"] == "kafka:9092"
            assert environment["DX_ENVIRONMENT"] == "production"


# ------------------------------------------------------------------------------------------
# Prometheus and Grafana
# ------------------------------------------------------------------------------------------


def test_prometheus_config_scrapes_every_service() -> None:
    run_tool("promtool", "check", "config", str(PROMETHEUS_CONFIG))
    config = load_yaml(PROMETHEUS_CONFIG)
    targets = {
        target
        for job in config["scrape_configs"]
        for static in job.get("static_configs", [])
        for target in static["targets"]
    }
    for name in SERVED:
        assert f"{name}:{APP_PORT}" in targets
    dx_jobs = [job for job in config["scrape_configs"] if job["job_name"] == "dx"]
    assert dx_jobs[0].get("honor_labels") is True, "keep the services' own `service` label"
    for target in targets:
        host = target.split(":")[0]
        assert host == "localhost" or host in compose_services(), target


def alert_rules() -> Iterator[dict[str, Any]]:
    for group in load_yaml(ALERTS)["groups"]:
        yield from group["rules"]


def test_alert_rules_pass_promtool() -> None:
    run_tool("promtool", "check", "rules", str(ALERTS))


def test_alert_rules_fire_as_their_unit_tests_expect() -> None:
    run_tool("promtool", "test", "rules", str(ALERT_TESTS))


def test_alert_rules_read_exported_metrics_only() -> None:
    used: set[str] = set()
    for rule in alert_rules():
        names = metric_names(str(rule["expr"]))
        unknown = sorted(names - exported_series())
        assert not unknown, f"alert {rule.get('alert')} reads unexported {unknown}"
        assert rule["labels"]["severity"] in {"warning", "critical"}
        assert rule["annotations"]["summary"]
        used |= names
    required = {
        "dx_outbox_oldest_age_seconds",  # outbox backlog age
        "dx_consumer_lag",
        "dx_http_requests_total",  # 5xx rate, readiness
        "dx_notify_last_successful_run_timestamp_seconds",  # reminder job not run
        "dx_notify_emails_failed_total",  # SMTP failures
        "dx_service_up",  # service down
    }
    assert required <= used, f"no alert on {sorted(required - used)}"


def markdown_anchors(path: Path) -> set[str]:
    """GitHub's anchors of a Markdown file's headings (the first of each name)."""
    anchors = set()
    for line in path.read_text(encoding="utf-8").splitlines():
        heading = re.match(r"#{1,6}\s+(.*)", line)
        if heading:
            slug = re.sub(r"[^\w\- ]", "", heading.group(1).strip().lower()).replace(" ", "-")
            anchors.add(slug)
    return anchors


def test_alert_runbooks_exist() -> None:
    anchors = markdown_anchors(OPERATIONS_DOC)
    for rule in alert_rules():
        document, _, anchor = rule["annotations"]["runbook_url"].partition("#")
        assert (ROOT / document).resolve() == OPERATIONS_DOC.resolve(), rule["alert"]
        assert anchor in anchors, f"{rule['alert']}: no heading for #{anchor} in {document}"


@functools.cache
def dashboards() -> dict[str, dict[str, Any]]:
    return {
        path.name: json.loads(path.read_text(encoding="utf-8"))
        for path in DASHBOARDS.glob("*.json")
    }


def dashboard_queries(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, query) for every panel target and every query variable."""

    def walk(panels: list[dict[str, Any]]) -> Iterator[tuple[str, str]]:
        for panel in panels:
            for target in panel.get("targets", []):
                yield f"panel {panel.get('title')!r}", str(target["expr"])
            yield from walk(panel.get("panels", []))

    yield from walk(dashboard["panels"])
    for variable in dashboard.get("templating", {}).get("list", []):
        if variable.get("type") == "query":
            query = variable["query"]
            yield (
                f"variable {variable['name']}",
                str(query["query"] if isinstance(query, dict) else query),
            )


def test_dashboards_read_exported_metrics_only() -> None:
    found = dashboards()
    expected = {"ingest-flow", "freshness", "scoring", "notify", "http"}
    assert all(any(topic in name for name in found) for topic in expected), sorted(found)
    uids = [dashboard["uid"] for dashboard in found.values()]
    assert len(uids) == len(set(uids)), "dashboard uids must be unique"
    for name, dashboard in found.items():
        assert dashboard["title"]
        queries = list(dashboard_queries(dashboard))
        assert queries, f"{name} has no query"
        for where, query in queries:
            names = metric_names(query)
            assert names, f"{name} {where}: no metric in {query!r}"
            unknown = sorted(names - exported_series())
            assert not unknown, f"{name} {where} reads unexported {unknown}: {query}"


_GRAFANA_DURATIONS = {"__rate_interval": "5m", "__interval": "1m", "__range": "6h"}


def test_dashboard_queries_are_valid_promql(tmp_path: Path) -> None:
    rules = []
    for name, dashboard in dashboards().items():
        for index, (_where, query) in enumerate(dashboard_queries(dashboard)):
            if query.lstrip().startswith("label_values("):
                continue
            expr = re.sub(
                r"\$\{?(\w+)\}?",
                lambda match: _GRAFANA_DURATIONS.get(match.group(1), ".*"),
                query,
            )
            record = re.sub(r"\W", "_", f"dashboard:{Path(name).stem}:{index}")
            rules.append({"record": record, "expr": expr})
    rule_file = tmp_path / "dashboards.rules.yml"
    rule_file.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    run_tool("promtool", "check", "rules", str(rule_file))


def test_grafana_provisioning_matches_compose() -> None:
    datasources = load_yaml(GRAFANA_PROVISIONING / "datasources" / "prometheus.yml")
    prometheus = datasources["datasources"][0]
    assert prometheus["type"] == "prometheus"
    assert prometheus["url"].startswith("http://prometheus:")
    providers = load_yaml(GRAFANA_PROVISIONING / "dashboards" / "dx-tracker.yml")["providers"]
    mounts = {
        str(volume).split(":")[1]: str(volume).split(":")[0]
        for volume in compose_services()["grafana"]["volumes"]
    }
    path = providers[0]["options"]["path"]
    assert path in mounts, f"Grafana reads dashboards from {path}, which compose does not mount"
    assert (ROOT / mounts[path]).resolve() == DASHBOARDS.resolve()
    for name, dashboard in dashboards().items():
        variables = {v["name"]: v for v in dashboard["templating"]["list"]}
        assert variables["datasource"]["current"]["value"] == prometheus["uid"], name


# ------------------------------------------------------------------------------------------
# Kubernetes
# ------------------------------------------------------------------------------------------


MIN_KUSTOMIZE = 4  # `labels`, `replicas`, `patches` with targets; kubectl >= 1.21 embeds it


@functools.cache
def kustomize_command() -> tuple[str, ...]:
    """``kubectl kustomize`` when its embedded kustomize is recent enough, else ``kustomize``."""
    if shutil.which("kubectl"):
        version = run_tool("kubectl", "version", "--client").stdout
        found = re.search(r"Kustomize Version: v?(\d+)", version)
        if found and int(found.group(1)) >= MIN_KUSTOMIZE:
            return ("kubectl", "kustomize")
        if shutil.which("kustomize"):
            return ("kustomize", "build")
        pytest.fail(
            f"kubectl embeds kustomize {found.group(0) if found else '(unknown)'}; the manifests "
            f"need kustomize v{MIN_KUSTOMIZE}+ (kubectl 1.21 or newer, or a `kustomize` binary)",
            pytrace=False,
        )
    require_tool("kubectl")
    raise AssertionError("unreachable")


@functools.cache
def rendered(variant: str) -> tuple[Manifest, ...]:
    """``kubectl kustomize`` of deploy/k8s/base or an overlay."""
    result = run_tool(*kustomize_command(), str(KUSTOMIZATIONS[variant]))
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def of_kind(docs: tuple[Manifest, ...], kind: str) -> dict[str, Manifest]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def pod_specs(docs: tuple[Manifest, ...]) -> Iterator[tuple[str, dict[str, Any]]]:
    for doc in docs:
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        if doc["kind"] in {"Deployment", "StatefulSet", "DaemonSet", "Job"}:
            yield name, doc["spec"]["template"]["spec"]
        elif doc["kind"] == "CronJob":
            yield name, doc["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*spec.get("initContainers", []), *spec["containers"]]


def matches(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    """Whether a Kubernetes label selector selects ``labels``."""
    for key, value in selector.get("matchLabels", {}).items():
        if labels.get(key) != value:
            return False
    for expression in selector.get("matchExpressions", []):
        key, operator = expression["key"], expression["operator"]
        values = expression.get("values", [])
        if operator == "In" and labels.get(key) not in values:
            return False
        if operator == "NotIn" and labels.get(key) in values:
            return False
        if operator == "Exists" and key not in labels:
            return False
        if operator == "DoesNotExist" and key in labels:
            return False
    return True


VARIANTS = pytest.mark.parametrize("variant", sorted(KUSTOMIZATIONS))


def check_service_monitor(doc: Manifest, docs: tuple[Manifest, ...]) -> None:
    """Structural check of a ServiceMonitor (no schema in kubernetes-validate)."""
    spec = doc["spec"]
    assert set(spec) <= {"selector", "namespaceSelector", "endpoints", "jobLabel"}, spec
    assert spec["namespaceSelector"]["matchNames"] == [NAMESPACE]
    services = [
        service
        for service in of_kind(docs, "Service").values()
        if matches(spec["selector"], service["metadata"]["labels"])
    ]
    assert services, f"ServiceMonitor {doc['metadata']['name']} selects no Service"
    for endpoint in spec["endpoints"]:
        assert endpoint["path"] == "/metrics"
        assert endpoint.get("honorLabels") is True
        for service in services:
            ports = {port["name"] for port in service["spec"]["ports"]}
            assert endpoint["port"] in ports


@VARIANTS
def test_manifests_render_and_validate(variant: str) -> None:
    try:
        import kubernetes_validate
    except ImportError:
        pytest.fail(f"kubernetes-validate is not installed: {INSTALL_HINT}", pytrace=False)
    docs = rendered(variant)
    assert docs, f"{variant} renders nothing"
    checked_crds = 0
    for doc in docs:
        where = f"{variant}: {doc['kind']}/{doc['metadata']['name']}"
        if doc["kind"] != "Namespace":
            assert doc["metadata"].get("namespace") == NAMESPACE, where
        assert doc["metadata"]["labels"]["app.kubernetes.io/part-of"] == "dx-tracker", where
        try:
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            assert (doc["apiVersion"], doc["kind"]) in CRD_KINDS, f"{where}: no schema"
            check_service_monitor(doc, docs)
            checked_crds += 1
        except kubernetes_validate.ValidationError as error:
            pytest.fail(f"{where} is invalid for Kubernetes {K8S_VERSION}: {error}")
    assert checked_crds == len(SERVED), "one ServiceMonitor per service"


@VARIANTS
def test_every_service_is_deployed_probed_budgeted_and_scaled(variant: str) -> None:
    docs = rendered(variant)
    deployments = of_kind(docs, "Deployment")
    services = of_kind(docs, "Service")
    budgets = of_kind(docs, "PodDisruptionBudget")
    autoscalers = of_kind(docs, "HorizontalPodAutoscaler")
    assert set(deployments) == set(SERVED)
    for name in SERVED:
        deployment = deployments[name]
        template = deployment["spec"]["template"]
        pod_labels = template["metadata"]["labels"]
        assert matches(deployment["spec"]["selector"], pod_labels)
        (container,) = template["spec"]["containers"]
        assert container["image"].split("@")[0].rsplit(":", 1)[0].endswith(IMAGE)
        assert container["args"] == ["serve", name]
        assert {port["containerPort"] for port in container["ports"]} == {APP_PORT}
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        for kind in ("requests", "limits"):
            assert {"cpu", "memory"} <= set(container["resources"][kind]), f"{name} {kind}"

        service = services[name]
        assert service["spec"]["selector"] == {"app.kubernetes.io/name": name}
        assert matches({"matchLabels": service["spec"]["selector"]}, pod_labels)
        (port,) = service["spec"]["ports"]
        assert port["port"] == APP_PORT
        assert port["name"] == "http"

        assert matches(budgets[name]["spec"]["selector"], pod_labels)
        hpa = autoscalers[name]["spec"]
        assert hpa["scaleTargetRef"] == {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": name,
        }
        assert [metric["resource"]["name"] for metric in hpa["metrics"]] == ["cpu"]
        assert hpa["minReplicas"] <= hpa["maxReplicas"]


@VARIANTS
def test_pods_run_unprivileged_on_a_read_only_root(variant: str) -> None:
    specs = list(pod_specs(rendered(variant)))
    assert len(specs) == len(SERVED) + 2, "five Deployments, the migration Job, the CronJob"
    for name, spec in specs:
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] != 0, name
        assert spec["automountServiceAccountToken"] is False, name
        for container in containers(spec):
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["capabilities"]["drop"] == ["ALL"], name
            mounts = {mount["mountPath"] for mount in container.get("volumeMounts", [])}
            assert "/tmp" in mounts, f"{name}: /tmp must be writable (emptyDir)"


def allowed_peers(docs: tuple[Manifest, ...], pod_labels: dict[str, str]) -> list[dict[str, Any]]:
    """Every `from` peer of every NetworkPolicy that selects the pod."""
    peers = []
    for policy in of_kind(docs, "NetworkPolicy").values():
        spec = policy["spec"]
        if "Ingress" in spec.get("policyTypes", []) and matches(spec["podSelector"], pod_labels):
            for rule in spec.get("ingress", []):
                assert rule.get("from"), f"{policy['metadata']['name']} allows everyone"
                assert [port["port"] for port in rule["ports"]] == [APP_PORT]
                peers.extend(rule["from"])
    return peers


@VARIANTS
def test_network_policies_let_only_the_gateway_reach_the_services(variant: str) -> None:
    docs = rendered(variant)
    policies = of_kind(docs, "NetworkPolicy").values()
    assert any(
        policy["spec"]["podSelector"] == {}
        and policy["spec"]["policyTypes"] == ["Ingress"]
        and not policy["spec"].get("ingress")
        for policy in policies
    ), "a default deny of all ingress"
    deployments = of_kind(docs, "Deployment")
    gateway_labels = deployments["gateway"]["spec"]["template"]["metadata"]["labels"]
    monitoring = {
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}
    }
    for name in BACKENDS:
        labels = deployments[name]["spec"]["template"]["metadata"]["labels"]
        peers = allowed_peers(docs, labels)
        assert monitoring in peers, f"Prometheus cannot scrape {name}"
        for peer in peers:
            if peer == monitoring:
                continue
            assert set(peer) == {"podSelector"}, f"{name} is open to {peer}"
            assert matches(peer["podSelector"], gateway_labels), f"{name} is open to {peer}"
            for other in SERVED:
                if other != "gateway":
                    other_labels = deployments[other]["spec"]["template"]["metadata"]["labels"]
                    assert not matches(peer["podSelector"], other_labels), f"{other} -> {name}"
    gateway_peers = allowed_peers(docs, gateway_labels)
    assert any("namespaceSelector" in peer and peer != monitoring for peer in gateway_peers), (
        "the ingress controller must reach the gateway"
    )


@VARIANTS
def test_configuration_references_resolve(variant: str) -> None:
    docs = rendered(variant)
    config_maps = of_kind(docs, "ConfigMap")
    secrets = of_kind(docs, "Secret")
    external = EXTERNAL_SECRETS[variant]
    assert not external & set(secrets), f"{variant} must not render {external & set(secrets)}"
    base_secret = of_kind(rendered("base"), "Secret")["dx-secrets"]
    secret_keys = set(base_secret.get("stringData", {})) | set(base_secret.get("data", {}))
    known = settings_env_names()
    for config_map in config_maps.values():
        unknown = sorted(set(config_map["data"]) - known)
        assert not unknown, f"ConfigMap {config_map['metadata']['name']}: {unknown} unknown"
    assert not sorted(secret_keys - known), "Secret keys must be DX_ settings"
    for name, spec in pod_specs(docs):
        for container in containers(spec):
            for source in container.get("envFrom", []):
                assert source["configMapRef"]["name"] in config_maps, f"{name}: {source}"
            for variable in container.get("env", []):
                assert variable["name"] in known, f"{name}: {variable['name']} is no setting"
                reference = variable.get("valueFrom", {}).get("secretKeyRef")
                if reference:
                    assert reference["name"] in set(secrets) | external, f"{name}: {reference}"
                    assert reference["key"] in secret_keys, f"{name}: {reference}"
    gateway = of_kind(docs, "Deployment")["gateway"]["spec"]["template"]["spec"]
    env = {v["name"]: v.get("value") for v in gateway["containers"][0]["env"]}
    services = of_kind(docs, "Service")
    for backend in BACKENDS:
        assert env[f"DX_{backend.upper()}_URL"] == f"http://{backend}:{APP_PORT}"
        assert backend in services
    for backend in BACKENDS:
        spec = of_kind(docs, "Deployment")[backend]["spec"]["template"]["spec"]
        names = {v["name"] for v in spec["containers"][0]["env"]}
        assert "DX_BOOTSTRAP_ADMIN_TOKEN" not in names, "only the gateway gets the admin token"


@VARIANTS
def test_ingress_migration_job_and_reminder_cronjob(variant: str) -> None:
    docs = rendered(variant)
    (ingress,) = of_kind(docs, "Ingress").values()
    backends = {
        path["backend"]["service"]["name"]
        for rule in ingress["spec"]["rules"]
        for path in rule["http"]["paths"]
    }
    assert backends == {"gateway"}
    assert ingress["spec"]["tls"]

    (job,) = of_kind(docs, "Job").values()
    steps = [c["args"] for c in containers(job["spec"]["template"]["spec"])]
    assert steps == [["migrate"], ["seed"]], "migrations first (init container), then seed"

    (cronjob,) = of_kind(docs, "CronJob").values()
    spec = cronjob["spec"]
    assert spec["concurrencyPolicy"] == "Forbid"
    assert spec["timeZone"] == "Asia/Ho_Chi_Minh"
    (container,) = spec["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert container["args"] == ["reminders", "run"]
    images = {c["image"] for _name, pod in pod_specs(docs) for c in containers(pod)}
    assert len(images) == 1, f"one image for every workload, not {images}"


@VARIANTS
def test_only_the_cronjob_schedules_reminders(
    variant: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = rendered(variant)
    (cronjob,) = of_kind(docs, "CronJob").values()
    # The CronJob keeps the schedule the in-process scheduler would (workdays, 08:00).
    assert cronjob["spec"]["schedule"] == NotifySettings.model_fields["schedule"].default
    notify = of_kind(docs, "Deployment")["notify"]["spec"]["template"]["spec"]
    (container,) = notify["containers"]
    env = {v["name"]: v["value"] for v in container["env"] if "value" in v}
    assert env["DX_NOTIFY_SCHEDULER_ENABLED"] == "false"
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert NotifySettings().scheduler_enabled is False, "notify must read the variable as set"


def test_base_secret_values_are_marked_placeholders() -> None:
    secret = of_kind(rendered("base"), "Secret")["dx-secrets"]
    for key, value in secret["stringData"].items():
        assert "REPLACE_ME" in value, f"{key} must be an obvious placeholder in the base"


def test_production_overlay_pins_the_release_and_scales_out() -> None:
    docs = rendered("production")
    text = yaml.safe_dump_all(docs)
    assert "REPLACE_ME" not in text, "no placeholder may reach production"
    for _name, spec in pod_specs(docs):
        for container in containers(spec):
            repository, _, tag = container["image"].rpartition(":")
            assert "/" in repository, "a registry path, not a local image"
            assert tag, container["image"]
            assert tag != "latest", container["image"]
    (config,) = (c for n, c in of_kind(docs, "ConfigMap").items() if n.startswith("dx-config"))
    base_config = next(
        c for n, c in of_kind(rendered("base"), "ConfigMap").items() if n.startswith("dx-config")
    )
    assert config["data"]["DX_KAFKA_BOOTSTRAP"] != base_config["data"]["DX_KAFKA_BOOTSTRAP"]
    partitions = int(config["data"]["DX_KAFKA_PARTITIONS"])
    autoscalers = of_kind(docs, "HorizontalPodAutoscaler")
    for name, deployment in of_kind(docs, "Deployment").items():
        replicas = deployment["spec"]["replicas"]
        assert replicas >= 2, f"{name}: production runs at least two replicas"
        assert replicas == autoscalers[name]["spec"]["minReplicas"], name
        if name in {"indicators", "scoring", "notify"}:
            assert autoscalers[name]["spec"]["maxReplicas"] <= partitions, (
                f"{name}: replicas past {partitions} partitions sit idle"
            )
