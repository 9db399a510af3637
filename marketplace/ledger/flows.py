"""The money flows of design.md §6, each one balanced, idempotent ledger transaction.

Every function takes the idempotency ``key`` of the business event that causes it (e.g. ``order:12:fund``):
calling it again with the same key and amounts returns the first transaction and moves nothing; the same key
with other amounts is refused. Amounts are positive ints in minor units. Accounts are opened on first use.

Sign convention: debits positive. Liability accounts (wallets, escrow, earnings) grow with credits.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from marketplace.ledger.models import LedgerTransaction
from marketplace.ledger.services import credit, debit, open_account, post
from marketplace.money import DEFAULT_CURRENCY

# Platform accounts ---------------------------------------------------------------------------------------
CASH_STRIPE = "platform:cash:stripe"
CASH_BANK = "platform:cash:bank"
PAYOUTS_IN_TRANSIT = "platform:payouts:in_transit"
TAX_WITHHELD = "platform:tax:withheld"
REVENUE_SERVICE_FEE = "platform:revenue:service_fee"
REVENUE_COMMISSION = "platform:revenue:commission"
REVENUE_BOOST = "platform:revenue:boost"
EXPENSE_PROCESSING = "platform:expense:processing"

PLATFORM_ACCOUNTS = {
    CASH_STRIPE: ("asset", "Cash held at Stripe", None),
    CASH_BANK: ("asset", "Cash in the platform bank account", None),
    PAYOUTS_IN_TRANSIT: ("liability", "Payouts sent, not yet confirmed", 0),
    TAX_WITHHELD: ("liability", "Withholding owed to the tax office", 0),
    REVENUE_SERVICE_FEE: ("revenue", "Brand service fees", None),
    REVENUE_COMMISSION: ("revenue", "Creator commissions", None),
    REVENUE_BOOST: ("revenue", "Boost spend", None),
    EXPENSE_PROCESSING: ("expense", "Payment processing fees", None),
}
RAILS = {"stripe": CASH_STRIPE, "bank": CASH_BANK}


def enterprise_available(enterprise_id: int) -> str:
    return f"enterprise:{enterprise_id}:available"


def creator_pending(creator_id: int) -> str:
    return f"creator:{creator_id}:pending"


def creator_available(creator_id: int) -> str:
    return f"creator:{creator_id}:available"


def order_escrow(order_id: int) -> str:
    return f"order:{order_id}:escrow"


def boost_budget(boost_id: int) -> str:
    return f"boost:{boost_id}:budget"


def _platform(session: Session, code: str, currency: str = DEFAULT_CURRENCY) -> str:
    type_, name, floor = PLATFORM_ACCOUNTS[code]
    open_account(session, code, type_, name=name, currency=currency, min_balance=floor)
    return code


def open_enterprise_wallet(session: Session, enterprise_id: int, currency: str = DEFAULT_CURRENCY) -> str:
    """The enterprise's available balance (floor 0 until a credit line lowers it)."""
    code = enterprise_available(enterprise_id)
    open_account(session, code, "liability", name=f"Enterprise #{enterprise_id} available", currency=currency,
                 owner_type="enterprise", owner_id=enterprise_id, min_balance=0)
    return code


def _creator(session: Session, creator_id: int, which: str, currency: str) -> str:
    code = f"creator:{creator_id}:{which}"
    open_account(session, code, "liability", name=f"Creator #{creator_id} {which}", currency=currency,
                 owner_type="creator", owner_id=creator_id, min_balance=0)
    return code


def _held(session: Session, code: str, owner_type: str, owner_id: int, currency: str) -> str:
    open_account(session, code, "liability", name=f"{owner_type.title()} #{owner_id} held funds", currency=currency,
                 owner_type=owner_type, owner_id=owner_id, min_balance=0)
    return code


def _positive(*amounts: int) -> None:
    for amount in amounts:
        if not isinstance(amount, int) or isinstance(amount, bool) or amount < 0:
            raise ValueError(f"amounts are non-negative ints in minor units, got {amount!r}")


def _legs(*legs):
    """Drop zero legs (a zero fee or retention moves nothing)."""
    return [leg for leg in legs if leg.amount != 0]


# Top-ups and withdrawals ---------------------------------------------------------------------------------

