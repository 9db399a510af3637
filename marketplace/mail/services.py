"""Queue emails in the outbox and deliver them.

``queue_email`` renders ``templates/mail/<kind>.txt`` (and ``.html`` when present) in the recipient's
language and adds the row to the session; it sends nothing. ``deliver_pending`` (the ``mail.deliver`` job)
sends what is queued: to the console/log in the embedded default, over SMTP when configured. It claims rows
one at a time, so two runners never send the same email twice.
"""

from __future__ import annotations

import logging
import smtplib
from datetime import datetime
from email.message import EmailMessage

from flask import current_app, render_template
from flask_babel import force_locale
from jinja2 import TemplateNotFound
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from marketplace.db import utcnow
from marketplace.mail.models import OutboxEmail

log = logging.getLogger("canal.mail")
MAX_ATTEMPTS = 5


def queue_email(session: Session, *, to: str, kind: str, subject: str, locale: str = "en", **context) -> OutboxEmail:
    """Render an email in ``locale`` and put it in the outbox."""
    with force_locale(locale):
        subject_text = str(subject)
        text = render_template(f"mail/{kind}.txt", **context)
        try:
            html = render_template(f"mail/{kind}.html", **context)
        except TemplateNotFound:
            html = ""
    email = OutboxEmail(to_address=to, kind=kind, subject=subject_text, body_text=text, body_html=html)
    session.add(email)
    session.flush()
    return email


def _send_smtp(email: OutboxEmail) -> None:
    cfg = current_app.config
    message = EmailMessage()
    message["From"] = cfg["MAIL_FROM"]
    message["To"] = email.to_address
    message["Subject"] = email.subject
    message.set_content(email.body_text)
    if email.body_html:
        message.add_alternative(email.body_html, subtype="html")
    with smtplib.SMTP(cfg["SMTP_HOST"], cfg["SMTP_PORT"], timeout=20) as smtp:
        if cfg["SMTP_STARTTLS"]:
            smtp.starttls()
        if cfg["SMTP_USERNAME"]:
            smtp.login(cfg["SMTP_USERNAME"], cfg["SMTP_PASSWORD"])
        smtp.send_message(message)


def deliver_pending(session: Session, now: datetime | None = None, limit: int = 100) -> int:
    """Send up to ``limit`` queued emails; return how many were sent. Safe to run concurrently."""
    now = now or utcnow()
    ids = session.scalars(
        select(OutboxEmail.id)
        .where(OutboxEmail.sent_at.is_(None), OutboxEmail.attempts < MAX_ATTEMPTS)
        .order_by(OutboxEmail.id)
        .limit(limit)
    ).all()
    sent = 0
    for email_id in ids:
        # Claim the row: only one runner's UPDATE matches while sent_at is NULL.
        claimed = session.execute(
            update(OutboxEmail)
            .where(OutboxEmail.id == email_id, OutboxEmail.sent_at.is_(None))
            .values(sent_at=now, attempts=OutboxEmail.attempts + 1)
        ).rowcount
        session.commit()
        if not claimed:
            continue
        email = session.get(OutboxEmail, email_id)
        try:
            if current_app.config["MAIL_BACKEND"] == "smtp":
                _send_smtp(email)
            else:
                log.info("email to %s: %s\n%s", email.to_address, email.subject, email.body_text)
                print(f"\n--- email to {email.to_address}: {email.subject}\n{email.body_text}\n---", flush=True)
            sent += 1
        except (OSError, smtplib.SMTPException) as exc:
            session.execute(
                update(OutboxEmail).where(OutboxEmail.id == email_id).values(sent_at=None, last_error=str(exc)[:500])
            )
            session.commit()
            log.warning("email %s not sent: %s", email_id, exc)
    return sent
