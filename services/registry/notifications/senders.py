"""The ways out for a message: ``log`` (the embedded default) and ``webhook`` (a JSON POST to
an SMS/WhatsApp gateway, signed with HMAC-SHA256 over the exact body). A sender makes one
attempt; the outbox schedules the retries (service.send_due), so a crash loses nothing."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Protocol

import httpx

from services.registry.notifications.rules import SIGNATURE_HEADER, sign
from services.registry.settings import RegistrySettings

logger = logging.getLogger("sinergi.registry.notifications")


@dataclass(frozen=True, slots=True)
class Outgoing:
    message_id: str
    to: str
    text: str
    template: str


@dataclass(frozen=True, slots=True)
class Outcome:
    """``sent``: the gateway took it; else ``retry`` says whether another attempt may succeed
    (5xx, 429, timeout, no connection) or not (any other answer: the message is at fault)."""

    sent: bool
    retry: bool = False
    error: str | None = None
    gateway_message_id: str | None = None


class Sender(Protocol):
    async def send(self, message: Outgoing) -> Outcome: ...

    async def aclose(self) -> None: ...


class LogSender:
    """Writes that a message went out, by id and template: never the number, never the text
    (an offer's code answers for the resident)."""

    async def send(self, message: Outgoing) -> Outcome:
        logger.info(
            "notification sent to the log",
            extra={"message_id": message.message_id, "template": message.template},
        )
        return Outcome(sent=True)

    async def aclose(self) -> None:
        return None


class WebhookSender:
    """``POST <url>`` with ``{"message_id", "to", "text"}``; ``X-Sinergi-Signature`` signs the
    body and ``Idempotency-Key`` repeats the message id, so a gateway that took a message
    whose answer was lost drops the retry."""

    def __init__(
        self,
        url: str,
        secret: str,
        *,
        timeout_seconds: float,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.url = url
        self.secret = secret
        self.client = httpx.AsyncClient(timeout=timeout_seconds, transport=transport)

    async def send(self, message: Outgoing) -> Outcome:
        body = json.dumps(
            {"message_id": message.message_id, "to": message.to, "text": message.text},
            separators=(",", ":"),
        ).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self.secret, body),
            "Idempotency-Key": message.message_id,
        }
        try:
            response = await self.client.post(self.url, content=body, headers=headers)
        except httpx.TimeoutException:
            return Outcome(sent=False, retry=True, error="timeout")
        except httpx.HTTPError as exc:
            return Outcome(sent=False, retry=True, error=type(exc).__name__)
        if response.is_success:
            gateway_id: str | None = None
            try:
                answer = response.json()
                if isinstance(answer, dict) and answer.get("id") is not None:
                    gateway_id = str(answer["id"])[:120]
            except ValueError:
                pass
            return Outcome(sent=True, gateway_message_id=gateway_id)
        retry = response.status_code >= 500 or response.status_code == 429
        return Outcome(sent=False, retry=retry, error=f"http {response.status_code}")

    async def aclose(self) -> None:
        await self.client.aclose()


def build_sender(
    settings: RegistrySettings, transport: httpx.AsyncBaseTransport | None = None
) -> Sender:
    if settings.notify_sender == "webhook":
        return WebhookSender(
            settings.notify_webhook_url,
            settings.notify_webhook_secret,
            timeout_seconds=settings.notify_webhook_timeout_seconds,
            transport=transport,
        )
    return LogSender()
