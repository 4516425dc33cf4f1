"""Forwarding: the path a service receives decodes to exactly the path the gateway signed."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.gateway.routing import forwarded_path


@given(st.text())
def test_any_decoded_path_reaches_the_service_unchanged(text: str) -> None:
    path = f"/api/v1/agencies/{text}"
    assert httpx.URL(f"http://indicators{forwarded_path(path)}").path == path


@pytest.mark.parametrize(
    ("path", "sent"),
    [
        pytest.param("/api/v1/agencies/P01", "/api/v1/agencies/P01", id="plain"),
        pytest.param("/api/v1/agencies/\x13", "/api/v1/agencies/%13", id="control-character"),
        pytest.param("/api/v1/agencies/a\nb", "/api/v1/agencies/a%0Ab", id="newline"),
        pytest.param("/api/v1/agencies/..", "/api/v1/agencies/%2E%2E", id="dot-segment"),
        pytest.param("/api/v1/agencies/a?b#c", "/api/v1/agencies/a%3Fb%23c", id="query-marks"),
        pytest.param(
            "/api/v1/agencies/Hà Nội", "/api/v1/agencies/H%C3%A0%20N%E1%BB%99i", id="utf8"
        ),
    ],
)
def test_paths_are_sent_percent_encoded(path: str, sent: str) -> None:
    assert forwarded_path(path) == sent
