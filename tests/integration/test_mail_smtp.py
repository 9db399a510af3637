"""With MAIL_BACKEND=smtp, the outbox job delivers through a real SMTP conversation (a local aiosmtpd server),
each email once, and keeps failed ones queued for a retry."""

from __future__ import annotations

import socket

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from marketplace.mail.models import OutboxEmail
from marketplace.mail.services import deliver_pending, queue_email


class Collector:
    def __init__(self):
        self.messages = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append(envelope)
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    collector = Collector()
    controller = Controller(collector, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, collector
    controller.stop()


@pytest.fixture
def smtp_config(app, smtp_server):
    controller, _ = smtp_server
    saved = {k: app.config[k] for k in ("MAIL_BACKEND", "SMTP_HOST", "SMTP_PORT", "SMTP_STARTTLS")}
    app.config.update(MAIL_BACKEND="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=controller.port, SMTP_STARTTLS=False)
    yield
    app.config.update(saved)


def test_outbox_is_delivered_over_smtp_once(session, smtp_server, smtp_config):
    _, collector = smtp_server
    email = queue_email(session, to="brand@example.com", kind="invitation", subject="Join Lumen on Canal",
                        inviter=type("U", (), {"display_name": "Chen"})(),
                        enterprise=type("E", (), {"display_name": "Lumen"})(), role="viewer",
                        link="http://canal.test/invitations/abc", days=7)
    assert deliver_pending(session) == 1
    assert deliver_pending(session) == 0  # already sent: not again
    assert len(collector.messages) == 1
    envelope = collector.messages[0]
    assert envelope.rcpt_tos == ["brand@example.com"]
    content = envelope.content.decode()
    assert "Subject: Join Lumen on Canal" in content
    assert "http://canal.test/invitations/abc" in content
    session.refresh(email)
    assert email.sent_at is not None and email.attempts == 1


def test_unreachable_smtp_keeps_the_email_queued(app, session, smtp_config):
    app.config["SMTP_PORT"] = _free_port()  # nobody listens there
    email = queue_email(session, to="brand@example.com", kind="invitation", subject="Join",
                        inviter=type("U", (), {"display_name": "Chen"})(),
                        enterprise=type("E", (), {"display_name": "Lumen"})(), role="viewer",
                        link="http://canal.test/x", days=7)
    assert deliver_pending(session) == 0
    session.refresh(email)
    assert email.sent_at is None and email.attempts == 1 and email.last_error
    queued = session.scalars(select(OutboxEmail).where(OutboxEmail.sent_at.is_(None))).all()
    assert email in queued
