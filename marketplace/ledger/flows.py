"""The money flows of design.md §6, each one balanced, idempotent ledger transaction.

Every function takes the idempotency ``key`` of the business event that causes it (e.g. ``order:12:fund``) and
returns the posted transaction's values (``services.PostedTransaction``; ``.load(session)`` for the ORM row):
calling it again with the same key and amounts returns the first transaction and moves nothing; the same key
with other amounts is refused. Amounts are positive ints in minor units. Accounts are opened on first use, by
``post`` itself (``account_spec`` says how), so a flow costs no look-ups before its one locking query.

Sign convention: debits positive. Liability accounts (wallets, escrow, earnings) grow with credits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from marketplace.ledger.services import AccountSpec, Leg, PostedTransaction, credit, debit, open_account
from marketplace.ledger.services import post as _post
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


def account_spec(code: str) -> AccountSpec | None:
    """How the flows open ``code`` on first use: its type, name, owner and floor (None: not one of theirs).

    Floors: enterprise wallets start at 0 (a credit line lowers it), creator earnings, escrow, boost budgets,
    payouts in transit and tax withheld never go below 0; cash, revenue and expense accounts have none.
    """
    if code in PLATFORM_ACCOUNTS:
        type_, name, floor = PLATFORM_ACCOUNTS[code]
        return AccountSpec(type_, name, min_balance=floor)
    owner, _, rest = code.partition(":")
    owner_id, _, which = rest.partition(":")
    if not owner_id.isdigit():
        return None
    oid = int(owner_id)
    if (owner, which) == ("enterprise", "available"):
        return AccountSpec("liability", f"Enterprise #{oid} available", "enterprise", oid, 0)
    if owner == "creator" and which in ("pending", "available"):
        return AccountSpec("liability", f"Creator #{oid} {which}", "creator", oid, 0)
    if (owner, which) in (("order", "escrow"), ("boost", "budget")):
        return AccountSpec("liability", f"{owner.title()} #{oid} held funds", owner, oid, 0)
    return None


def post(session: Session, *, kind: str, key: str, legs: list[Leg], currency: str = DEFAULT_CURRENCY, memo: str = "",
         reference: tuple[str, int] | None = None, actor_id: int | None = None, reverses_id: int | None = None,
         now: datetime | None = None, floors: dict[str, int] | None = None) -> PostedTransaction:
    """``services.post``, opening the flows' accounts on first use."""
    # Keywords spelled out rather than passed on as ``**kwargs``: a dict per call costs more than the rest of
    # this function, which every money flow goes through.
    return _post(session, kind=kind, key=key, legs=legs, currency=currency, memo=memo, reference=reference,
                 actor_id=actor_id, reverses_id=reverses_id, now=now, open_accounts=account_spec, floors=floors)


def open_enterprise_wallet(session: Session, enterprise_id: int, currency: str = DEFAULT_CURRENCY) -> str:
    """Open the enterprise's available balance now (floor 0 until a credit line lowers it); its code."""
    code = enterprise_available(enterprise_id)
    spec = account_spec(code)
    open_account(session, code, spec.type, name=spec.name, currency=currency, owner_type=spec.owner_type,
                 owner_id=spec.owner_id, min_balance=spec.min_balance)
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
           actor_id: int | None = None, now=None) -> PostedTransaction:
    """Cash arrived for an enterprise: credit its wallet with ``amount``; a processor ``fee`` is an expense."""
    _positive(amount, fee)
    cash = RAILS[rail]
    wallet = enterprise_available(enterprise_id)
    legs = [debit(cash, amount - fee), credit(wallet, amount)]
    if fee:
        legs.append(debit(EXPENSE_PROCESSING, fee))
    return post(session, kind=f"top_up:{rail}", key=key, legs=_legs(*legs), currency=currency, memo=memo,
                reference=reference, actor_id=actor_id, now=now)


