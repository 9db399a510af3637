"""Random sequences of every money flow against a plain-int model of the balances (hypothesis stateful).

After every step the ledger must be sound (trial balance nets to zero, every transaction balances, cached
balances equal the sums of postings), every balance must equal the model's, no enterprise wallet may be
below minus its credit limit (unless the limit was lowered below credit already used, in which case the
wallet may only have risen since), and no escrow, boost budget, creator or platform liability account below
zero. Requests the model knows would overdraw must raise ``InsufficientFunds`` and write nothing; an earlier
request replayed with its key moves nothing and returns the first transaction; the key reused with other
content is refused with ``IdempotencyConflict``.

Each state-machine run works in its own connection and transaction, rolled back in ``teardown`` (the
``session`` fixture is per test function, but hypothesis runs many examples inside one test).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    consumes,
    initialize,
    invariant,
    multiple,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.db import database
from marketplace.errors import InsufficientFunds
from marketplace.ledger import flows
from marketplace.ledger.flows import EscrowRelease
from marketplace.ledger.models import NORMAL_SIGN, LedgerAccount, LedgerTransaction, Posting
from marketplace.ledger.services import (
    IdempotencyConflict,
    balance_mismatches,
    set_min_balance,
    trial_balance,
    unbalanced_transactions,
)

# Ids far from anything other tests create, so the model's accounts start empty.
ENTERPRISES = (910_001, 910_002, 910_003)
CREATORS = (920_001, 920_002)
ORDERS = (930_001, 930_002, 930_003, 930_004)
ORDER_ENTERPRISE = {o: ENTERPRISES[i % len(ENTERPRISES)] for i, o in enumerate(ORDERS)}
ORDER_CREATOR = {o: CREATORS[i % len(CREATORS)] for i, o in enumerate(ORDERS)}
BOOST_PAYER = {940_001: ("enterprise", ENTERPRISES[0]), 940_002: ("enterprise", ENTERPRISES[1]),
               940_003: ("creator", CREATORS[0]), 940_004: ("creator", CREATORS[1])}
BOOSTS = tuple(BOOST_PAYER)

WALLETS = {e: flows.enterprise_available(e) for e in ENTERPRISES}
PENDING = {c: flows.creator_pending(c) for c in CREATORS}
AVAILABLE = {c: flows.creator_available(c) for c in CREATORS}
ESCROW = {o: flows.order_escrow(o) for o in ORDERS}
BUDGET = {b: flows.boost_budget(b) for b in BOOSTS}
NON_NEGATIVE = [*PENDING.values(), *AVAILABLE.values(), *ESCROW.values(), *BUDGET.values(),
                flows.PAYOUTS_IN_TRANSIT, flows.TAX_WITHHELD]
TRACKED = [*WALLETS.values(), *NON_NEGATIVE, *flows.PLATFORM_ACCOUNTS]

amounts = st.integers(min_value=1, max_value=80_000)


def payer_account(payer: tuple[str, int]) -> str:
    kind, owner = payer
    return WALLETS[owner] if kind == "enterprise" else AVAILABLE[owner]


@dataclass
class Posted:
    """A request that posted: replaying it must return ``txn_id``; ``changed`` is the same key with other content."""

    label: str
    call: Callable[..., LedgerTransaction]
    kwargs: dict[str, Any]
    changed: dict[str, Any]
    txn_id: int

    def __repr__(self) -> str:
        return f"<{self.label} #{self.txn_id}>"


@dataclass
class Payout:
    payout_id: int
    creator_id: int
    amount: int

    def __repr__(self) -> str:
        return f"<payout {self.payout_id}: {self.amount} to creator {self.creator_id}>"


@dataclass
class Model:
    balances: dict[str, int] = field(default_factory=dict)  # natural-sign balance per tracked account
    limits: dict[int, int] = field(default_factory=dict)  # enterprise -> credit limit
    # When a limit is lowered below the credit already used, the wallet may stay below -limit, but every
    # debit must still be refused until it is back above: it can only have risen since. This is its floor.
    floors: dict[int, int] = field(default_factory=dict)
    transactions: int = 0

    def move(self, changes: dict[str, int]) -> None:
        for code, delta in changes.items():
            self.balances[code] += delta
        for e, wallet in WALLETS.items():
            self.floors[e] = min(-self.limits[e], self.balances[wallet])

    def allows(self, debits: dict[str, int], floors: dict[str, int] | None = None) -> bool:
        """Whether taking ``debits`` (natural-sign decreases) out of their accounts stays above every floor
        (``floors``: stricter ones for this operation, e.g. a withdrawal never uses credit)."""
        for code, amount in debits.items():
            floor = 0
            for e, wallet in WALLETS.items():
                if wallet == code:
                    floor = -self.limits[e]
            if floors and code in floors:
                floor = max(floor, floors[code])
            if code in flows.PLATFORM_ACCOUNTS and flows.PLATFORM_ACCOUNTS[code][2] is None:
                continue  # cash, revenue and expense accounts have no floor
            if self.balances[code] - amount < floor:
                return False
        return True


class LedgerMachine(RuleBasedStateMachine):
    payouts = Bundle("payouts")

    def __init__(self, app):
        super().__init__()
        self.ctx = app.app_context()
        self.ctx.push()
        self.connection = database(app).engine.connect()
        self.outer = self.connection.begin()
        self.session = Session(bind=self.connection, join_transaction_mode="create_savepoint",
                               expire_on_commit=False)
        self.model = Model()
        self.model.balances = self._actual()
        for e in ENTERPRISES:
            self.model.limits[e] = 0
            self.model.floors[e] = 0
        self.model.transactions = self._transaction_count()
        self.posted: list[Posted] = []
        self.held: dict[str, LedgerAccount] = {}  # ORM objects kept referenced across steps
        self.n = 0

    def teardown(self):
        try:
            self.session.close()
            if self.outer.is_active:
                self.outer.rollback()
            self.connection.close()
        finally:
            self.ctx.pop()

    # --- helpers ------------------------------------------------------------------------------------------

    def _key(self, label: str) -> str:
        self.n += 1
        return f"stateful:{label}:{self.n}"

    def _actual(self) -> dict[str, int]:
        rows = self.session.execute(
            select(LedgerAccount.code, LedgerAccount.type, LedgerAccount.balance)
            .where(LedgerAccount.code.in_(TRACKED))
        ).all()
        out = {code: 0 for code in TRACKED}
        for code, type_, cached in rows:
            out[code] = cached * NORMAL_SIGN[type_]
        return out

    def _transaction_count(self) -> int:
        return self.session.scalar(select(func.count()).select_from(LedgerTransaction))

    def _apply(self, label: str, call: Callable[..., LedgerTransaction], kwargs: dict[str, Any],
               changed: dict[str, Any], changes: dict[str, int], debits: dict[str, int],
               floors: dict[str, int] | None = None) -> bool:
        """Run one flow; it must post exactly when the model allows every debit, and move ``changes``."""
        if self.model.allows(debits, floors):
            txn = call(self.session, **kwargs)
            self.model.move(changes)
            self.model.transactions += 1
            self.posted.append(Posted(label, call, kwargs, changed, txn.id))
            return True
        with pytest.raises(InsufficientFunds):
            call(self.session, **kwargs)
        return False  # the invariants check that nothing moved and no transaction was added

    def _amount(self, data, spendable: int, label: str = "amount") -> int:
        """Mostly an amount the account can give (part or all of it), sometimes more (must be refused)."""
        over = st.integers(max(1, spendable + 1), max(1, spendable) + 50_000)
        if spendable <= 0:
            return data.draw(over, label=label)
        return data.draw(st.one_of(st.integers(1, spendable), st.just(spendable), over), label=label)

    def _spendable(self, code: str) -> int:
        for e, wallet in WALLETS.items():
            if wallet == code:
                return self.model.balances[code] + self.model.limits[e]
        return self.model.balances[code]

    def _holding(self, accounts: dict[int, str]) -> list[int]:
        return [owner for owner, code in accounts.items() if self.model.balances[code] > 0]

    # --- top-ups and withdrawals --------------------------------------------------------------------------

    @initialize(top_ups=st.lists(st.integers(0, 300_000), min_size=len(ENTERPRISES), max_size=len(ENTERPRISES)),
                earnings=st.lists(st.integers(0, 40_000), min_size=len(CREATORS), max_size=len(CREATORS)))
    def opening_balances(self, top_ups, earnings):
        """Start from funded wallets and creators with some earnings (through the flows), so that short
        runs reach boosts paid by creators, tax and payouts."""
        for e, amount in zip(ENTERPRISES, top_ups, strict=True):
            if amount:
                self.top_up_bank(e, amount)
        for o, amount in zip(ORDERS[:len(CREATORS)], earnings, strict=True):
            e, c = ORDER_ENTERPRISE[o], ORDER_CREATOR[o]
            if amount:
                self.top_up_bank(e, amount)
                for label, call, kwargs, other, changes in (
                    ("fund_escrow", flows.fund_escrow,
                     dict(order_id=o, enterprise_id=e, price=amount, service_fee=0), {"service_fee": 1},
                     {WALLETS[e]: -amount, ESCROW[o]: amount}),
                    ("release_escrow", flows.release_escrow,
                     dict(order_id=o, creator_id=c, split=EscrowRelease(amount, 0, 0, 0)),
                     {"split": EscrowRelease(amount, 0, 1, 0)},
                     {ESCROW[o]: -amount, PENDING[c]: amount}),
                    ("clear_pending", flows.clear_pending, dict(creator_id=c, amount=amount), {"amount": amount + 1},
                     {PENDING[c]: -amount, AVAILABLE[c]: amount}),
                ):
                    kwargs["key"] = self._key("opening")
                    assert self._apply(label, call, kwargs, {**kwargs, **other}, changes, {})

    @rule(e=st.sampled_from(ENTERPRISES), amount=amounts)
    def top_up_bank(self, e, amount):
        kwargs = dict(enterprise_id=e, amount=amount, rail="bank", key=self._key("topup"))
        self._apply("top_up:bank", flows.top_up, kwargs, {**kwargs, "amount": amount + 1},
                    {WALLETS[e]: amount, flows.CASH_BANK: amount}, {})

    @rule(e=st.sampled_from(ENTERPRISES), amount=amounts, fee_permille=st.integers(0, 1000))
    def top_up_stripe(self, e, amount, fee_permille):
        fee = amount * fee_permille // 1000  # from none to all of it
        kwargs = dict(enterprise_id=e, amount=amount, rail="stripe", fee=fee, key=self._key("topup"))
        changed = {**kwargs, "fee": fee + 1 if fee < amount else fee - 1}
        self._apply("top_up:stripe", flows.top_up, kwargs, changed,
                    {WALLETS[e]: amount, flows.CASH_STRIPE: amount - fee, flows.EXPENSE_PROCESSING: fee}, {})

    @rule(e=st.sampled_from(ENTERPRISES), data=st.data())
    def brand_withdrawal(self, e, data):
        # Only the unused (positive) balance can be withdrawn: never the credit line.
        amount = self._amount(data, self.model.balances[WALLETS[e]])
        kwargs = dict(enterprise_id=e, amount=amount, key=self._key("withdraw"))
        self._apply("brand_withdrawal", flows.brand_withdrawal, kwargs, {**kwargs, "amount": amount + 1},
                    {WALLETS[e]: -amount, flows.CASH_BANK: -amount}, {WALLETS[e]: amount}, {WALLETS[e]: 0})

    @rule(e=st.sampled_from(ENTERPRISES), limit=st.one_of(st.just(0), st.integers(1, 120_000)))
    def change_credit_line(self, e, limit):
        flows.open_enterprise_wallet(self.session, e)
        account = set_min_balance(self.session, WALLETS[e], -limit)
        assert account.min_balance == -limit
        self.model.limits[e] = limit
        self.model.floors[e] = min(-limit, self.model.balances[WALLETS[e]])

    # --- order escrow --------------------------------------------------------------------------------------

    @rule(o=st.sampled_from(ORDERS), fee_percent=st.sampled_from([0, 5, 10]), data=st.data())
    def fund_escrow(self, o, fee_percent, data):
        e = ORDER_ENTERPRISE[o]
        total = self._amount(data, self._spendable(WALLETS[e]), "total")
        price = max(1, total * 100 // (100 + fee_percent))
        fee = total - price
        kwargs = dict(order_id=o, enterprise_id=e, price=price, service_fee=fee, key=self._key("fund"))
        self._apply("fund_escrow", flows.fund_escrow, kwargs, {**kwargs, "price": price + 1},
                    {WALLETS[e]: -total, ESCROW[o]: total}, {WALLETS[e]: total})

    @precondition(lambda self: bool(self._holding(ESCROW)))
    @rule(data=st.data())
    def release_escrow(self, data):
        o = data.draw(st.sampled_from(self._holding(ESCROW)), label="order")
        # The creator's net (price - commission - retention) must be positive, so out >= 2 when fees are taken.
        out = max(1, self._amount(data, self.model.balances[ESCROW[o]], "out"))
        service_fee = data.draw(st.integers(0, out // 20), label="service_fee")
        commission = data.draw(st.integers(0, (out - service_fee) // 20), label="commission")
        retention = data.draw(st.integers(0, (out - service_fee) // 5), label="retention")
        price = out - service_fee + retention  # out = price + service_fee - retention
        split = EscrowRelease(price=price, service_fee=service_fee, commission=commission, retention=retention)
        assert split.creator_now >= 1
        c = ORDER_CREATOR[o]
        kwargs = dict(order_id=o, creator_id=c, split=split, key=self._key("release"))
        changed = {**kwargs, "split": replace(split, price=price + 1)}
        self._apply("release_escrow", flows.release_escrow, kwargs, changed,
                    {ESCROW[o]: -out, PENDING[c]: split.creator_now, flows.REVENUE_SERVICE_FEE: service_fee,
                     flows.REVENUE_COMMISSION: commission},
                    {ESCROW[o]: out})

    @precondition(lambda self: bool(self._holding(ESCROW)))
    @rule(data=st.data())
    def release_retention(self, data):
        o = data.draw(st.sampled_from(self._holding(ESCROW)), label="order")
        total = self._amount(data, self.model.balances[ESCROW[o]], "total")
        to_creator = data.draw(st.integers(0, total), label="to_creator")
        e, c = ORDER_ENTERPRISE[o], ORDER_CREATOR[o]
        kwargs = dict(order_id=o, creator_id=c, enterprise_id=e, to_creator=to_creator,
                      to_enterprise=total - to_creator, key=self._key("retention"))
        changed = {**kwargs, "to_enterprise": total - to_creator + 1}
        self._apply("release_retention", flows.release_retention, kwargs, changed,
                    {ESCROW[o]: -total, PENDING[c]: to_creator, WALLETS[e]: total - to_creator},
                    {ESCROW[o]: total})

    @precondition(lambda self: bool(self._holding(ESCROW)))
    @rule(data=st.data())
    def refund_escrow_whole(self, data):
        o = data.draw(st.sampled_from(self._holding(ESCROW)), label="order")
        self._refund(o, self.model.balances[ESCROW[o]])

    @rule(o=st.sampled_from(ORDERS), data=st.data())
    def refund_escrow_part(self, o, data):
        self._refund(o, self._amount(data, self.model.balances[ESCROW[o]]))

    def _refund(self, o, amount):
        e = ORDER_ENTERPRISE[o]
        kwargs = dict(order_id=o, enterprise_id=e, amount=amount, key=self._key("refund"))
        self._apply("refund_escrow", flows.refund_escrow, kwargs, {**kwargs, "amount": amount + 1},
                    {ESCROW[o]: -amount, WALLETS[e]: amount}, {ESCROW[o]: amount})

    # --- boosts --------------------------------------------------------------------------------------------

    @rule(b=st.sampled_from(BOOSTS), data=st.data())
    def hold_boost(self, b, data):
        payer = BOOST_PAYER[b]
        amount = self._amount(data, self._spendable(payer_account(payer)))
        kwargs = dict(boost_id=b, payer=payer, amount=amount, key=self._key("hold"))
        self._apply(f"hold_boost:{payer[0]}", flows.hold_boost, kwargs, {**kwargs, "amount": amount + 1},
                    {payer_account(payer): -amount, BUDGET[b]: amount}, {payer_account(payer): amount})

    @precondition(lambda self: bool(self._holding(BUDGET)))
    @rule(data=st.data())
    def spend_boost(self, data):
        b = data.draw(st.sampled_from(self._holding(BUDGET)), label="boost")
        amount = self._amount(data, self.model.balances[BUDGET[b]])
        kwargs = dict(boost_id=b, amount=amount, key=self._key("spend"))
        self._apply("spend_boost", flows.spend_boost, kwargs, {**kwargs, "amount": amount + 1},
                    {BUDGET[b]: -amount, flows.REVENUE_BOOST: amount}, {BUDGET[b]: amount})

    @precondition(lambda self: bool(self._holding(BUDGET)))
    @rule(data=st.data())
    def release_boost(self, data):
        b = data.draw(st.sampled_from(self._holding(BUDGET)), label="boost")
        amount = self._amount(data, self.model.balances[BUDGET[b]])
        payer = BOOST_PAYER[b]
        kwargs = dict(boost_id=b, payer=payer, amount=amount, key=self._key("unhold"))
        self._apply("release_boost", flows.release_boost, kwargs, {**kwargs, "amount": amount + 1},
                    {BUDGET[b]: -amount, payer_account(payer): amount}, {BUDGET[b]: amount})

    # --- creator earnings and payouts -------------------------------------------------------------------

    @precondition(lambda self: bool(self._holding(PENDING)))
    @rule(data=st.data())
    def clear_pending(self, data):
        c = data.draw(st.sampled_from(self._holding(PENDING)), label="creator")
        amount = self._amount(data, self.model.balances[PENDING[c]])
        kwargs = dict(creator_id=c, amount=amount, key=self._key("clear"))
        self._apply("clear_pending", flows.clear_pending, kwargs, {**kwargs, "amount": amount + 1},
                    {PENDING[c]: -amount, AVAILABLE[c]: amount}, {PENDING[c]: amount})

    @precondition(lambda self: bool(self._holding(AVAILABLE)))
    @rule(data=st.data())
    def withhold_tax(self, data):
        c = data.draw(st.sampled_from(self._holding(AVAILABLE)), label="creator")
        amount = self._amount(data, self.model.balances[AVAILABLE[c]])
        kwargs = dict(creator_id=c, amount=amount, key=self._key("tax"))
        self._apply("withhold_tax", flows.withhold_tax, kwargs, {**kwargs, "amount": amount + 1},
                    {AVAILABLE[c]: -amount, flows.TAX_WITHHELD: amount}, {AVAILABLE[c]: amount})

    @precondition(lambda self: bool(self._holding(AVAILABLE)))
    @rule(target=payouts, data=st.data())
    def start_payout(self, data):
        c = data.draw(st.sampled_from(self._holding(AVAILABLE)), label="creator")
        amount = self._amount(data, self.model.balances[AVAILABLE[c]])
        self.n += 1
        payout = Payout(950_000 + self.n, c, amount)
        kwargs = dict(payout_id=payout.payout_id, creator_id=c, amount=amount, key=self._key("payout"))
        if self._apply("start_payout", flows.start_payout, kwargs, {**kwargs, "amount": amount + 1},
                       {AVAILABLE[c]: -amount, flows.PAYOUTS_IN_TRANSIT: amount}, {AVAILABLE[c]: amount}):
            return payout
        return multiple()

    @rule(payout=consumes(payouts), rail=st.sampled_from(["bank", "stripe"]), first_too_much=st.booleans())
    def complete_payout(self, payout, rail, first_too_much):
        cash = flows.RAILS[rail]
        if first_too_much:  # confirming more than is in transit is refused (in transit never goes negative)
            too_much = self.model.balances[flows.PAYOUTS_IN_TRANSIT] + 1
            kwargs = dict(payout_id=payout.payout_id, amount=too_much, rail=rail, key=self._key("paid"))
            assert not self._apply("complete_payout", flows.complete_payout, kwargs, kwargs,
                                   {flows.PAYOUTS_IN_TRANSIT: -too_much, cash: -too_much},
                                   {flows.PAYOUTS_IN_TRANSIT: too_much})
        kwargs = dict(payout_id=payout.payout_id, amount=payout.amount, rail=rail, key=self._key("paid"))
        self._apply("complete_payout", flows.complete_payout, kwargs, {**kwargs, "amount": payout.amount + 1},
                    {flows.PAYOUTS_IN_TRANSIT: -payout.amount, cash: -payout.amount},
                    {flows.PAYOUTS_IN_TRANSIT: payout.amount})

    @rule(payout=consumes(payouts))
    def fail_payout(self, payout):
        c = payout.creator_id
        kwargs = dict(payout_id=payout.payout_id, creator_id=c, amount=payout.amount, key=self._key("failed"))
        self._apply("fail_payout", flows.fail_payout, kwargs, {**kwargs, "amount": payout.amount + 1},
                    {flows.PAYOUTS_IN_TRANSIT: -payout.amount, AVAILABLE[c]: payout.amount},
                    {flows.PAYOUTS_IN_TRANSIT: payout.amount})

    # --- idempotency ---------------------------------------------------------------------------------------

    @precondition(lambda self: bool(self.posted))
    @rule(data=st.data())
    def replay_same_request(self, data):
        earlier = data.draw(st.sampled_from(self.posted), label="earlier")
        txn = earlier.call(self.session, **earlier.kwargs)
        assert txn.id == earlier.txn_id  # the first result; the invariants check that nothing moved

    @precondition(lambda self: bool(self.posted))
    @rule(data=st.data())
    def reuse_key_with_other_content(self, data):
        earlier = data.draw(st.sampled_from(self.posted), label="earlier")
        assert earlier.changed != earlier.kwargs
        with pytest.raises(IdempotencyConflict):
            earlier.call(self.session, **earlier.changed)

    # --- invariants ----------------------------------------------------------------------------------------

    @invariant()
    def ledger_is_sound(self):
        _, net = trial_balance(self.session)
        assert all(v == 0 for v in net.values()), net
        assert unbalanced_transactions(self.session) == []
        assert balance_mismatches(self.session) == []

    @invariant()
    def balances_match_the_model(self):
        assert self._actual() == self.model.balances
        assert self._transaction_count() == self.model.transactions
        # The same through ORM objects the session holds across posts (as a request that loaded the wallet
        # before spending from it does): ``post`` must keep them in step with the database.
        # (A query for ORM objects returns the ones already in the session as they are, not refreshed.)
        for account in self.session.scalars(select(LedgerAccount).where(LedgerAccount.code.in_(TRACKED))):
            self.held[account.code] = account
        assert {code: a.normal_balance for code, a in self.held.items()} == {
            code: self.model.balances[code] for code in self.held}

    @invariant()
    def postings_carry_running_balances(self):
        """Each posting's ``balance_after`` is its account's balance right after it (postings in id order)."""
        running: dict[int, int] = {}
        wrong = []
        for posting_id, account_id, amount, after in self.session.execute(
            select(Posting.id, Posting.account_id, Posting.amount, Posting.balance_after).order_by(Posting.id)
        ):
            running[account_id] = running.get(account_id, 0) + amount
            if after != running[account_id]:
                wrong.append((posting_id, account_id, after, running[account_id]))
        assert wrong == []

    @invariant()
    def no_account_below_its_floor(self):
        actual = self._actual()
        for e, wallet in WALLETS.items():
            assert actual[wallet] >= min(-self.model.limits[e], self.model.floors[e]), (wallet, actual[wallet])
        floors = dict(self.session.execute(
            select(LedgerAccount.code, LedgerAccount.min_balance).where(LedgerAccount.code.in_(list(WALLETS.values())))
        ).all())
        for e, wallet in WALLETS.items():
            if wallet in floors:  # opened: its floor is minus the credit limit
                assert floors[wallet] == -self.model.limits[e], (wallet, floors[wallet])
        for code in NON_NEGATIVE:
            assert actual[code] >= 0, (code, actual[code])
        # And what the database itself holds as floors: every floored account above it (wallets aside,
        # where a lowered limit may leave old usage below the new floor, checked above).
        rows = self.session.execute(
            select(LedgerAccount.code, LedgerAccount.type, LedgerAccount.balance, LedgerAccount.min_balance)
            .where(LedgerAccount.code.in_(NON_NEGATIVE))
        ).all()
        for code, type_, cached, floor in rows:
            assert floor == 0, code
            assert cached * NORMAL_SIGN[type_] >= 0, code


def test_random_sequences_of_money_flows_keep_the_ledger_sound(app):
    run_state_machine_as_test(
        lambda: LedgerMachine(app),
        settings=settings(max_examples=40, stateful_step_count=30, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow]),
    )
