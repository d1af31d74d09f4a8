"""Runs INSIDE the neighbour namespace: try every target, print what happened to each (JSON).

Input (stdin): {"timeout": s, "targets": [{"host", "port", "protocol", "family": 4|6, ...}]}.
Each result gets an `outcome`: "open" (a TCP handshake completed, or a UDP datagram came back),
"refused" (something answered no), "dropped" (silence until the timeout) or "error" (the attempt
itself failed: nothing was tested). The caller judges; this file only reports (stdlib only, and it
cannot import lab: it runs with -I -S inside the namespace).
"""

from __future__ import annotations

import json
import os
import socket
import sys
from concurrent.futures import ThreadPoolExecutor


def attempt(target: dict, timeout: float) -> dict:
    host, port, proto = target["host"], int(target["port"]), target["protocol"]
    family = socket.AF_INET6 if target["family"] == 6 else socket.AF_INET
    kind = socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM
    result = dict(target)
    try:
        with socket.socket(family, kind) as sock:
            sock.settimeout(timeout)
            sock.connect((host, port))
            if kind == socket.SOCK_DGRAM:
                sock.send(os.urandom(8).hex().encode())
                reply = sock.recv(65535)
                result.update(outcome="open", detail=f"UDP reply of {len(reply)} bytes")
            else:
                result.update(outcome="open", detail="TCP handshake completed")
    except ConnectionRefusedError:
        result.update(outcome="refused", detail="refused")
    except TimeoutError:
        result.update(outcome="dropped", detail="no answer (dropped)")
    except OSError as exc:  # unreachable route, bad address...: nothing was tested, so no verdict
        result.update(outcome="error", detail=os.strerror(exc.errno) if exc.errno else str(exc))
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
