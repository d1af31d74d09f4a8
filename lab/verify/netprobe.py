"""Runs INSIDE the neighbour namespace: try every target, print what answered (JSON).

Input (stdin): {"timeout": s, "targets": [{"host", "port", "protocol"}...]}.
A TCP handshake that completes, or a UDP datagram that comes back, means reachable.
"""
from __future__ import annotations

import json
import os
import socket
import sys
from concurrent.futures import ThreadPoolExecutor


def attempt(target: dict, timeout: float) -> dict:
    host, port, proto = target["host"], int(target["port"]), target["protocol"]
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    result = dict(target)
    try:
        with socket.socket(family, kind) as sock:
            sock.settimeout(timeout)
            sock.connect((host, port))
            if kind == socket.SOCK_DGRAM:
                payload = os.urandom(8).hex().encode()
                sock.send(payload)
                reply = sock.recv(65535)
                result.update(reachable=True, detail=f"UDP reply of {len(reply)} bytes")
            else:
                result.update(reachable=True, detail="TCP handshake completed")
    except ConnectionRefusedError:
        result.update(reachable=False, detail="refused")
    except (socket.timeout, TimeoutError):
        result.update(reachable=False, detail="no answer (dropped)")
    except OSError as exc:  # unreachable route, bad address...: nothing was tested, so no verdict
        result.update(reachable=None, detail=os.strerror(exc.errno) if exc.errno else str(exc))
    return result


def main() -> int:
    request = json.load(sys.stdin)
    targets, timeout = request["targets"], float(request.get("timeout", 0.3))
    with ThreadPoolExecutor(max_workers=max(1, min(64, len(targets)))) as pool:
        results = list(pool.map(lambda t: attempt(t, timeout), targets))
    json.dump(results, sys.stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
