"""Refusing to listen on a network address without protection."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from pytavern.errors import ConfigError


@dataclass(frozen=True, slots=True)
class Protection:
    """Which protections are configured for a server."""

    accounts: bool = False
    basic_auth: bool = False
    allow_list: bool = False
    override: bool = False

    @property
    def any(self) -> bool:
        """True when at least one protection is on."""
        return self.accounts or self.basic_auth or self.allow_list


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.strip("[]").lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_listen(host: str, protection: Protection) -> None:
    """Raise ``ConfigError`` when ``host`` is reachable from a network with no protection."""
    if is_loopback_host(host) or protection.any or protection.override:
        return
    raise ConfigError(
        f"refusing to listen on {host} with no protection: anyone on the network could read "
        "your chats and use your API keys",
        hint="Turn on a protection: user accounts (PYTAVERN_ACCOUNTS=1, then "
        "`pytavern users add NAME --admin`), basic auth (PYTAVERN_BASIC_AUTH=user:password) "
        "or an IP allow list (PYTAVERN_ALLOW=192.168.1.0/24); or, knowingly, set "
        "PYTAVERN_INSECURE_LISTEN=1",
    )