def brand_withdrawal(session: Session, *, enterprise_id: int, amount: int, key: str,
                     currency: str = DEFAULT_CURRENCY, reference: tuple[str, int] | None = None,
                     actor_id: int | None = None) -> PostedTransaction:
    """Pay unused balance back to the enterprise's bank account; never draws on the credit line.

    :raises InsufficientFunds: more than the positive available balance.
    """
    _positive(amount)
    wallet = enterprise_available(enterprise_id)
    return post(session, kind="brand_withdrawal", key=key, currency=currency, reference=reference, actor_id=actor_id,
                legs=[debit(wallet, amount), credit(CASH_BANK, amount)], floors={wallet: 0})


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
                currency: str = DEFAULT_CURRENCY, actor_id: int | None = None) -> PostedTransaction:
    """Move price + brand service fee from the wallet into the order's escrow. :raises InsufficientFunds:"""
    _positive(price, service_fee)
    wallet, escrow = enterprise_available(enterprise_id), order_escrow(order_id)
    total = price + service_fee
    return post(session, kind="fund_escrow", key=key, currency=currency, reference=("order", order_id),
                actor_id=actor_id, legs=[debit(wallet, total), credit(escrow, total)])


def release_escrow(session: Session, *, order_id: int, creator_id: int, split: EscrowRelease, key: str,
                   currency: str = DEFAULT_CURRENCY, actor_id: int | None = None) -> PostedTransaction:
    """Pay the creator's net (less retention) to pending earnings and the fees to revenue."""
    creator_now = split.creator_now
    _positive(split.price, split.service_fee, split.commission, split.retention, creator_now)
    escrow, pending = order_escrow(order_id), creator_pending(creator_id)
    out = split.price + split.service_fee - split.retention
    legs = _legs(
        debit(escrow, out),
        credit(pending, creator_now),
        credit(REVENUE_SERVICE_FEE, split.service_fee),
        credit(REVENUE_COMMISSION, split.commission),
    )
    return post(session, kind="release_escrow", key=key, legs=legs, currency=currency, reference=("order", order_id),
                actor_id=actor_id)


def release_retention(session: Session, *, order_id: int, creator_id: int, enterprise_id: int, to_creator: int,
                      to_enterprise: int, key: str, currency: str = DEFAULT_CURRENCY,
                      actor_id: int | None = None) -> PostedTransaction:
    """Settle the retention at the end of the live window: to the creator, and any pro-rata refund to the brand."""
    _positive(to_creator, to_enterprise)
    escrow = order_escrow(order_id)
    legs = _legs(debit(escrow, to_creator + to_enterprise),
                 credit(creator_pending(creator_id), to_creator),
                 credit(enterprise_available(enterprise_id), to_enterprise))
    return post(session, kind="release_retention", key=key, legs=legs, currency=currency,
                reference=("order", order_id), actor_id=actor_id)


def refund_escrow(session: Session, *, order_id: int, enterprise_id: int, amount: int, key: str,
                  currency: str = DEFAULT_CURRENCY, actor_id: int | None = None) -> PostedTransaction:
    """Return ``amount`` (all or part of the escrow) to the enterprise. :raises InsufficientFunds: more than held."""
    _positive(amount)
    escrow = order_escrow(order_id)
    return post(session, kind="refund_escrow", key=key, currency=currency, reference=("order", order_id),
                actor_id=actor_id,
                legs=[debit(escrow, amount), credit(enterprise_available(enterprise_id), amount)])


# Boost budgets -------------------------------------------------------------------------------------------

def _payer(payer: tuple[str, int]) -> str:
    kind, owner_id = payer
    if kind == "enterprise":
        return enterprise_available(owner_id)
    if kind == "creator":
        return creator_available(owner_id)
    raise ValueError(f"unknown payer {payer!r}")


def hold_boost(session: Session, *, boost_id: int, payer: tuple[str, int], amount: int, key: str,
               currency: str = DEFAULT_CURRENCY, actor_id: int | None = None) -> PostedTransaction:
    """Hold a boost's budget from the payer's wallet (enterprise or creator earnings). :raises InsufficientFunds:"""
    _positive(amount)
    budget = boost_budget(boost_id)
    return post(session, kind="hold_boost", key=key, currency=currency, reference=("boost", boost_id),
                actor_id=actor_id, legs=[debit(_payer(payer), amount), credit(budget, amount)])


