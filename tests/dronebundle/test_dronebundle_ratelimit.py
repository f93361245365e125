"""The 1,000 requests/minute limit: the simulator counts a real sliding window per key, the
client-side limiter keeps a burst under it, and a 429 is a RateLimited with retry_after."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from skyform.errors import RateLimited
from skyform.sandbox.host import Running, SimulatorHost
from skyform_dronebundle.client import DroneBundleClient, sliding_window_limiter
from skyform_dronebundle.simulator.access import SANDBOX_KEY, SlidingWindow
from skyform_dronebundle.simulator.server import DroneBundleSimulator

LIMIT, WINDOW = 20, 2.0


@pytest.fixture
def tight() -> Iterator[Running]:
    """A simulator allowing 20 requests per 2 seconds per key (the real one: 1,000 per 60)."""
    with SimulatorHost() as host:
        yield host.start(DroneBundleSimulator(rate_limit=LIMIT, rate_window=WINDOW))


def test_simulator_answers_429_with_retry_after_past_the_limit(tight) -> None:
    """Request 21 inside the window is rejected: 429, {message}, Retry-After in seconds."""
    url = tight.settings()["url"] + "/projects"
    headers = {"Authorization": f"Bearer {SANDBOX_KEY}"}
    with httpx.Client() as http:
        codes = [http.get(url, headers=headers).status_code for _ in range(LIMIT)]
        rejected = http.get(url, headers=headers)
    assert codes == [200] * LIMIT
    assert rejected.status_code == 429 and "message" in rejected.json()
    assert 1 <= int(rejected.headers["Retry-After"]) <= WINDOW


def test_the_window_slides(tight) -> None:
    """Once the oldest requests leave the window, requests are admitted again."""
    url = tight.settings()["url"] + "/projects"
    headers = {"Authorization": f"Bearer {SANDBOX_KEY}"}
    with httpx.Client() as http:
        for _ in range(LIMIT):
            http.get(url, headers=headers)
        assert http.get(url, headers=headers).status_code == 429
        time.sleep(WINDOW + 0.1)
        assert http.get(url, headers=headers).status_code == 200


def test_the_limit_is_per_key(tight) -> None:
    """Another key has its own window (refused for its own reasons, not rate-limited)."""
    url = tight.settings()["url"] + "/projects"
    with httpx.Client() as http:
        for _ in range(LIMIT + 1):
            http.get(url, headers={"Authorization": f"Bearer {SANDBOX_KEY}"})
        other = http.get(url, headers={"Authorization": "Bearer v1_someone_else"})
    assert other.status_code == 403


def test_a_429_becomes_rate_limited_with_retry_after(tight) -> None:
    """The provider's client raises RateLimited (the engine retries it) carrying the server's wish."""
    unthrottled = DroneBundleClient(tight.settings()["url"], SANDBOX_KEY, rate_limit=10_000)
    with pytest.raises(RateLimited) as caught:
        for _ in range(LIMIT + 1):
            list(unthrottled.list_projects())
    assert caught.value.status == 429
    assert caught.value.retry_after is not None and 1 <= caught.value.retry_after <= WINDOW
    assert "rate limit reached" in str(caught.value)


def test_the_client_limiter_keeps_a_burst_under_the_limit(tight) -> None:
    """30 requests through a client configured for 20 per 2 s: no 429, and it takes the time the
    limit demands (more than one window) rather than being rejected."""
    client = DroneBundleClient(tight.settings()["url"], SANDBOX_KEY, rate_limit=LIMIT, window=WINDOW)
    started = time.monotonic()
    for _ in range(30):
        list(client.list_projects())  # would raise RateLimited on a 429
    assert time.monotonic() - started >= WINDOW


def test_limiter_never_admits_more_than_the_limit_in_any_window() -> None:
    """Offline: timestamps from the limiter, checked against a sliding window of the same size."""
    limiter = sliding_window_limiter(LIMIT, WINDOW)
    window = SlidingWindow(LIMIT, WINDOW)
    deadline = time.monotonic() + 1.5
    while time.monotonic() < deadline:
        limiter.acquire()
        assert window.admit("k") is None


def test_the_default_limiter_targets_the_documented_1000_per_minute() -> None:
    """Default settings: burst plus a minute of refill stays below 1,000."""
    limiter = sliding_window_limiter(1000)
    assert limiter.capacity + limiter.rate * 60 < 1000
