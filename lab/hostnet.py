"""Facts about the host's network that decide what gets published."""

from __future__ import annotations

import functools
import os
import socket
from pathlib import Path

from lab import addr


@functools.cache
def has_ipv6_loopback() -> bool:
    """True when a socket can bind [::1] — the per-host test for publishing on ::1 too."""
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as sock:
            sock.bind(("::1", 0))
        return True
    except OSError:
        return False


def ca_bundle() -> Path | None:
    """The host's CA bundle, which builds that fetch over TLS get as a secret (proxies re-sign TLS)."""
    for candidate in (
        os.environ.get("LAB_CA_BUNDLE"),
        os.environ.get("SSL_CERT_FILE"),
        os.environ.get("REQUESTS_CA_BUNDLE"),
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/ssl/cert.pem",
    ):
        if candidate and Path(candidate).is_file():
            return Path(candidate)
    try:
        import certifi  # shipped with requests
    except ImportError:
        return None
    return Path(certifi.where())


def port_is_free(host: str, port: int, protocol: str) -> bool:
    kind = socket.SOCK_STREAM if protocol == "tcp" else socket.SOCK_DGRAM
    try:
        with socket.socket(addr.family(host), kind) as sock:
            sock.bind((host, port))
    except OSError:  # held, or the family is gone: either way we cannot publish there
        return False
    return True
