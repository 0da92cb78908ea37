"""IP / CIDR allow lists."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from pytavern.errors import ConfigError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse_allow_list(entries: Iterable[str]) -> tuple[Network, ...]:
    """Parse addresses and CIDR ranges; loopback is always allowed."""
    networks: list[Network] = [
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    ]
    for entry in entries:
        text = entry.strip()
        if not text:
            continue
        try:
            networks.append(ipaddress.ip_network(text, strict=False))
        except ValueError:
            raise ConfigError(
                f"{text!r} in the allow list is not an IP address or CIDR range",
                hint="Write entries like 192.168.1.20 or 192.168.1.0/24",
            ) from None
    return tuple(networks)


def is_allowed(client_ip: str, networks: tuple[Network, ...]) -> bool:
    """True when ``client_ip`` falls in one of ``networks``."""
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address.version == net.version and address in net for net in networks)
