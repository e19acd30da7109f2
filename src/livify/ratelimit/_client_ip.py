"""The client's address: the socket peer, or forwarded by a trusted proxy."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

from livify.ratelimit._policy import IPNetwork
from livify.types import Scope

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
UNKNOWN_CLIENT = "unknown"
# One IPv6 customer usually gets a whole /64, so counting per address would
# give each of them 2**64 quotas.
IPV6_PREFIX_LENGTH = 64
# Parsing an address with `ipaddress` costs a few microseconds, a large
# share of a request, so parsed addresses and trust checks are cached.
DEFAULT_MAX_CACHED_ADDRESSES = 4096


class ClientIP:
    """Find a request's client address.

    The socket peer is the client unless it is in `trusted_proxies`. Then
    the `Forwarded` header (RFC 7239), or `X-Forwarded-For` when there is
    none, is read from the right: each proxy appends the address it received
    from, so the first address that is not a trusted proxy is the client.
    Headers from untrusted peers are ignored, as anyone can forge them.
    """

    def __init__(
        self,
        *,
        trusted_proxies: Iterable[str | IPNetwork] = (),
        max_cached_addresses: int = DEFAULT_MAX_CACHED_ADDRESSES,
    ) -> None:
        self.trusted_proxies = tuple(
            ipaddress.ip_network(item, strict=False) for item in trusted_proxies
        )
        self.max_cached_addresses = max_cached_addresses
        self._is_trusted_peer: dict[str, bool] = {}

    def __call__(self, scope: Scope) -> str:
        """Return the client's address as text, or `"unknown"` without a peer."""
        client = scope.get("client")
        peer = _canonical(client[0]) if client else None
        if peer is None:
            return UNKNOWN_CLIENT

        if not self.trusted_proxies or not self._is_trusted_text(peer):
            return peer

        chain = _forwarded_chain(scope)
        for address in reversed(chain):
            if not self.is_trusted(address):
                return str(address)

        # Every hop is a trusted proxy: the leftmost is the closest to the client.
        return str(chain[0] if chain else peer)

    def is_trusted(self, address: IPAddress) -> bool:
        return any(address in network for network in self.trusted_proxies)

    def _is_trusted_text(self, peer: str) -> bool:
        is_trusted = self._is_trusted_peer.get(peer)
        if is_trusted is None:
            address = _parse(peer)
            is_trusted = address is not None and self.is_trusted(address)
            if len(self._is_trusted_peer) >= self.max_cached_addresses:
                self._is_trusted_peer.clear()
            self._is_trusted_peer[peer] = is_trusted
        return is_trusted


def ip_key(address: str) -> str:
    """Return the counter key of an address: IPv4 as is, IPv6 as its /64 network."""
    return _ip_key(address)


@lru_cache(maxsize=4096)
def _ip_key(address: str) -> str:
    parsed = _parse(address)
    if parsed is None or parsed.version == 4:
        return address

    network = ipaddress.IPv6Network((parsed, IPV6_PREFIX_LENGTH), strict=False)
    return str(network)


@lru_cache(maxsize=DEFAULT_MAX_CACHED_ADDRESSES)
def _canonical(text: str) -> str | None:
    """Return the address in `text` in its standard form, or None when invalid."""
    address = _parse(text)
    return None if address is None else str(address)


@lru_cache(maxsize=DEFAULT_MAX_CACHED_ADDRESSES)
def _parse(text: str) -> IPAddress | None:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None

    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped

    return address


def _forwarded_chain(scope: Scope) -> list[IPAddress]:
    forwarded: list[str] = []
    x_forwarded_for: list[str] = []
    for name, value in scope.get("headers", ()):
        if name == b"forwarded":
            forwarded.append(value.decode("latin-1"))
        elif name == b"x-forwarded-for":
            x_forwarded_for.append(value.decode("latin-1"))

    if forwarded:
        texts = [_forwarded_for(element) for element in ",".join(forwarded).split(",")]
    else:
        texts = [item.strip() for item in ",".join(x_forwarded_for).split(",")]

    # An unparsable hop (an obfuscated `for=_hidden` or garbage) ends the
    # chain there: nothing left of it can be trusted.
    chain: list[IPAddress] = []
    for text in reversed(texts):
        address = _parse(text) if text else None
        if address is None:
            break
        chain.append(address)
    chain.reverse()
    return chain


def _forwarded_for(element: str) -> str:
    for pair in element.split(";"):
        name, _, value = pair.strip().partition("=")
        if name.lower() != "for":
            continue

        value = value.strip().strip('"')
        if value.startswith("["):
            return value[1 : value.find("]")]
        host, _, port = value.rpartition(":")
        return host if host and port.isdigit() and value.count(":") == 1 else value
    return ""
