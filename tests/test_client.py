"""The client's building blocks: the shared limiter, Retry-After, URL rules."""

from __future__ import annotations

import pytest

from syncer.client import AdaptiveLimiter, check_api_url, is_losant_host, retry_after_seconds
from syncer.errors import SyncerError


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 3))
        self.now += seconds


@pytest.fixture
def fake() -> FakeClock:
    return FakeClock()


@pytest.fixture
def limiter(fake: FakeClock) -> AdaptiveLimiter:
    """The shared limiter on a clock the test moves (sleeping only advances it)."""
    return AdaptiveLimiter(fake.clock, fake.sleep)


def test_limiter_is_free_until_the_first_429(fake: FakeClock, limiter: AdaptiveLimiter) -> None:
    for _ in range(5):
        limiter.acquire()
    assert fake.slept == []


def test_a_429_pauses_every_request_then_spaces_them_out(fake: FakeClock, limiter: AdaptiveLimiter) -> None:
    limiter.throttled(retry_after=2.0)
    for _ in range(3):  # three workers: all wait for the pause, then go one interval apart
        limiter.acquire()
    assert fake.slept == [2.0, 0.05, 0.05]
    limiter.throttled(retry_after=None)  # no Retry-After: the doubled interval is the pause
    assert limiter.interval == pytest.approx(0.1)


def test_successes_shrink_the_spacing_back_to_nothing(limiter: AdaptiveLimiter) -> None:
    limiter.throttled(retry_after=0)
    for _ in range(100):
        limiter.succeeded()
    assert limiter.interval == 0.0


def test_retry_after_parsing() -> None:
    assert retry_after_seconds("3", cap=60) == 3.0
    assert retry_after_seconds("0.5", cap=60) == 0.5
    assert retry_after_seconds("3600", cap=60) == 60.0
    assert retry_after_seconds(None, cap=60) is None
    assert retry_after_seconds("soon", cap=60) is None
    date = "Wed, 21 Oct 2015 07:28:10 GMT"
    assert retry_after_seconds(date, cap=60, now=lambda: 1445412480.0) == 10.0


@pytest.mark.parametrize(
    "url", ["https://api.losant.com", "http://127.0.0.1:8765", "http://localhost:1", "http://[::1]:80"]
)
def test_allowed_api_urls(url: str) -> None:
    assert check_api_url(url + "/") == url


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://api.losant.com", "the token would travel unencrypted"),
        ("http://10.0.0.5", "the token would travel unencrypted"),
        ("ftp://x", "is not an http(s) URL"),
        ("api.losant.com", "is not an http(s) URL"),
        ("https://user:pw@api.losant.com", "holds a user name or password"),
        ("https://token@api.losant.com", "holds a user name or password"),
        ("https://api.losant.com?x=1", "has a query or fragment"),
        ("https://api.losant.com/#frag", "has a query or fragment"),
        ("https://api.losant.com?", "has a query or fragment"),
        ("https://api.losant.com\n", "whitespace or control characters"),
        ("https://api.losant.com\nX-Evil: 1", "whitespace or control characters"),
        (" https://api.losant.com", "whitespace or control characters"),
        ("https://api.losant.com\t", "whitespace or control characters"),
        ("https://api.losant.com\x00", "whitespace or control characters"),
        ("https://api .losant.com", "whitespace or control characters"),
        ("", "is empty"),
        ("https://api.losant.com:99999", "cannot be read"),
        ("https://api.losant.com:port", "cannot be read"),
        ("https://", "is not an http(s) URL"),
    ],
)
def test_refused_api_urls(url: str, why: str) -> None:
    with pytest.raises(SyncerError) as refused:
        check_api_url(url)
    message = refused.value.message
    assert why in message
    assert "\n" not in message
    assert "pw@" not in message  # the password itself is never repeated


@pytest.mark.parametrize(
    ("url", "losant"),
    [
        ("https://api.losant.com", True),
        ("https://api.eu.losant.com", True),
        ("https://losant.com", True),
        ("http://api.losant.com", False),
        ("https://api.losant.com.attacker.example", False),
        ("https://attacker.example/api.losant.com", False),
        ("https://notlosant.com", False),
        ("http://127.0.0.1:8765", False),
    ],
)
def test_which_urls_are_losant_hosts(url: str, losant: bool) -> None:
    assert is_losant_host(url) is losant


def test_a_burst_of_429s_from_requests_in_flight_together_counts_once() -> None:
    fake = FakeClock()
    limiter = AdaptiveLimiter(fake.clock, fake.sleep)
    for _ in range(8):  # eight workers told "429" at the same moment
        limiter.throttled(retry_after=0)
    assert limiter.interval == pytest.approx(0.05)
    fake.now += 1
    limiter.throttled(retry_after=0)  # a later 429: the storm goes on, slow down further
    assert limiter.interval == pytest.approx(0.1)


def test_redactor_replaces_every_known_secret_longest_first() -> None:
    from syncer.secrets import Redactor

    redact = Redactor(["s3cret-1", "s3cret-12", "abc", "line\nbreak"])
    assert redact("a s3cret-12 b s3cret-1 c abc") == "a *** b *** c abc"  # 3 characters: too short to hunt
    assert redact('{"key": "line\\nbreak"}') == '{"key": "***"}'
    redact.add(["late-secret"])
    assert redact("x late-secret") == "x ***"
    many = Redactor(f"value-{i:05d}" for i in range(20000))
    assert many("value-01234 and value-99999") == "*** and value-99999"
