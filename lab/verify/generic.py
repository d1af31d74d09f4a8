"""Probes for a port lab knows nothing about (a project lab did not start): it answers, and what.

TCP: a connect, then a plain `GET /` to learn whether it speaks HTTP (its status line); a service that
accepts and never answers is reachable all the same, and costs one bounded read. UDP: a datagram; an
answer proves it, silence proves nothing (a UDP service may answer only its own protocol), so silence
is "no protocol probe", never a pass or a fail.
"""

from __future__ import annotations

import os
import re
import socket
import time
from dataclasses import dataclass

from lab import addr
from lab.catalogue import Endpoint

_STATUS = re.compile(rb"^HTTP/\d(?:\.\d)? (\d{3})")


@dataclass(frozen=True)
class Seen:
    reached: bool | None  # None: cannot tell (UDP silence)
    detail: str
    http_status: int | None = None


UDP_RETRY = 0.5  # s between datagrams while a UDP probe waits for an answer


def http_status(endpoint: Endpoint, timeout: float, host_header: str | None = None) -> int | None:
    """The status line's code of `GET /`, or None when the port does not answer HTTP in time."""
    try:
        with socket.create_connection((endpoint.host, endpoint.port), timeout=timeout) as s:
            host = host_header or addr.host_port(endpoint.host, endpoint.port)
            s.sendall(f"GET / HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            match = _STATUS.match(s.recv(64))
            return int(match.group(1)) if match else None
    except OSError:
        return None


def connects(endpoint: Endpoint, timeout: float, settle: float = 0.3) -> bool:
    """A connection that stays open (or greets): something is serving. docker-proxy accepts every
    connection on a published port, then closes it at once when nothing listens behind it — so a bare
    connect proves nothing there; a server never closes a fresh connection before reading from it."""
    try:
        with socket.create_connection((endpoint.host, endpoint.port), timeout=timeout) as s:
            s.settimeout(settle)
            try:
                return s.recv(1) != b""
            except TimeoutError:
                return True
    except OSError:
        return False


def probe(endpoint: Endpoint, timeout: float = 2.0) -> Seen:
    family = addr.family(endpoint.host)
    if endpoint.protocol == "udp":
        return _udp(endpoint, family, timeout)
    try:
        with socket.create_connection((endpoint.host, endpoint.port), timeout=timeout):
            pass
    except OSError as exc:
        return Seen(False, f"TCP connect failed: {exc.strerror or exc}")
    if not connects(endpoint, timeout):
        return Seen(False, "the connection was closed at once: nothing serves behind the published port")
    status = http_status(endpoint, timeout)
    if status is None:
        return Seen(True, "TCP connect (no HTTP answer; no protocol probe)")
    return Seen(True, f"HTTP GET / -> {status}", status)


def _udp(endpoint: Endpoint, family: socket.AddressFamily, timeout: float) -> Seen:
    """A datagram, sent again every UDP_RETRY until an answer or `timeout`: one datagram is easily lost on
    a loaded host, or sent before the service has bound its socket (a refusal then, an answer later)."""
    deadline = time.monotonic() + timeout
    last: OSError | None = None
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.connect((endpoint.host, endpoint.port))
        while (left := deadline - time.monotonic()) > 0:
            s.settimeout(min(UDP_RETRY, left))
            try:
                s.send(os.urandom(8).hex().encode())
                reply = s.recv(65535)
                return Seen(True, f"UDP reply of {len(reply)} bytes")
            except TimeoutError:
                continue
            except OSError as exc:  # a refusal (ICMP port unreachable): ask again until the deadline
                last = exc
                time.sleep(min(UDP_RETRY / 5, max(0.0, deadline - time.monotonic())))
    if last is not None:
        return Seen(False, f"UDP: {last.strerror or last}")
    return Seen(None, "no protocol probe: no reply to a datagram (a UDP service may answer only its own)")
