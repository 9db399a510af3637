"""What a ledger transaction was, in the reader's language.

A transaction's ``memo`` is the audit record, written once in English when the money moved (e.g. "Bank transfer
CNL000000123", "Card top-up pi_…", "Reversal of #12") and never rewritten. People read a description rendered
from the transaction's kind and reference through gettext instead; the only free text taken from the memo is
what no other column holds (the payment's id at Stripe, a bank's transfer reference). A memo this module does
not know is shown as it is: better English than nothing.

``describe`` is the whole sentence (wallet CSV, finance console); ``describe(..., with_reference=False)`` leaves
out "Order #12" / "Boost #3" for pages that link the reference themselves (the wallet's transaction list).
``kind_label`` names a kind (``marketplace.labels``).
"""

from __future__ import annotations

import re
from typing import Protocol

from flask_babel import gettext as _

from marketplace.labels import ledger_kind_label

_BANK_CODE = re.compile(r"\bCNL\d{9}\b")
_WITHDRAWAL_CODE = re.compile(r"\bCNW\d{9}\b")
_PAYMENT_INTENT = re.compile(r"\bpi_[A-Za-z0-9_]+\b")
_BANK_REFERENCE = re.compile(r"bank reference (.+)$")
_REJECTION = re.compile(r"rejected: (.+)$", re.S)

# Kinds the withdrawal flows add (marketplace.ledger.flows: hold / release / complete a brand withdrawal).
WITHDRAWAL_KINDS = frozenset({"hold_withdrawal", "release_withdrawal", "complete_withdrawal"})


class _Transaction(Protocol):
    kind: str
    memo: str
    reference_type: str | None
    reference_id: int | None
    reverses_id: int | None


def kind_label(kind: str) -> str:
    """The kind of a transaction, named in the reader's language."""
    return str(ledger_kind_label(kind))


def _withdrawal_code(txn: _Transaction) -> str:
    from marketplace.payments.withdrawals import withdrawal_code

    found = _WITHDRAWAL_CODE.search(txn.memo or "")
    if found:
        return found.group(0)
    return withdrawal_code(txn.reference_id) if txn.reference_type == "withdrawal" and txn.reference_id else ""


def _reference(txn: _Transaction) -> str:
    if txn.reference_type == "order" and txn.reference_id:
        return _("Order #%(id)s", id=txn.reference_id)
    if txn.reference_type == "boost" and txn.reference_id:
        return _("Boost #%(id)s", id=txn.reference_id)
    return ""


def describe(txn: _Transaction, *, with_reference: bool = True) -> str:
    """The transaction's description in the current language ("" when there is nothing to say)."""
    kind, memo = txn.kind, (txn.memo or "").strip()
    text = ""
    if kind.startswith("reversal:") and txn.reverses_id:
        text = _("Reversal of #%(id)s", id=txn.reverses_id)
    elif kind == "top_up:bank":
        found = _BANK_CODE.search(memo)
        if found:
            text = _("Bank transfer %(code)s", code=found.group(0))
        elif txn.reference_type == "top_up" and txn.reference_id:
            from marketplace.payments.services import reference_code

            text = _("Bank transfer %(code)s", code=reference_code(txn.reference_id))
        elif memo:
            text = memo
    elif kind == "top_up:stripe":
        found = _PAYMENT_INTENT.search(memo)
        text = _("Card top-up %(payment)s", payment=found.group(0)) if found else _("Card top-up")
    elif kind in WITHDRAWAL_KINDS:
        code = _withdrawal_code(txn)
        if kind == "hold_withdrawal":
            text = _("Withdrawal %(code)s requested: the amount is held", code=code)
        elif kind == "release_withdrawal":
            found = _REJECTION.search(memo)
            if found:
                text = _("Withdrawal %(code)s rejected, returned to the balance: %(reason)s", code=code,
                         reason=found.group(1).strip())
            else:
                text = _("Withdrawal %(code)s cancelled, returned to the balance", code=code)
        else:
            found = _BANK_REFERENCE.search(memo)
            text = (_("Withdrawal %(code)s paid, bank reference %(reference)s", code=code,
                      reference=found.group(1).strip()) if found else _("Withdrawal %(code)s paid", code=code))
    elif memo:
        text = memo
    if with_reference:
        reference = _reference(txn)
        if reference:
            text = f"{text} · {reference}" if text else reference
    return text