def spend_boost(session: Session, *, boost_id: int, amount: int, key: str,
                currency: str = DEFAULT_CURRENCY) -> PostedTransaction:
    """Recognise delivered spend (per slot, in aggregate) as boost revenue."""
    _positive(amount)
    budget = boost_budget(boost_id)
    return post(session, kind="spend_boost", key=key, currency=currency, reference=("boost", boost_id),
                legs=[debit(budget, amount), credit(REVENUE_BOOST, amount)])


def release_boost(session: Session, *, boost_id: int, payer: tuple[str, int], amount: int, key: str,
                  currency: str = DEFAULT_CURRENCY) -> PostedTransaction:
    """Return unspent budget to the payer."""
    _positive(amount)
    budget = boost_budget(boost_id)
    return post(session, kind="release_boost", key=key, currency=currency, reference=("boost", boost_id),
                legs=[debit(budget, amount), credit(_payer(payer), amount)])


# Creator earnings and payouts ----------------------------------------------------------------------------

def clear_pending(session: Session, *, creator_id: int, amount: int, key: str,
                  currency: str = DEFAULT_CURRENCY) -> PostedTransaction:
    """Earnings that finished clearing become withdrawable."""
    _positive(amount)
    return post(session, kind="clear_pending", key=key, currency=currency, reference=("creator", creator_id),
                legs=[debit(creator_pending(creator_id), amount),
                      credit(creator_available(creator_id), amount)])


def withhold_tax(session: Session, *, creator_id: int, amount: int, key: str, currency: str = DEFAULT_CURRENCY,
                 reference: tuple[str, int] | None = None) -> PostedTransaction:
    """Withhold income tax from a creator's available earnings for the tax office."""
    _positive(amount)
    return post(session, kind="withhold_tax", key=key, currency=currency, reference=reference,
                legs=[debit(creator_available(creator_id), amount),
                      credit(TAX_WITHHELD, amount)])


def start_payout(session: Session, *, payout_id: int, creator_id: int, amount: int, key: str,
                 currency: str = DEFAULT_CURRENCY) -> PostedTransaction:
    """Send a payout: available earnings → in transit. :raises InsufficientFunds:"""
    _positive(amount)
    return post(session, kind="start_payout", key=key, currency=currency, reference=("payout", payout_id),
                legs=[debit(creator_available(creator_id), amount),
                      credit(PAYOUTS_IN_TRANSIT, amount)])


def complete_payout(session: Session, *, payout_id: int, amount: int, rail: str, key: str,
                    currency: str = DEFAULT_CURRENCY) -> PostedTransaction:
    """The bank or Stripe confirmed the payout: in transit → out of platform cash."""
    _positive(amount)
    return post(session, kind="complete_payout", key=key, currency=currency, reference=("payout", payout_id),
                legs=[debit(PAYOUTS_IN_TRANSIT, amount),
                      credit(RAILS[rail], amount)])


def fail_payout(session: Session, *, payout_id: int, creator_id: int, amount: int, key: str,
                currency: str = DEFAULT_CURRENCY) -> PostedTransaction:
    """The payout failed: the money returns to the creator's available earnings."""
    _positive(amount)
    return post(session, kind="fail_payout", key=key, currency=currency, reference=("payout", payout_id),
                legs=[debit(PAYOUTS_IN_TRANSIT, amount),
                      credit(creator_available(creator_id), amount)])


def settle_escrow(session: Session, *, order_id: int, creator_id: int, enterprise_id: int, to_creator: int,
                  to_enterprise: int, service_fee: int, commission: int, key: str,
                  currency: str = DEFAULT_CURRENCY, actor_id: int | None = None) -> PostedTransaction:
    """Empty an order's escrow by a decision (a dispute's refund, release or split), in one transaction:
    ``to_creator`` to pending earnings, ``to_enterprise`` back to the wallet, the fees kept to revenue.
    :raises InsufficientFunds: the escrow holds less than the parts."""
    _positive(to_creator, to_enterprise, service_fee, commission)
    total = to_creator + to_enterprise + service_fee + commission
    legs = _legs(debit(order_escrow(order_id), total),
                 credit(creator_pending(creator_id), to_creator),
                 credit(enterprise_available(enterprise_id), to_enterprise),
                 credit(REVENUE_SERVICE_FEE, service_fee),
                 credit(REVENUE_COMMISSION, commission))
    return post(session, kind="settle_escrow", key=key, legs=legs, currency=currency, reference=("order", order_id),
                actor_id=actor_id)


