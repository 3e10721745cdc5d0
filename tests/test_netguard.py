import socket

import pytest

from godseye.netguard import NetworkAccessDenied


def test_non_loopback_connection_is_refused():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        with pytest.raises(NetworkAccessDenied):
            s.connect(("8.8.8.8", 53))
    finally:
        s.close()


def test_dns_lookup_of_public_host_is_refused():
    with pytest.raises(NetworkAccessDenied):
        socket.getaddrinfo("generativelanguage.googleapis.com", 443)


def test_loopback_is_allowed():
    srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    c = socket.create_connection(srv.getsockname(), timeout=2)
    c.close()
    srv.close()
