"""Top-ups and the Stripe events that confirm them; brand withdrawals.

Invariants: a top-up credits the wallet at most once (its ledger key is ``topup:<id>``); a card top-up is
credited only from a verified Stripe webhook; every Stripe event is stored by its id (primary key) and
processed exactly once; a bank top-up carries a reference code with a Luhn check digit and is credited with the
amount finance confirms was actually received.

A withdrawal (提现) holds its amount from the wallet when it is requested (ledger key ``withdrawal:<id>:hold``) and
is then paid (``…:complete``) or returned (``…:release``) exactly once; ``marketplace.payments.withdrawals``.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.accounts.models import User
from marketplace.db import Base, utcnow
from marketplace.enterprises.models import Enterprise
from marketplace.modeltypes import one_of

TOP_UP_METHODS = ("card", "bank")
TOP_UP_STATES = ("pending", "completed", "cancelled", "failed")


class TopUp(Base):
    __tablename__ = "top_ups"
    __table_args__ = (
        one_of("method", TOP_UP_METHODS),
        one_of("state", TOP_UP_STATES),
        Index("ix_top_ups_enterprise_id_id", "enterprise_id", "id"),
        Index("ix_top_ups_state_method", "state", "method"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="RESTRICT"))
    method: Mapped[str] = mapped_column(String(8))
    state: Mapped[str] = mapped_column(String(12), default="pending")
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    amount_requested: Mapped[int] = mapped_column(BigInteger)
    amount_received: Mapped[int | None] = mapped_column(BigInteger)
    fee: Mapped[int] = mapped_column(BigInteger, default=0)
    reference_code: Mapped[str | None] = mapped_column(String(20), unique=True)
    stripe_session_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    stripe_payment_intent: Mapped[str | None] = mapped_column(String(255))
    payment_method_types: Mapped[str] = mapped_column(String(60), default="")
    ledger_transaction_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transactions.id"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    completed_at: Mapped[datetime | None]

    enterprise: Mapped[Enterprise] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class StripeEvent(Base):
    """A Stripe webhook event, stored by its id the first time it arrives (replays find it there)."""

    __tablename__ = "stripe_events"

    id: Mapped[str] = mapped_column(String(255), primary_key=True)
    type: Mapped[str] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    processed_at: Mapped[datetime | None]
    outcome: Mapped[str] = mapped_column(String(200), default="")


class CreditLine(Base):
    """A credit limit granted by finance to a verified enterprise (mirrored as its wallet's floor)."""

    __tablename__ = "credit_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="CASCADE"), unique=True)
    limit: Mapped[int] = mapped_column(BigInteger, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    reason: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    enterprise: Mapped[Enterprise] = relationship()
    updated_by: Mapped[User | None] = relationship()


WITHDRAWAL_STATES = ("pending", "paid", "rejected", "cancelled")


class Withdrawal(Base):
    """A brand's request to pay unused balance back to the enterprise's bank account (提现)."""

    __tablename__ = "withdrawals"
    __table_args__ = (
        one_of("state", WITHDRAWAL_STATES),
        Index("ix_withdrawals_enterprise_id_id", "enterprise_id", "id"),
        Index("ix_withdrawals_state_id", "state", "id"),
        UniqueConstraint("enterprise_id", "request_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id", ondelete="RESTRICT"))
    # The form's one-time token: submitting the same form twice makes one withdrawal.
    request_key: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(12), default="pending")
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    amount: Mapped[int] = mapped_column(BigInteger)
    account_name: Mapped[str] = mapped_column(String(200))
    bank_name: Mapped[str] = mapped_column(String(120))
    account_number: Mapped[str] = mapped_column(String(40))
    bank_reference: Mapped[str] = mapped_column(String(80), default="")
    reason: Mapped[str] = mapped_column(Text, default="")
    hold_transaction_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transactions.id"))
    settle_transaction_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transactions.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]

    enterprise: Mapped[Enterprise] = relationship()
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
