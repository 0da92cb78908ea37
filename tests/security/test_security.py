"""Security building blocks: listen checks, passwords, allow lists, rate limits, CSRF, URLs."""

from __future__ import annotations

import pytest

from pytavern.errors import ConfigError
from pytavern.security.allowlist import is_allowed, parse_allow_list
from pytavern.security.csrf import csrf_token, csrf_valid
from pytavern.security.listen import Protection, check_listen, is_loopback_host
from pytavern.security.passwords import hash_password, verify_password
from pytavern.security.ratelimit import RateLimiter
from pytavern.security.urls import check_backend_url


@pytest.mark.parametrize("host", ["127.0.0.1", "127.5.0.1", "::1", "[::1]", "localhost"])
def test_loopback_hosts(host: str) -> None:
    assert is_loopback_host(host)
    check_listen(host, Protection())


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.5", "example.org"])
def test_network_hosts_need_protection(host: str) -> None:
    assert not is_loopback_host(host)
    with pytest.raises(ConfigError) as info:
        check_listen(host, Protection())
    assert "PYTAVERN_ACCOUNTS" in str(info.value) and "PYTAVERN_INSECURE_LISTEN" in str(info.value)
    check_listen(host, Protection(basic_auth=True))
    check_listen(host, Protection(override=True))


def test_passwords() -> None:
    stored = hash_password("correct horse")
    assert stored.startswith("$argon2id$") and "correct horse" not in stored
    assert verify_password(stored, "correct horse")
    assert not verify_password(stored, "wrong")
    assert not verify_password("garbage", "x")


def test_allow_list() -> None:
    networks = parse_allow_list(["192.168.1.0/24", "10.0.0.7", ""])
    assert is_allowed("192.168.1.99", networks)
    assert is_allowed("10.0.0.7", networks) and not is_allowed("10.0.0.8", networks)
    assert is_allowed("127.0.0.1", networks) and is_allowed("::1", networks)
    assert is_allowed("::ffff:192.168.1.3", networks)
    assert not is_allowed("8.8.8.8", networks) and not is_allowed("nonsense", networks)
    with pytest.raises(ConfigError, match="not an IP address"):
        parse_allow_list(["192.168.1.0/33x"])


def test_rate_limiter() -> None:
    now = [100.0]
    limiter = RateLimiter(limit=3, window=60, clock=lambda: now[0])
    for _ in range(3):
        assert limiter.retry_after("ip") == 0
        limiter.hit("ip")
    assert limiter.retry_after("ip") == pytest.approx(60)
    assert limiter.retry_after("other") == 0
    now[0] += 61
    assert limiter.retry_after("ip") == 0
    limiter.hit("ip")
    limiter.reset("ip")
    assert limiter.retry_after("ip") == 0


def test_csrf() -> None:
    token = csrf_token(b"secret", "session-1")
    assert csrf_valid(b"secret", "session-1", token)
    assert not csrf_valid(b"secret", "session-2", token)
    assert not csrf_valid(b"other", "session-1", token)
    assert not csrf_valid(b"secret", "session-1", None)


def test_backend_urls() -> None:
    for url in (
        "http://127.0.0.1:5000",
        "http://localhost:1234/v1",
        "http://192.168.0.2",
        "http://[::1]:8080",
        "http://169.254.169.254/latest",
    ):
        with pytest.raises(ConfigError, match="only an admin"):
            check_backend_url(url, may_use_internal=False)
        check_backend_url(url, may_use_internal=True)
    check_backend_url("https://93.184.216.34/v1", may_use_internal=False)
    with pytest.raises(ConfigError, match="not a valid URL"):
        check_backend_url("nonsense", may_use_internal=False)
