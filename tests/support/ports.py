"""Free local ports for servers that tests and benchmarks start."""

from __future__ import annotations

import socket


def free_port() -> int:
    """A port free on 127.0.0.1 now; the caller binds it soon after (the race is harmless on
    a test machine, and a clash fails loudly at the server's start)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