def top_up(session: Session, *, enterprise_id: int, amount: int, rail: str, key: str, fee: int = 0,
           currency: str = DEFAULT_CURRENCY, reference: tuple[str, int] | None = None, memo: str = "",
           actor_id: int | None = None, now=None) -> LedgerTransaction:
    """Cash arrived for an enterprise: credit its wallet with ``amount``; a processor ``fee`` is an expense."""
    _positive(amount, fee)
    cash = _platform(session, RAILS[rail], currency)
    wallet = open_enterprise_wallet(session, enterprise_id, currency)
    legs = [debit(cash, amount - fee), credit(wallet, amount)]
    if fee:
        legs.append(debit(_platform(session, EXPENSE_PROCESSING, currency), fee))
    return post(session, kind=f"top_up:{rail}", key=key, legs=_legs(*legs), currency=currency, memo=memo,
                reference=reference, actor_id=actor_id, now=now)


def brand_withdrawal(session: Session, *, enterprise_id: int, amount: int, key: str,
                     currency: str = DEFAULT_CURRENCY, reference: tuple[str, int] | None = None,
                     actor_id: int | None = None) -> LedgerTransaction:
    """Pay unused balance back to the enterprise's bank account. :raises InsufficientFunds:"""
    _positive(amount)
    wallet = open_enterprise_wallet(session, enterprise_id, currency)
    return post(session, kind="brand_withdrawal", key=key, currency=currency, reference=reference, actor_id=actor_id,
                legs=[debit(wallet, amount), credit(_platform(session, CASH_BANK, currency), amount)])


# Order escrow ---------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class EscrowRelease:
    """How a released escrow splits: creator net now, fees to revenue, retention kept in escrow."""

    price: int
    service_fee: int
    commission: int
    retention: int

    @property
    def creator_now(self) -> int:
        return self.price - self.commission - self.retention


def fund_escrow(session: Session, *, order_id: int, enterprise_id: int, price: int, service_fee: int, key: str,
                currency: str = DEFAULT_CURRENCY, actor_id: int | None = None) -> LedgerTransaction:
    """Move price + brand service fee from the wallet into the order's escrow. :raises InsufficientFunds:"""
    _positive(price, service_fee)
    wallet = open_enterprise_wallet(session, enterprise_id, currency)
    escrow = _held(session, order_escrow(order_id), "order", order_id, currency)
    total = price + service_fee
    return post(session, kind="fund_escrow", key=key, currency=currency, reference=("order", order_id),
                actor_id=actor_id, legs=[debit(wallet, total), credit(escrow, total)])


def release_escrow(session: Session, *, order_id: int, creator_id: int, split: EscrowRelease, key: str,
                   currency: str = DEFAULT_CURRENCY, actor_id: int | None = None) -> LedgerTransaction:
    """Pay the creator's net (less retention) to pending earnings and the fees to revenue."""
    _positive(split.price, split.service_fee, split.commission, split.retention, split.creator_now)
    escrow = _held(session, order_escrow(order_id), "order", order_id, currency)
    pending = _creator(session, creator_id, "pending", currency)
    out = split.price + split.service_fee - split.retention
    legs = _legs(
        debit(escrow, out),
        credit(pending, split.creator_now),
        credit(_platform(session, REVENUE_SERVICE_FEE, currency), split.service_fee),
        credit(_platform(session, REVENUE_COMMISSION, currency), split.commission),
    )
    return post(session, kind="release_escrow", key=key, legs=legs, currency=currency, reference=("order", order_id),
                actor_id=actor_id)


def release_retention(session: Session, *, order_id: int, creator_id: int, enterprise_id: int, to_creator: int,
                      to_enterprise: int, key: str, currency: str = DEFAULT_CURRENCY,
                      actor_id: int | None = None) -> LedgerTransaction:
    """Settle the retention at the end of the live window: to the creator, and any pro-rata refund to the brand."""
    _positive(to_creator, to_enterprise)
    escrow = _held(session, order_escrow(order_id), "order", order_id, currency)
    legs = _legs(debit(escrow, to_creator + to_enterprise),
                 credit(_creator(session, creator_id, "pending", currency), to_creator),
                 credit(open_enterprise_wallet(session, enterprise_id, currency), to_enterprise))
    return post(session, kind="release_retention", key=key, legs=legs, currency=currency,
                reference=("order", order_id), actor_id=actor_id)


def refund_escrow(session: Session, *, order_id: int, enterprise_id: int, amount: int, key: str,
                  currency: str = DEFAULT_CURRENCY, actor_id: int | None = None) -> LedgerTransaction:
    """Return ``amount`` (all or part of the escrow) to the enterprise. :raises InsufficientFunds: more than held."""
    _positive(amount)
    escrow = _held(session, order_escrow(order_id), "order", order_id, currency)
    return post(session, kind="refund_escrow", key=key, currency=currency, reference=("order", order_id),
                actor_id=actor_id,
                legs=[debit(escrow, amount), credit(open_enterprise_wallet(session, enterprise_id, currency), amount)])


# Boost budgets -------------------------------------------------------------------------------------------

