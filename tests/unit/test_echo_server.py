"""The echo service's server, run as a real process on a free loopback port (stdlib only, as in its image)."""

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

SERVER = Path(__file__).resolve().parents[2] / "services" / "echo" / "echo_server.py"


@pytest.fixture
def server():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "ECHO_HOST": "127.0.0.1",
        "ECHO_PORT": str(port),
        "ECHO_IDLE_TIMEOUT": "1",
        "ECHO_MAX_CONNECTIONS": "3",
    }
    proc = subprocess.Popen([sys.executable, str(SERVER)], env=env, stdout=subprocess.PIPE, text=True)
    assert "listening" in proc.stdout.readline()
    yield port, proc
    proc.kill()
    proc.wait()


def test_tcp_and_udp_echo_and_a_clean_stop(server):
    port, proc = server
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"ping")
        assert s.recv(10) == b"ping"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
        u.settimeout(5)
        u.sendto(b"pong", ("127.0.0.1", port))
        assert u.recvfrom(10)[0] == b"pong"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=5) == 0


def test_a_peer_that_does_not_read_is_not_buffered_without_bound(server):
    """8 MiB sent before reading a byte: the server stops reading (backpressure), nothing is lost."""
    port, _ = server
    data = os.urandom(8 * 2**20)
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        writer = threading.Thread(target=s.sendall, args=(data,))
        writer.start()
        time.sleep(0.5)  # not a wait for an event: reading late is the point, and any delay must pass
        got = bytearray()
        while len(got) < len(data):
            got += s.recv(1 << 20)
        writer.join()
    assert bytes(got) == data


def test_connections_beyond_the_cap_are_cut_and_idle_ones_closed(server):
    port, _ = server
    held = [socket.create_connection(("127.0.0.1", port), timeout=30) for _ in range(3)]
    start = time.monotonic()  # held[0] is idle from its round trip below, which comes after this
    for s in held:  # an answered round trip: the server has accepted (and counts) this connection
        s.sendall(b"h")
        assert s.recv(1) == b"h"
    with socket.create_connection(("127.0.0.1", port), timeout=30) as extra:
        # Cut without an echo. The server's abort races our byte: closed before it arrived is a FIN
        # (recv gives b""), after it a reset. Both are the cap at work; an echo would be its absence.
        try:
            extra.sendall(b"x")
            got = extra.recv(1)
        except (ConnectionResetError, BrokenPipeError):
            got = b""
        assert got == b""
    assert held[0].recv(1) == b""  # closed by the 1 s idle timeout, not at once (the 30 s bound only catches hangs)
    assert time.monotonic() - start > 0.5
    for s in held:
        s.close()
