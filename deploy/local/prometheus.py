"""A Prometheus server on a local cluster: scrapes every process, evaluates the alert rules.

Uses the ``prometheus`` binary of the Debian package (``bash scripts/install-test-tools.sh``
installs it). The configuration is generated from the running cluster: one scrape job per
service, named after it, and ``rule_files`` pointing at ``deploy/prometheus/alerts.yml``, so the
rules are the ones production loads. The server listens on a free loopback port, never 9090.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from deploy.local.cluster import answers_ok, free_port, stop, wait_until

ALERTS = Path(__file__).resolve().parents[1] / "prometheus" / "alerts.yml"
INSTALL_HINT = "install the Debian package `prometheus` (`bash scripts/install-test-tools.sh` does)"


def config(
    services: Mapping[str, str], *, interval: str = "1s", rules: Path = ALERTS
) -> dict[str, Any]:
    """Scrape each of ``services`` (name -> base URL) every ``interval``; evaluate ``rules``."""
    jobs = []
    for name, url in services.items():
        scheme, _, address = url.partition("://")
        jobs.append(
            {
                "job_name": name,
                "scheme": scheme,
                "metrics_path": "/metrics",
                # As in deploy/prometheus/prometheus.yml: every dx_* series keeps its own
                # `service` label instead of it being renamed to exported_service.
                "honor_labels": True,
                "static_configs": [{"targets": [address], "labels": {"component": name}}],
            }
        )
    return {
        "global": {
            "scrape_interval": interval,
            "scrape_timeout": interval,
            "evaluation_interval": interval,
            "external_labels": {"platform": "dx-tracker", "environment": "local"},
        },
        "rule_files": [str(rules.resolve())],
        "scrape_configs": jobs,
    }


def binary() -> str:
    """The path of the ``prometheus`` server; a clear error when it is not installed."""
    path = shutil.which("prometheus")
    if path is None:
        raise FileNotFoundError(f"`prometheus` is not on PATH: {INSTALL_HINT}")
    return path


@contextmanager
def prometheus(
    services: Mapping[str, str],
    *,
    workdir: Path,
    interval: str = "1s",
    port: int | None = None,
    timeout: float = 60,
) -> Iterator[str]:
    """Run Prometheus on ``services`` until the block ends; yields its URL.

    ``workdir`` receives ``prometheus.yml``, the TSDB (``data/``) and ``prometheus.log``.
    """
    executable = binary()
    workdir.mkdir(parents=True, exist_ok=True)
    config_file = workdir / "prometheus.yml"
    config_file.write_text(
        yaml.safe_dump(config(services, interval=interval), sort_keys=False), encoding="utf-8"
    )
    address = f"127.0.0.1:{port or free_port()}"
    url = f"http://{address}"
    with (workdir / "prometheus.log").open("wb") as log:
        process = subprocess.Popen(
            [
                executable,
                f"--config.file={config_file}",
                f"--storage.tsdb.path={workdir / 'data'}",
                f"--web.listen-address={address}",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:

            def started() -> bool:
                if process.poll() is not None:
                    raise RuntimeError(
                        f"prometheus exited with {process.returncode}; see {log.name}"
                    )
                return answers_ok(f"{url}/-/ready")

            wait_until(started, timeout=timeout, what=f"prometheus (log: {log.name})")
            yield url
        finally:
            stop(process)
