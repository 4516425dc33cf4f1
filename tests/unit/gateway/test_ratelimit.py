import pytest

from services.gateway.ratelimit import RateLimiter


@pytest.mark.parametrize(
    ("per_minute", "calls_at", "expected_waits"),
    [
        pytest.param(None, [0, 0, 0], [0, 0, 0], id="no-limit"),
        pytest.param(0, [0, 0, 0], [0, 0, 0], id="zero-means-unlimited"),
        pytest.param(2, [0, 0, 0], [0, 0, 30.0], id="burst-then-wait"),
        pytest.param(60, [0] * 60 + [0.5, 1.0], [0] * 60 + [0.5, 0], id="refills-per-second"),
    ],
)
def test_token_bucket(
    per_minute: int | None, calls_at: list[float], expected_waits: list[float]
) -> None:
    limiter = RateLimiter()
    waits = [limiter.check("k", per_minute, now=t) for t in calls_at]
    assert waits == pytest.approx(expected_waits)


def test_keys_have_their_own_buckets() -> None:
    limiter = RateLimiter()
    assert limiter.check("a", 1, now=0) == 0
    assert limiter.check("a", 1, now=0) > 0
    assert limiter.check("b", 1, now=0) == 0


@pytest.mark.parametrize(("wait", "header"), [(0.01, "1"), (1.0, "1"), (1.2, "2"), (30, "30")])
def test_retry_after_is_whole_seconds(wait: float, header: str) -> None:
    assert RateLimiter.retry_after_header(wait) == header
