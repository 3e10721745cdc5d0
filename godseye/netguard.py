"""Fail loudly on any connection that leaves this machine.

Tests (and every child process they start, through GODSEYE_NETWORK_GUARD=1) install this so an
accidental call to Gemini, Datadog or a model hub is an error rather than a silent hang or a leak.
Loopback and Unix sockets stay allowed: the local Datadog stand-in and HTTP MCP servers live there.
"""

from __future__ import annotations

import ipaddress
import os
import socket

ENV_FLAG = "GODSEYE_NETWORK_GUARD"
_installed = False


class NetworkAccessDenied(RuntimeError):
    """A test or offline run tried to reach a non-loopback address."""


def _is_loopback(host: object) -> bool:
    if not isinstance(host, str):
        return True  # AF_UNIX paths and similar
    if host in {"localhost", "", "ip6-localhost"}:
        return True
    try:
        return ipaddress.ip_address(host.split("%")[0]).is_loopback
    except ValueError:
        return False


def install() -> None:
    global _installed
    if _installed:
        return
    _installed = True
    real_connect = socket.socket.connect
    real_connect_ex = socket.socket.connect_ex
    real_sendto = socket.socket.sendto
    real_getaddrinfo = socket.getaddrinfo

    def _check(address: object) -> None:
        host = address[0] if isinstance(address, tuple) else address
        if not _is_loopback(host):
            raise NetworkAccessDenied(f"network guard: connection to {address!r} is not allowed offline")

    def connect(self, address):  # type: ignore[no-untyped-def]
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _check(address)
        return real_connect(self, address)

    def connect_ex(self, address):  # type: ignore[no-untyped-def]
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _check(address)
        return real_connect_ex(self, address)

    def sendto(self, data, *args):  # type: ignore[no-untyped-def]
        address = args[-1]
        if self.family in (socket.AF_INET, socket.AF_INET6):
            _check(address)
        return real_sendto(self, data, *args)

    def getaddrinfo(host, *args, **kwargs):  # type: ignore[no-untyped-def]
        if host is not None and not _is_loopback(host if isinstance(host, str) else host.decode()):
            raise NetworkAccessDenied(f"network guard: DNS lookup of {host!r} is not allowed offline")
        return real_getaddrinfo(host, *args, **kwargs)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]
    socket.socket.sendto = sendto  # type: ignore[method-assign]
    socket.getaddrinfo = getaddrinfo


def install_if_requested() -> None:
    if os.environ.get(ENV_FLAG) == "1":
        install()
