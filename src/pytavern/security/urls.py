"""Rules for backend URLs users give: who may point a connection at private addresses."""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from pytavern.errors import ConfigError


def _is_internal(address: str) -> bool:
    ip = ipaddress.ip_address(address)
    return (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or (ip.is_unspecified or ip.is_multicast)
    )


def resolve_addresses(host: str) -> list[str]:
    """The IP addresses ``host`` resolves to (an IP literal resolves to itself)."""
    try:
        return [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return []
    return sorted({str(info[4][0]) for info in infos})


def check_backend_url(url: str, *, may_use_internal: bool) -> None:
    """Refuse a URL aimed at loopback or private addresses unless the user may use them."""
    host = urlsplit(url).hostname
    if not host:
        raise ConfigError(f"{url!r} is not a valid URL", hint="Give a full http(s):// URL")
    if may_use_internal:
        return
    internal = host.lower() == "localhost" or any(
        _is_internal(address) for address in resolve_addresses(host)
    )
    if internal:
        raise ConfigError(
            f"only an admin may point a connection at the internal address {host}",
            hint="Ask an admin to add this connection, or use a public backend URL",
        )
