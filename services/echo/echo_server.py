#!/usr/bin/python3
"""TCP + UDP echo server (asyncio, stdlib only).

Bounded resources: reads of at most 64 KiB, writer.drain() for
backpressure, a cap on concurrent TCP connections, a per-connection idle
timeout.  Exits cleanly on SIGTERM/SIGINT.
"""

import asyncio
import os
import signal
import sys

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


class TCPEcho:
    def __init__(self) -> None:
        self.tasks: set[asyncio.Task] = set()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if len(self.tasks) >= MAX_CONNECTIONS:
            writer.transport.abort()
            return
        self.tasks.add(task)
        try:
            while True:
                data = await asyncio.wait_for(reader.read(CHUNK), IDLE_TIMEOUT)
                if not data:
                    break
                writer.write(data)
                await asyncio.wait_for(writer.drain(), IDLE_TIMEOUT)
        except (TimeoutError, ConnectionError, OSError):
            pass
        except asyncio.CancelledError:
            pass
        finally:
            self.tasks.discard(task)
            writer.transport.abort()


async def main() -> int:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    tcp = TCPEcho()
    server = await asyncio.start_server(tcp.handle, HOST, PORT, reuse_address=True, limit=CHUNK, backlog=128)
    udp_transport, _ = await loop.create_datagram_endpoint(UDPEcho, local_addr=(HOST, PORT))
    log(f"echo listening on tcp/udp {HOST}:{PORT}")

    await stop.wait()
    log("echo shutting down")
    server.close()
    udp_transport.close()
    for task in list(tcp.tasks):
        task.cancel()
    if tcp.tasks:
        await asyncio.wait(list(tcp.tasks), timeout=0.5)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(asyncio.run(main()))
    except OSError as exc:
        print(f"echo: {exc}", file=sys.stderr, flush=True)
        sys.exit(1)
