"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, and the Airflow connection to it."""

from __future__ import annotations

import email
import email.policy
import socket
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage

from aiosmtpd.controller import Controller

FROM = "imagepool@example.com"


@dataclass(frozen=True)
class Mail:
    sender: str
    recipients: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        return str(self.message["subject"])

    @property
    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html", "plain"))
        return part.get_content() if part else ""


class _Keeper:
    def __init__(self):
        self.received: list[Mail] = []
        self.changed = threading.Condition()

    async def handle_DATA(self, server, session, envelope):
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self.changed:
            self.received.append(Mail(envelope.mail_from, list(envelope.rcpt_tos), parsed))  # type: ignore[arg-type]
            self.changed.notify_all()
        return "250 Message accepted for delivery"


class Mailbox:
    """``with Mailbox() as box:`` an SMTP server on 127.0.0.1 (a free port) until the block ends."""

    def __init__(self):
        self._keeper = _Keeper()
        # aiosmtpd checks its own start by connecting to the port it was given: it needs a real one.
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        self._controller = Controller(self._keeper, hostname="127.0.0.1", port=port)

    def __enter__(self) -> Mailbox:
        self._controller.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self._controller.stop()

    @property
    def port(self) -> int:
        return self._controller.port

    @property
    def received(self) -> list[Mail]:
        with self._keeper.changed:
            return list(self._keeper.received)

    def wait_for(self, count: int, timeout: float) -> list[Mail]:
        """The mails once at least ``count`` arrived (fewer after ``timeout`` seconds)."""
        deadline = time.monotonic() + timeout
        with self._keeper.changed:
            while len(self._keeper.received) < count and (left := deadline - time.monotonic()) > 0:
                self._keeper.changed.wait(left)
            return list(self._keeper.received)

    def connection(self) -> dict:
        """The Airflow ``smtp`` connection (as AIRFLOW_CONN_<ID> JSON takes it): plain SMTP on loopback."""
        return {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": self.port,
            "extra": {"from_email": FROM, "disable_tls": True, "disable_ssl": True, "timeout": 10, "retry_limit": 1},
        }
