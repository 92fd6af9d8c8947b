"""Minimal HTTP/1.1 servers that answer every request with the same bytes: the floor beside serve.

Each reads a request head (these clients send GET without a body), writes the answer file's
bytes (a whole answer, head and body, captured from the loopback server) and keeps the
connection open. ``server_floor.py`` starts them as their own processes, as it starts serve.

    python benchmarks/_minimal_server.py {stdlib,threads,asyncio} ANSWER_FILE

- ``stdlib``: ``http.server.ThreadingHTTPServer`` with ``protocol_version = "HTTP/1.1"``, a
  thread per connection, its request parsing (the head, the headers as an email message).
- ``threads``: a raw socket per connection on its own thread, as serve's process model, with
  no parsing beyond finding the end of each head.
- ``asyncio``: one thread, an ``asyncio.Protocol`` per connection, no parsing either: the least
  a Python server can do per request.

The first line printed is the base URL; the server runs until it is terminated.
"""

from __future__ import annotations

import asyncio
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

END = b"\r\n\r\n"


def whole_heads(pending: bytes) -> tuple[bytes, int]:
    """What is left of ``pending`` after its whole request heads, and how many there were."""
    heads = pending.count(END)
    return (pending[pending.rindex(END) + len(END) :] if heads else pending), heads


def stdlib(answer: bytes) -> None:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    announce(server.server_address[1])
    server.serve_forever()


def threads(answer: bytes) -> None:
    def serve(connection: socket.socket) -> None:
        connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        pending = b""
        with connection:
            while data := connection.recv(65_536):
                pending, heads = whole_heads(pending + data)
                if heads:
                    connection.sendall(answer * heads)

    listener = socket.create_server(("127.0.0.1", 0), backlog=128)
    announce(listener.getsockname()[1])
    while True:
        connection, _ = listener.accept()
        threading.Thread(target=serve, args=(connection,), daemon=True).start()


class Answering(asyncio.Protocol):
    def __init__(self, answer: bytes) -> None:
        self.answer = answer
        self.pending = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.pending, heads = whole_heads(self.pending + data)
        if heads and self.transport is not None:
            self.transport.write(self.answer * heads)


async def serve_asyncio(answer: bytes) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Answering(answer), "127.0.0.1", 0, backlog=128)
    announce(server.sockets[0].getsockname()[1])
    await server.serve_forever()


def announce(port: int) -> None:
    print(f"http://127.0.0.1:{port}", flush=True)


def main() -> None:
    kind, path = sys.argv[1:3]
    answer = Path(path).read_bytes()
    if kind == "stdlib":
        stdlib(answer)
    elif kind == "threads":
        threads(answer)
    elif kind == "asyncio":
        asyncio.run(serve_asyncio(answer))
    else:
        raise SystemExit(f"unknown server {kind!r}: stdlib, threads or asyncio")


if __name__ == "__main__":
    main()