def _payer(session: Session, payer: tuple[str, int], currency: str) -> str:
    kind, owner_id = payer
    if kind == "enterprise":
        return open_enterprise_wallet(session, owner_id, currency)
    if kind == "creator":
        return _creator(session, owner_id, "available", currency)
    raise ValueError(f"unknown payer {payer!r}")


def hold_boost(session: Session, *, boost_id: int, payer: tuple[str, int], amount: int, key: str,
               currency: str = DEFAULT_CURRENCY, actor_id: int | None = None) -> LedgerTransaction:
    """Hold a boost's budget from the payer's wallet (enterprise or creator earnings). :raises InsufficientFunds:"""
    _positive(amount)
    budget = _held(session, boost_budget(boost_id), "boost", boost_id, currency)
    return post(session, kind="hold_boost", key=key, currency=currency, reference=("boost", boost_id),
                actor_id=actor_id, legs=[debit(_payer(session, payer, currency), amount), credit(budget, amount)])


def spend_boost(session: Session, *, boost_id: int, amount: int, key: str,
                currency: str = DEFAULT_CURRENCY) -> LedgerTransaction:
    """Recognise delivered spend (per slot, in aggregate) as boost revenue."""
    _positive(amount)
    budget = _held(session, boost_budget(boost_id), "boost", boost_id, currency)
    return post(session, kind="spend_boost", key=key, currency=currency, reference=("boost", boost_id),
                legs=[debit(budget, amount), credit(_platform(session, REVENUE_BOOST, currency), amount)])


def release_boost(session: Session, *, boost_id: int, payer: tuple[str, int], amount: int, key: str,
                  currency: str = DEFAULT_CURRENCY) -> LedgerTransaction:
    """Return unspent budget to the payer."""
    _positive(amount)
    budget = _held(session, boost_budget(boost_id), "boost", boost_id, currency)
    return post(session, kind="release_boost", key=key, currency=currency, reference=("boost", boost_id),
                legs=[debit(budget, amount), credit(_payer(session, payer, currency), amount)])


# Creator earnings and payouts ----------------------------------------------------------------------------

def clear_pending(session: Session, *, creator_id: int, amount: int, key: str,
                  currency: str = DEFAULT_CURRENCY) -> LedgerTransaction:
    """Earnings that finished clearing become withdrawable."""
    _positive(amount)
    return post(session, kind="clear_pending", key=key, currency=currency, reference=("creator", creator_id),
                legs=[debit(_creator(session, creator_id, "pending", currency), amount),
                      credit(_creator(session, creator_id, "available", currency), amount)])


def withhold_tax(session: Session, *, creator_id: int, amount: int, key: str, currency: str = DEFAULT_CURRENCY,
                 reference: tuple[str, int] | None = None) -> LedgerTransaction:
    """Withhold income tax from a creator's available earnings for the tax office."""
    _positive(amount)
    return post(session, kind="withhold_tax", key=key, currency=currency, reference=reference,
                legs=[debit(_creator(session, creator_id, "available", currency), amount),
                      credit(_platform(session, TAX_WITHHELD, currency), amount)])


def start_payout(session: Session, *, payout_id: int, creator_id: int, amount: int, key: str,
                 currency: str = DEFAULT_CURRENCY) -> LedgerTransaction:
    """Send a payout: available earnings → in transit. :raises InsufficientFunds:"""
    _positive(amount)
    return post(session, kind="start_payout", key=key, currency=currency, reference=("payout", payout_id),
                legs=[debit(_creator(session, creator_id, "available", currency), amount),
                      credit(_platform(session, PAYOUTS_IN_TRANSIT, currency), amount)])


def complete_payout(session: Session, *, payout_id: int, amount: int, rail: str, key: str,
                    currency: str = DEFAULT_CURRENCY) -> LedgerTransaction:
    """The bank or Stripe confirmed the payout: in transit → out of platform cash."""
    _positive(amount)
    return post(session, kind="complete_payout", key=key, currency=currency, reference=("payout", payout_id),
                legs=[debit(_platform(session, PAYOUTS_IN_TRANSIT, currency), amount),
                      credit(_platform(session, RAILS[rail], currency), amount)])


def fail_payout(session: Session, *, payout_id: int, creator_id: int, amount: int, key: str,
                currency: str = DEFAULT_CURRENCY) -> LedgerTransaction:
    """The payout failed: the money returns to the creator's available earnings."""
    _positive(amount)
    return post(session, kind="fail_payout", key=key, currency=currency, reference=("payout", payout_id),
                legs=[debit(_platform(session, PAYOUTS_IN_TRANSIT, currency), amount),
                      credit(_creator(session, creator_id, "available", currency), amount)])
