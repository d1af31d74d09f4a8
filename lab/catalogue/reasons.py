"""One place that turns client exceptions into the reasons a person reads."""

from __future__ import annotations

import errno
import socket


def reason_for(exc: BaseException) -> str:
    """Name why a connection attempt failed: refused, timed out, reset, unreachable..."""
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timed out"
    if isinstance(exc, ConnectionResetError):
        return "connection reset"
    if isinstance(exc, OSError) and exc.errno in (errno.ENETUNREACH, errno.EHOSTUNREACH):
        return "unreachable"
    if isinstance(exc, OSError) and exc.errno == errno.EADDRNOTAVAIL:
        return "address not available"
    text = str(exc).strip().splitlines()
    lowered = " ".join(text).lower()
    if "refused" in lowered:
        return "connection refused"
    if "timed out" in lowered or "timeout" in lowered:
        return "timed out"
    if "password" in lowered or "auth" in lowered:
        return "auth failed"
    return f"{type(exc).__name__}: {text[0] if text else 'no detail'}"
