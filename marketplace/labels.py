"""Human labels (translated) for the codes stored in the database."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

STAFF_ROLE_LABELS = {
    "reviewer": _l("Reviewer"),
    "finance": _l("Finance staff"),
    "admin": _l("Administrator"),
}

LEDGER_KIND_LABELS = {
    "top_up:bank": _l("Top-up by bank transfer"),
    "top_up:stripe": _l("Top-up by card"),
    "fund_escrow": _l("Order funded (escrow)"),
    "release_escrow": _l("Order paid out"),
    "release_retention": _l("Live-window retention settled"),
    "refund_escrow": _l("Order refund"),
    "settle_escrow": _l("Dispute settled (order escrow)"),
    "hold_boost": _l("Boost budget held"),
    "spend_boost": _l("Boost spend"),
    "release_boost": _l("Unspent boost budget returned"),
    "clear_pending": _l("Earnings cleared"),
    "withhold_tax": _l("Tax withheld"),
    "start_payout": _l("Payout sent"),
    "complete_payout": _l("Payout confirmed"),
    "fail_payout": _l("Payout failed, returned"),
    "brand_withdrawal": _l("Withdrawal to bank"),
    "hold_withdrawal": _l("Withdrawal requested (held)"),
    "release_withdrawal": _l("Withdrawal returned"),
    "complete_withdrawal": _l("Withdrawal paid to bank"),
}

TOP_UP_STATE_LABELS = {
    "pending": _l("pending"),
    "completed": _l("completed"),
    "cancelled": _l("cancelled"),
    "failed": _l("failed"),
}

ACCOUNT_TYPE_LABELS = {
    "asset": _l("Asset"),
    "liability": _l("Liability"),
    "revenue": _l("Revenue"),
    "expense": _l("Expense"),
}


def ledger_kind_label(kind: str):
    if kind.startswith("reversal:"):
        return _l("Reversal: %(kind)s", kind=LEDGER_KIND_LABELS.get(kind[9:], kind[9:]))
    return LEDGER_KIND_LABELS.get(kind, kind)
