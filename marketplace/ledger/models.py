"""Ledger accounts, transactions and postings.

Invariants (checked in code, and by the database on PostgreSQL):
- a transaction's postings sum to zero per currency (a deferred constraint trigger on PostgreSQL);
- postings and transactions are append-only: never updated or deleted (triggers on PostgreSQL); corrections
  are reversing transactions;
- an idempotency key names exactly one transaction (UNIQUE), whose ``request_hash`` fingerprints its content;
- ``LedgerAccount.balance`` is the signed sum of the account's postings (debits positive), maintained in the
  same database transaction as the postings under a row lock, and recomputable at any time;
- ``normal_balance`` (balance in the account's natural sign) never goes below ``min_balance`` when that is
  set (credit limits, no negative escrow).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.db import Base, utcnow
from marketplace.modeltypes import one_of

ACCOUNT_TYPES = ("asset", "liability", "revenue", "expense")
# +1 where a debit increases the account's natural balance, -1 where a credit does.
NORMAL_SIGN = {"asset": 1, "expense": 1, "liability": -1, "revenue": -1}


class LedgerAccount(Base):
    __tablename__ = "ledger_accounts"
    __table_args__ = (
        one_of("type", ACCOUNT_TYPES),
        Index("ix_ledger_accounts_owner", "owner_type", "owner_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    type: Mapped[str] = mapped_column(String(16))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    owner_type: Mapped[str] = mapped_column(String(20), default="platform")
    owner_id: Mapped[int | None]
    balance: Mapped[int] = mapped_column(BigInteger, default=0)
    min_balance: Mapped[int | None] = mapped_column(BigInteger)
    posting_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    @property
    def normal_balance(self) -> int:
        return self.balance * NORMAL_SIGN[self.type]


class LedgerTransaction(Base):
    __tablename__ = "ledger_transactions"
    __table_args__ = (
        Index("ix_ledger_transactions_reference", "reference_type", "reference_id"),
        Index("ix_ledger_transactions_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    memo: Mapped[str] = mapped_column(Text, default="")
    reference_type: Mapped[str | None] = mapped_column(String(40))
    reference_id: Mapped[int | None]
    reverses_id: Mapped[int | None] = mapped_column(ForeignKey("ledger_transactions.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    postings: Mapped[list[Posting]] = relationship(back_populates="transaction", order_by="Posting.id")


class Posting(Base):
    __tablename__ = "ledger_postings"
    __table_args__ = (Index("ix_ledger_postings_account_id_id", "account_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    transaction_id: Mapped[int] = mapped_column(ForeignKey("ledger_transactions.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"))
    amount: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    balance_after: Mapped[int] = mapped_column(BigInteger)

    transaction: Mapped[LedgerTransaction] = relationship(back_populates="postings")
    account: Mapped[LedgerAccount] = relationship()
