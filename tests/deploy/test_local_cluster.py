"""`make cluster-up` (deploy/local/cluster.py): where its gateway listens."""

from __future__ import annotations

import pytest

from deploy.local.cluster import arguments


def test_gateway_port_comes_from_dx_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DX_PORT", "8123")
    assert arguments([]).port == 8123


def test_port_flag_wins_over_dx_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DX_PORT", "8123")
    assert arguments(["--port", "9001"]).port == 9001


def test_without_dx_port_the_gateway_takes_a_free_port(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DX_PORT", raising=False)
    assert arguments([]).port == 0
