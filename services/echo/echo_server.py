#!/usr/bin/python3
"""TCP + UDP echo server (asyncio protocols, stdlib only).

Bounded resources: reads of at most 64 KiB (one buffer per connection), backpressure (a peer that does
not read pauses reading from it), a cap on concurrent TCP connections, a per-connection idle timeout.
Exits cleanly on SIGTERM/SIGINT.

Protocols, not streams: a stream handler's `wait_for(reader.read())` makes a task and a timer per read,
which was most of this server's cost per message; here bytes go from the socket to the transport with
no task at all, and idleness is checked once per timeout period, not re-armed per read.
"""

import asyncio
import os
import signal
import sys
import time

HOST = os.environ.get("ECHO_HOST", "0.0.0.0")
PORT = int(os.environ.get("ECHO_PORT", "65432"))
MAX_CONNECTIONS = int(os.environ.get("ECHO_MAX_CONNECTIONS", "256"))
IDLE_TIMEOUT = float(os.environ.get("ECHO_IDLE_TIMEOUT", "60"))
CHUNK = 64 * 1024
MAX_DATAGRAM = 65507


def log(msg: str) -> None:
    print(msg, flush=True)


class UDPEcho(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        if len(data) <= MAX_DATAGRAM:
            self.transport.sendto(data, addr)

    def error_received(self, exc):
        # e.g. ICMP port unreachable from a previous reply; ignore
        pass


class TCPEcho(asyncio.BufferedProtocol):
    """One connection: whatever arrives (at most CHUNK per read) is written back."""

    def __init__(self, live: set) -> None:
        self.live = live
        self.buffer = bytearray(CHUNK)
        self.transport = None
        self.last = time.monotonic()
        self.timer = None

    def connection_made(self, transport):
        if len(self.live) >= MAX_CONNECTIONS:
            transport.abort()
            return
        self.transport = transport
        self.live.add(self)
        self.timer = asyncio.get_running_loop().call_later(IDLE_TIMEOUT, self._idle)

    def get_buffer(self, sizehint):
        return self.buffer

    def buffer_updated(self, nbytes):
        self.last = time.monotonic()
        self.transport.write(bytes(self.buffer[:nbytes]))

    # The transport's write buffer is over its high-water mark: stop reading until the peer reads.
    def pause_writing(self):
        self.transport.pause_reading()

    def resume_writing(self):
        self.transport.resume_reading()

    def eof_received(self):
        return False  # the peer is done: close

    def connection_lost(self, exc):
        self.live.discard(self)
        if self.timer:
            self.timer.cancel()

    def _idle(self):
        quiet = time.monotonic() - self.last
        if quiet >= IDLE_TIMEOUT:
            self.transport.abort()
        else:
            self.timer = asyncio.get_running_loop().call_later(IDLE_TIMEOUT - quiet, self._idle)


async def main() -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    live: set = set()
    server = await loop.create_server(lambda: TCPEcho(live), HOST, PORT, reuse_address=True, backlog=128)
    udp_transport, _ = await loop.create_datagram_endpoint(UDPEcho, local_addr=(HOST, PORT))
    log(f"echo listening on tcp/udp {HOST}:{PORT}")

    await stop.wait()
    log("echo shutting down")
    server.close()
    udp_transport.close()
    for conn in list(live):
        conn.transport.abort()
    await asyncio.sleep(0)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main()))
    except OSError as exc:
        print(f"echo: {exc}", file=sys.stderr, flush=True)
        sys.exit(1)
