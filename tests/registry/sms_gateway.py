"""A small SMS gateway for the notification tests: a real HTTP server on 127.0.0.1 (a thread
of the test process) that checks each message's signature and answers as scripted, 200, an
error status or too late, so the webhook sender's retries meet real sockets. Like a real
gateway it delivers a message id once, however often it is posted."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from services.registry.notifications.rules import SIGNATURE_HEADER, signature_valid

SECRET = "test-webhook-secret"


@dataclass
class Received:
    body: dict[str, Any]
    signature: str | None
    idempotency_key: str | None
    signed: bool


@dataclass
class SmsGateway:
    url: str
    # One answer per request, in order: a status code, or "slow" (answers after the sender
    # gave up); once used up, every request is answered 200.
    script: list[int | str] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    delivered: dict[str, dict[str, Any]] = field(default_factory=dict)
    slow_seconds: float = 1.5
    lock: threading.Lock = field(default_factory=threading.Lock)

    def next_answer(self) -> int | str:
        with self.lock:
            return self.script.pop(0) if self.script else 200


@contextlib.contextmanager
def sms_gateway(secret: str = SECRET) -> Iterator[SmsGateway]:
    state = SmsGateway(url="")

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            return None

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            signature = self.headers.get(SIGNATURE_HEADER)
            signed = signature_valid(secret, raw, signature)
            body = json.loads(raw)
            with state.lock:
                state.received.append(
                    Received(body, signature, self.headers.get("Idempotency-Key"), signed)
                )
            if not signed:
                self._answer(401, {"error": "bad signature"})
                return
            answer = state.next_answer()
            if answer == "slow":
                time.sleep(state.slow_seconds)
                self._answer(200, {"id": "late"})
                return
            assert isinstance(answer, int)
            if answer == 200 or answer == 599:
                # 599: taken, but the answer is lost on the way (answered as a 502).
                with state.lock:
                    state.delivered.setdefault(body["message_id"], body)
            status = 502 if answer == 599 else answer
            self._answer(status, {"id": "gw-" + body["message_id"][:8]})

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the sender gave up waiting: what a slow gateway sees

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.url = f"http://127.0.0.1:{server.server_address[1]}/messages"
    thread = threading.Thread(target=server.serve_forever, name="sms-gateway", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
