"""Ledger write throughput: fund + release cycles per second through ``marketplace.ledger.flows``, against the
raw-SQL ceiling of the same rows written by hand through the database driver, in the same run.

One cycle = ``fund_escrow`` (wallet → a new order's escrow, with the brand service fee) then ``release_escrow``
(escrow → creator pending, service fee and commission to revenue, retention kept), each its own committed
database transaction in its own write session, as in the app (two requests). The raw ceiling writes the same
rows with the same guarantees and no SQLAlchemy: open the order's escrow account (insert, ignoring an existing
one), lock the touched accounts in id order (``SELECT … FOR UPDATE`` on PostgreSQL; ``BEGIN IMMEDIATE`` on
SQLite), check the floors, insert the transaction (``ON CONFLICT (idempotency_key) DO NOTHING``), its postings
in one statement, update the cached balances, commit.

Measured on SQLite (a temporary file) and on PostgreSQL (a fresh database made by
``tests.conftest.create_test_database`` when ``BENCH_DATABASE_URL`` or ``DATABASE_URL`` points at one, then
dropped), with 1 and 8 concurrent writers — processes, not threads: the machine has 2 cores and the GIL would
otherwise be what is measured. ``distinct``: each writer spends from its own enterprise wallet (and pays its own
creator); ``hot``: all writers spend from one enterprise wallet. In both, every release also credits the two
platform revenue accounts, which all writers share. Each writer process runs both paths in both modes, in
alternating slices (``ROUNDS`` times), ``BENCH_LEDGER_SECONDS`` (default 5) seconds per path and mode, so the
noise of a shared machine falls on every figure alike and the ratios compare like with like. Afterwards the ledger is checked: trial balance zero, cached = recomputed balances, every cycle posted
exactly its two transactions.

Prints, per ``ledger.<backend>.<writers>w.<distinct|hot>``: ``cycles_per_s`` and ``transactions_per_s`` (the
app's path), ``raw_cycles_per_s`` / ``raw_transactions_per_s`` (the ceiling), ``ratio_to_raw``; per backend
and writer count ``hot_to_distinct`` (and the same for the raw path); on SQLite with several writers
``lock_handover`` / ``raw_lock_handover``: the share of a path's transactions that took the write lock from another
writer rather than from the same one (see ``lock_handovers``); and ``session_overhead_per_txn``: what a SQLAlchemy
write session adds to a trivial transaction — the floor under every app transaction, which on SQLite is about half
of the ledger's whole raw transaction.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
import threading
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

from bench.harness import emit

SECONDS = float(os.environ.get("BENCH_LEDGER_SECONDS", "5"))
WRITERS = (1, 8)
MODES = ("distinct", "hot")
PRICE, SERVICE_FEE, COMMISSION, RETENTION = 10_000, 500, 500, 1_900
FUNDING = 10**15  # every wallet can pay for any number of cycles

# Account codes and the fixed split of one cycle (must match marketplace.ledger.flows).
REVENUE_FEE, REVENUE_COMMISSION = "platform:revenue:service_fee", "platform:revenue:commission"


def _ids(run: int, writer: int, mode: str) -> tuple[int, int, int]:
    """(enterprise, creator, first order id) of one writer in one measurement; ints fit PostgreSQL integer."""
    enterprise = run * 100 + (0 if mode == "hot" else writer + 1)
    creator = run * 100 + (50 if mode == "hot" else 0) + writer + 1
    return enterprise, creator, run * 100_000_000 + writer * 10_000_000


# --- the ORM path: the app's own flows ------------------------------------------------------------------

class OrmWriter:
    def __init__(self, app, url: str):
        from marketplace.db import Database

        # A forked child must not share the parent's connections: a fresh engine for this process.
        self.db = Database.from_url(url)
        app.extensions["canal_db"] = self.db
        self.ctx = app.app_context()
        self.ctx.push()

    def cycle(self, enterprise: int, creator: int, order: int) -> None:
        from marketplace.ledger import flows

        # Two write sessions, as two requests would have: each is opened, posts, commits and is closed.
        session = self.db.write_session_factory()
        try:
            flows.fund_escrow(session, order_id=order, enterprise_id=enterprise, price=PRICE,
                              service_fee=SERVICE_FEE, key=f"order:{order}:fund")
            session.commit()
        finally:
            session.close()
        split = flows.EscrowRelease(price=PRICE, service_fee=SERVICE_FEE, commission=COMMISSION,
                                    retention=RETENTION)
        session = self.db.write_session_factory()
        try:
            flows.release_escrow(session, order_id=order, creator_id=creator, split=split,
                                 key=f"order:{order}:release")
            session.commit()
        finally:
            session.close()

    def close(self) -> None:
        self.db.engine.dispose()
        self.ctx.pop()


# --- the raw-SQL ceiling ----------------------------------------------------------------------------------

class RawWriter:
    """The same rows, written by hand through the DB-API driver (psycopg or sqlite3)."""

    def __init__(self, app, url: str):
        self.pg = url.startswith("postgres")
        if self.pg:
            import psycopg

            self.conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
        else:
            import sqlite3

            self.conn = sqlite3.connect(url.removeprefix("sqlite:///"), isolation_level=None, timeout=15,
                                        check_same_thread=False)
            for pragma in ("foreign_keys=ON", "busy_timeout=15000", "journal_mode=WAL", "synchronous=NORMAL"):
                self.conn.execute(f"PRAGMA {pragma}")
        self.p = "%s" if self.pg else "?"

    def _now(self):
        now = datetime.now(UTC)
        return now if self.pg else now.replace(tzinfo=None).isoformat(" ")

    def _post(self, cur, kind: str, key: str, order: int, legs: list[tuple[str, int]], now) -> None:
        p = self.p
        codes = sorted({code for code, _ in legs})
        marks = ", ".join([p] * len(codes))
        cur.execute(f"SELECT id, code, type, balance, min_balance FROM ledger_accounts WHERE code IN ({marks}) "
                    f"ORDER BY id{' FOR UPDATE' if self.pg else ''}", codes)
        accounts = {code: (id_, type_, balance, floor) for id_, code, type_, balance, floor in cur.fetchall()}
        for code, amount in legs:
            id_, type_, balance, floor = accounts[code]
            sign = 1 if type_ in ("asset", "expense") else -1
            if floor is not None and amount * sign < 0 and (balance + amount) * sign < floor:
                raise RuntimeError(f"insufficient funds in {code}")
        cur.execute(
            "INSERT INTO ledger_transactions (kind, idempotency_key, request_hash, memo, reference_type, "
            f"reference_id, created_at) VALUES ({p}, {p}, {p}, '', 'order', {p}, {p}) "
            "ON CONFLICT (idempotency_key) DO NOTHING RETURNING id",
            (kind, key, "0" * 64, order, now))
        txn_id = cur.fetchone()[0]
        rows, updates = [], []
        for code, amount in legs:
            id_, type_, balance, floor = accounts[code]
            balance += amount
            accounts[code] = (id_, type_, balance, floor)
            rows.append((txn_id, id_, amount, "CNY", balance))
            updates.append((amount, now, id_))
        values = ", ".join([f"({p}, {p}, {p}, {p}, {p})"] * len(rows))
        cur.execute(f"INSERT INTO ledger_postings (transaction_id, account_id, amount, currency, balance_after) "
                    f"VALUES {values}", [v for row in rows for v in row])
        cur.executemany(f"UPDATE ledger_accounts SET balance = balance + {p}, posting_count = posting_count + 1, "
                        f"updated_at = {p} WHERE id = {p}", updates)

    def _transaction(self):
        cur = self.conn.cursor()
        if not self.pg:
            cur.execute("BEGIN IMMEDIATE")
        return cur

    def cycle(self, enterprise: int, creator: int, order: int) -> None:
        p = self.p
        wallet, escrow = f"enterprise:{enterprise}:available", f"order:{order}:escrow"
        pending = f"creator:{creator}:pending"
        total = PRICE + SERVICE_FEE
        try:
            cur = self._transaction()
            now = self._now()
            cur.execute(
                "INSERT INTO ledger_accounts (code, name, type, currency, owner_type, owner_id, balance, min_balance, "
                f"posting_count, created_at, updated_at) VALUES ({p}, {p}, 'liability', 'CNY', 'order', {p}, 0, 0, 0, "
                f"{p}, {p}) ON CONFLICT (code) DO NOTHING", (escrow, f"Order #{order} held funds", order, now, now))
            self._post(cur, "fund_escrow", f"order:{order}:fund", order, [(wallet, total), (escrow, -total)], now)
            self.conn.commit()
            cur = self._transaction()
            out = PRICE + SERVICE_FEE - RETENTION
            self._post(cur, "release_escrow", f"order:{order}:release", order, [
                (escrow, out), (pending, -(PRICE - COMMISSION - RETENTION)), (REVENUE_FEE, -SERVICE_FEE),
                (REVENUE_COMMISSION, -COMMISSION)], self._now())
            self.conn.commit()
        except BaseException:
            self.conn.rollback()
            raise

    def close(self) -> None:
        self.conn.close()


# --- running a measurement ---------------------------------------------------------------------------------

KINDS = ("raw", "orm")
SLICES = [(mode, kind) for mode in MODES for kind in KINDS]
ROUNDS = 4  # the slices alternate, ROUNDS times, so machine noise falls on every figure alike


def _writer(app, url: str, run: int, writer: int, barrier, results) -> None:
    """One writer process: both paths, both modes, one slice at a time when the parent says go."""
    try:
        paths = {"raw": RawWriter(app, url), "orm": OrmWriter(app, url)}
        enterprise, creator, order = {}, {}, _ids(run, writer, "hot")[2]
        for mode in MODES:
            enterprise[mode], creator[mode], _ = _ids(run, writer, mode)
            for path in paths.values():  # warm: connections, statement caches, accounts
                path.cycle(enterprise[mode], creator[mode], order)
                order += 1
        posted = len(MODES) * len(paths)
        for _ in range(ROUNDS):
            for mode, kind in SLICES:
                barrier.wait(timeout=120)
                deadline = time.monotonic() + SECONDS / ROUNDS
                done = 0
                while time.monotonic() < deadline:
                    paths[kind].cycle(enterprise[mode], creator[mode], order)
                    order += 1
                    done += 1
                posted += done
                results.put(((mode, kind), done, None))
        for path in paths.values():
            path.close()
        barrier.wait(timeout=120)  # every slice's count is in before the totals
        results.put(("posted", posted, None))
    except BaseException:  # noqa: BLE001 - reported by the parent
        barrier.abort()
        results.put(("error", 0, traceback.format_exc()))


def measure(app, url: str, run: int, writers: int) -> tuple[dict[tuple[str, str], float], int]:
    """Cycles per second of ``writers`` processes per (mode, path) — SECONDS each, in ROUNDS alternating
    slices — and how many cycles they posted in all."""
    from marketplace.db import database

    database(app).engine.dispose()  # no pooled connection may cross the fork
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(writers + 1), ctx.Queue()
    procs = [ctx.Process(target=_writer, args=(app, url, run, w, barrier, results)) for w in range(writers)]
    for proc in procs:
        proc.start()
    cycles = dict.fromkeys(SLICES, 0)
    seconds = dict.fromkeys(SLICES, 0.0)
    posted = 0

    def collect(expect) -> int:
        what, n, error = results.get(timeout=SECONDS + 120)
        if error:
            raise RuntimeError(f"ledger writer failed:\n{error}")
        assert what == expect, (what, expect)
        return n

    try:
        for _ in range(ROUNDS):
            for slice_ in SLICES:
                try:
                    barrier.wait(timeout=120)
                except threading.BrokenBarrierError:
                    collect("error")  # a writer failed: raise its error
                started = time.monotonic()
                for _ in range(writers):
                    cycles[slice_] += collect(slice_)
                seconds[slice_] += max(time.monotonic() - started, SECONDS / ROUNDS)
        barrier.wait(timeout=120)
        for _ in range(writers):
            posted += collect("posted")
    finally:
        for proc in procs:
            proc.join(timeout=30)
            if proc.is_alive():
                proc.kill()
    return {slice_: cycles[slice_] / seconds[slice_] for slice_ in SLICES}, posted


def prepare(app, run: int, writers: int) -> None:
    """Fund the writers' wallets (the hot one and their own) and open their creators' and the revenue accounts
    (not measured)."""
    from marketplace.db import database
    from marketplace.ledger import flows
    from marketplace.ledger.services import open_account

    with app.app_context():
        session = database(app).write_session_factory()
        for writer in range(writers):
            for mode in MODES:
                enterprise, creator, _ = _ids(run, writer, mode)
                flows.top_up(session, enterprise_id=enterprise, amount=FUNDING, rail="bank",
                             key=f"bench:{run}:{enterprise}:topup")
                for code in (flows.creator_pending(creator), REVENUE_FEE, REVENUE_COMMISSION):
                    spec = flows.account_spec(code)
                    open_account(session, code, spec.type, name=spec.name, owner_type=spec.owner_type,
                                 owner_id=spec.owner_id, min_balance=spec.min_balance)
        session.commit()
        session.close()


def check(app, expected_transactions: int) -> None:
    """The ledger after all the writing: sound, and every cycle posted its two transactions exactly once."""
    from sqlalchemy import func, select

    from marketplace.db import database
    from marketplace.ledger.models import LedgerTransaction
    from marketplace.ledger.services import balance_mismatches, trial_balance, unbalanced_transactions

    with app.app_context():
        session = database(app).session_factory()
        _, net = trial_balance(session)
        count = session.scalar(select(func.count()).select_from(LedgerTransaction)
                               .where(LedgerTransaction.kind.in_(["fund_escrow", "release_escrow"])))
        problems = []
        if any(net.values()):
            problems.append(f"trial balance {net}")
        if count != expected_transactions:
            problems.append(f"{count} fund/release transactions, expected {expected_transactions}")
        if mismatches := balance_mismatches(session):
            problems.append(f"cached balances differ: {mismatches[:5]}")
        if unbalanced := unbalanced_transactions(session):
            problems.append(f"unbalanced transactions: {unbalanced[:5]}")
        session.close()
    if problems:
        raise RuntimeError("ledger unsound after the benchmark: " + "; ".join(problems))


def lock_handovers(app, run: int) -> dict[str, float]:
    """SQLite: per path, the share of its transactions in measurement ``run`` whose writer is not the writer of the
    transaction committed just before (a hand-over of the write lock; the new holder starts with a cold page cache,
    and on a busy machine with cold CPU caches). Transaction ids follow the lock's order on SQLite; the writer is in
    the order id (``_ids``); the raw path writes a request hash of zeros. Pairs that straddle two slices are left
    out."""
    from sqlalchemy import select

    from marketplace.db import database
    from marketplace.ledger.models import LedgerTransaction

    with app.app_context():
        session = database(app).session_factory()
        rows = session.execute(
            select(LedgerTransaction.reference_id, LedgerTransaction.request_hash)
            .where(LedgerTransaction.kind.in_(["fund_escrow", "release_escrow"]),
                   LedgerTransaction.reference_id >= run * 100_000_000,
                   LedgerTransaction.reference_id < (run + 1) * 100_000_000)
            .order_by(LedgerTransaction.id)).all()
        session.close()
    pairs, handovers = dict.fromkeys(KINDS, 0), dict.fromkeys(KINDS, 0)
    previous = None
    for order, request_hash in rows:
        kind, writer = ("raw" if request_hash == "0" * 64 else "orm"), order % 100_000_000 // 10_000_000
        if previous is not None and previous[0] == kind:
            pairs[kind] += 1
            handovers[kind] += previous[1] != writer
        previous = kind, writer
    return {kind: handovers[kind] / pairs[kind] for kind in KINDS if pairs[kind]}


def session_overhead(app, url: str, blocks: int = 40, per_block: int = 50) -> float:
    """Microseconds a write session adds to a trivial transaction (BEGIN [IMMEDIATE], SELECT 1, COMMIT) over the
    driver alone: the floor under every app transaction, ledger or not. The median over alternating blocks."""
    import statistics

    from marketplace.db import database

    raw = RawWriter(app, url)
    factory = database(app).write_session_factory

    def orm_txn():  # the session plumbing ``post`` pays: begin, the connection's cursor, commit, close
        session = factory()
        cur = session.connection().connection.cursor()
        cur.execute("SELECT 1")
        cur.fetchall()
        cur.close()
        session.commit()
        session.close()

    def raw_txn():
        cur = raw._transaction()
        cur.execute("SELECT 1")
        cur.fetchall()
        raw.conn.commit()

    def block(txn) -> float:
        started = time.perf_counter()
        for _ in range(per_block):
            txn()
        return (time.perf_counter() - started) / per_block

    block(orm_txn), block(raw_txn)  # warm up
    differences = [block(orm_txn) - block(raw_txn) for _ in range(blocks)]
    raw.close()
    database(app).engine.dispose()
    return statistics.median(differences) * 1e6


def run_backend(label: str, url: str, tmp: Path) -> None:
    from marketplace.db import database
    from tests.conftest import build_app

    app = build_app(url, tmp)
    run, expected = 0, 0
    try:
        for writers in WRITERS:
            run += 1
            prepare(app, run, writers)
            rates, posted = measure(app, url, run, writers)
            expected += 2 * posted
            for mode in MODES:
                name = f"ledger.{label}.{writers}w.{mode}"
                orm, raw = rates[mode, "orm"], rates[mode, "raw"]
                emit(f"{name}.cycles_per_s", orm, "cycles/s")
                emit(f"{name}.transactions_per_s", 2 * orm, "txn/s")
                emit(f"{name}.raw_cycles_per_s", raw, "cycles/s")
                emit(f"{name}.raw_transactions_per_s", 2 * raw, "txn/s")
                emit(f"{name}.ratio_to_raw", orm / raw, "x")
            emit(f"ledger.{label}.{writers}w.hot_to_distinct", rates["hot", "orm"] / rates["distinct", "orm"], "x")
            emit(f"ledger.{label}.{writers}w.raw_hot_to_distinct", rates["hot", "raw"] / rates["distinct", "raw"], "x")
            if label == "sqlite" and writers > 1:
                handovers = lock_handovers(app, run)
                emit(f"ledger.{label}.{writers}w.lock_handover", handovers["orm"], "x")
                emit(f"ledger.{label}.{writers}w.raw_lock_handover", handovers["raw"], "x")
        emit(f"ledger.{label}.session_overhead_per_txn", session_overhead(app, url), "us")
        check(app, expected)
    finally:
        database(app).engine.dispose()


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="canal-bench-ledger-") as tmp:
        tmp_path = Path(tmp)
        run_backend("sqlite", f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path)
        pg = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL", "")
        if not pg.startswith("postgres"):
            print("# ledger: PostgreSQL skipped (set BENCH_DATABASE_URL or DATABASE_URL)", flush=True)
            return
        from tests.conftest import create_test_database, drop_test_databases

        os.environ.setdefault("DATABASE_URL", pg)
        try:
            run_backend("postgresql", create_test_database(tmp_path, "bench_ledger"), tmp_path)
        finally:
            drop_test_databases()


if __name__ == "__main__":
    main()