# Brand withdrawals, held on request ------------------------------------------------------------------------
# ``brand_withdrawal`` pays out in one step. A withdrawal that finance pays later is held on request instead, so
# the balance cannot be spent twice while the bank transfer is pending: hold (wallet → the withdrawal's held
# account, never drawing on the credit line), then either complete (held → out of platform bank cash) or release
# (held → back to the wallet). The held account's floor of 0 makes complete and release mutually exclusive.

def withdrawal_held(withdrawal_id: int) -> str:
    return f"withdrawal:{withdrawal_id}:held"


def _withdrawal_account_spec(code: str) -> AccountSpec | None:
    """``account_spec``, plus the held account of a withdrawal (liability, floor 0)."""
    owner, _, rest = code.partition(":")
    owner_id, _, which = rest.partition(":")
    if owner == "withdrawal" and which == "held" and owner_id.isdigit():
        return AccountSpec("liability", f"Withdrawal #{owner_id} held funds", "withdrawal", int(owner_id), 0)
    return account_spec(code)


def _post_withdrawal(session: Session, *, kind: str, withdrawal_id: int, key: str, legs: list[Leg], currency: str,
                     memo: str, actor_id: int | None, now: datetime | None,
                     floors: dict[str, int] | None = None) -> PostedTransaction:
    return _post(session, kind=kind, key=key, legs=legs, currency=currency, memo=memo,
                 reference=("withdrawal", withdrawal_id), actor_id=actor_id, now=now,
                 open_accounts=_withdrawal_account_spec, floors=floors)


def hold_withdrawal(session: Session, *, withdrawal_id: int, enterprise_id: int, amount: int, key: str,
                    currency: str = DEFAULT_CURRENCY, memo: str = "", actor_id: int | None = None,
                    now: datetime | None = None) -> PostedTransaction:
    """Hold a requested withdrawal's amount from the wallet; never draws on the credit line.

    :raises InsufficientFunds: more than the positive available balance.
    """
    _positive(amount)
    wallet = enterprise_available(enterprise_id)
    return _post_withdrawal(session, kind="hold_withdrawal", withdrawal_id=withdrawal_id, key=key, currency=currency,
                            memo=memo, actor_id=actor_id, now=now, floors={wallet: 0},
                            legs=[debit(wallet, amount), credit(withdrawal_held(withdrawal_id), amount)])


def release_withdrawal(session: Session, *, withdrawal_id: int, enterprise_id: int, amount: int, key: str,
                       currency: str = DEFAULT_CURRENCY, memo: str = "", actor_id: int | None = None,
                       now: datetime | None = None) -> PostedTransaction:
    """Return a held withdrawal (rejected or cancelled) to the wallet. :raises InsufficientFunds: not held."""
    _positive(amount)
    return _post_withdrawal(session, kind="release_withdrawal", withdrawal_id=withdrawal_id, key=key,
                            currency=currency, memo=memo, actor_id=actor_id, now=now,
                            legs=[debit(withdrawal_held(withdrawal_id), amount),
                                  credit(enterprise_available(enterprise_id), amount)])


def complete_withdrawal(session: Session, *, withdrawal_id: int, amount: int, key: str,
                        currency: str = DEFAULT_CURRENCY, memo: str = "", actor_id: int | None = None,
                        now: datetime | None = None) -> PostedTransaction:
    """The bank transfer to the enterprise was made: held → out of platform bank cash.

    :raises InsufficientFunds: not held (released already).
    """
    _positive(amount)
    return _post_withdrawal(session, kind="complete_withdrawal", withdrawal_id=withdrawal_id, key=key,
                            currency=currency, memo=memo, actor_id=actor_id, now=now,
                            legs=[debit(withdrawal_held(withdrawal_id), amount), credit(CASH_BANK, amount)])
