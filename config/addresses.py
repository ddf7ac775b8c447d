"""The client's address, behind the reverse proxies the installation names.

Any client can send an X-Forwarded-For header, so none is believed by default: the client is
REMOTE_ADDR. When REMOTE_ADDR is one of TRUSTED_PROXIES (addresses or CIDR networks), that
proxy appended the address it saw to the header, and the hops to its left came from whoever
connected to it; so the client is the right-most hop that is not itself a trusted proxy.
Whatever a client writes further left is never reached. A hop that is not an address where
one is needed (a forged or broken header) falls back to REMOTE_ADDR: never a 500.

The one answer for the sign-in throttle (AXES_CLIENT_IP_CALLABLE), the sign-in events and
every audit event that records an address.
"""

from functools import lru_cache
from ipaddress import IPv4Address, IPv6Address, ip_address, ip_network

from django.conf import settings
from django.http import HttpRequest

Address = IPv4Address | IPv6Address


@lru_cache(maxsize=8)
def _networks(entries: tuple[str, ...]) -> tuple:
    return tuple(ip_network(entry, strict=False) for entry in entries)


def _address(hop: str) -> Address | None:
    """One hop of the header: an address, also as "v4:port", "[v6]" or "[v6]:port"."""
    hop = hop.strip()
    if hop.startswith("["):
        hop = hop[1 : hop.find("]")] if "]" in hop else ""
    elif hop.count(":") == 1:
        hop = hop.split(":", 1)[0]
    try:
        return ip_address(hop)
    except ValueError:
        return None


def _trusted(address: Address, proxies: tuple) -> bool:
    if isinstance(address, IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return any(address.version == network.version and address in network for network in proxies)


def client_address(request: HttpRequest) -> str:
    """The address a request came from (see the module's docstring)."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = _networks(tuple(settings.TRUSTED_PROXIES))
    peer = _address(remote) if proxies else None
    if peer is None or not _trusted(peer, proxies):
        return remote
    header = request.META.get("HTTP_X_FORWARDED_FOR", "")
    hops = [hop for hop in header.split(",") if hop.strip()] if isinstance(header, str) else []
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:
            return remote
        if not _trusted(address, proxies):
            return str(address)
    # Every hop a trusted proxy (or no header): the request began at the left-most of them.
    first = _address(hops[0]) if hops else None
    return str(first) if first is not None else remote
