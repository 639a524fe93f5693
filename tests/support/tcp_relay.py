"""A TCP relay from a loopback port to a server, in threads: a database that is
unreachable (connection refused) until the relay starts, and again once it stops; or one
that drops a connection the moment the client sends a given message (`cut`)."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def address(dsn: str) -> tuple[str, int]:
    """(host, port) of a postgresql:// URL."""
    parts = urlsplit(dsn)
    return parts.hostname or "127.0.0.1", parts.port or 5432


def through(dsn: str, port: int) -> str:
    """`dsn` reached at 127.0.0.1:`port`, where a relay to it may or may not listen."""
    parts = urlsplit(dsn)
    return parts._replace(netloc=f"{parts.username}@127.0.0.1:{port}").geturl()


class Cut:
    """Drop the first connection whose client sends `marker` (e.g. b"COMMIT\\x00", the text of
    a Parse message): the chunk holding it is forwarded first when `forward`; with `refuse`
    the relay then accepts no connection until the block ends."""

    def __init__(self, marker: bytes, *, forward: bool, refuse: bool = False) -> None:
        self.marker, self.forward, self.refuse = marker, forward, refuse
        self.done = threading.Event()


def _shutdown(*socks: socket.socket) -> None:
    for s in socks:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


def _pipe(src: socket.socket, dst: socket.socket, cut: Cut | None = None) -> None:
    try:
        while data := src.recv(65536):
            if cut is not None and not cut.done.is_set() and cut.marker in data:
                # done before the client can notice: a reconnect it makes at once is refused
                cut.done.set()
                _shutdown(src)  # no answer can reach the client any more
                if cut.forward:  # the server reads it before the end of the stream
                    dst.sendall(data)
                break
            dst.sendall(data)
    except OSError:
        pass
    finally:
        _shutdown(src, dst)


@contextmanager
def relay(port: int, target: tuple[str, int], cut: Cut | None = None) -> Iterator[None]:
    """Forward 127.0.0.1:`port` to `target` until the block ends (see Cut for `cut`)."""
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen()
    open_sockets: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # the listener was closed
            if cut is not None and cut.refuse and cut.done.is_set():
                client.close()
                continue
            server = socket.create_connection(target)
            open_sockets.extend((client, server))
            for a, b, c in ((client, server, cut), (server, client, None)):
                threading.Thread(target=_pipe, args=(a, b, c), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield
    finally:
        listener.shutdown(socket.SHUT_RDWR)
        listener.close()
        thread.join(10)
        for s in open_sockets:
            s.close()
