"""Order-taking under gunicorn: the brand's order board and the creator's order list, at 100k and 1M orders, on
SQLite and PostgreSQL, against the app's trivial page (``/healthz``) measured in the same run.

For each backend: a fresh database (migrated), the benchmark's brand (enterprise 1; its owner signs in), then
``bench.orders_data`` writes 10,000 enterprises and 100,000 creators (creator 1's user gets a password and signs
in) and the first 100,000 orders — 50,000 of them the brand's and 2,000 the creator's — and the pages are
measured; then it grows the same database to 1,000,000 orders (the tail of other brands and creators only), so
the two scales differ only in the size of the table, not in the size of the pages' own accounts.

Pages:
- ``board_active``: /enterprises/1/orders (the board's default column: the orders being delivered, ~4,400 of
  the brand's 50,000);
- ``board_completed``: the board's "completed" column (~31,000: completed, closed, resolved);
- ``creator_orders``: /creator/orders (the creator's active orders, of 2,000);
- ``creator_orders_completed``: its "completed" tab;
- ``ceiling``: /healthz.

``BENCH_ORDERS_BACKENDS`` (default ``sqlite,postgresql``) picks the backends.

Latency: p50/p99 over ``BENCH_ORDERS_REQUESTS`` (default 300) requests on one keep-alive connection;
throughput: wrk, 32 connections, ``BENCH_ORDERS_SECONDS`` (default 6) seconds. Prints
``BENCH orders.<backend>.<scale>.<page>.<metric> <value> <unit>`` with ``ratio_to_ceiling`` per page, and
``orders.<backend>.<page>.p50_growth_100k_to_1000k`` (how cost grows with the table: 1.0 is flat).

Because the shared machine's load swings (other processes take the cores the server, the database and wrk need),
each page also gets ``server_cpu_ms`` (the CPU the gunicorn processes spent per request during its latency run,
after 30 warm-up requests), ``database_cpu_ms`` on PostgreSQL (its backends' CPU per request), which other load
hardly changes, ``cpu_ratio_to_ceiling`` = the ceiling's CPU per request ÷ the page's (server + database): the
throughput ratio an otherwise idle machine would give, and ``cpu_growth_100k_to_1000k``. The signed-in clients
keep the cookie the server settles on after their first request, as a browser does (``settled_cookie``).

Generating 1M orders takes minutes: ``BENCH_ORDERS_KEEP=<dir>`` keeps each scale's database between runs (SQLite:
``<dir>/orders-<scale>.db``; PostgreSQL: a database ``bench_orders_keep_<scale>`` on the server) and a later run
with the same knob migrates and measures the kept ones instead of generating them again (delete them to
regenerate, e.g. after changing the generator).
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
from pathlib import Path

from bench.harness import (
    database_cpu_seconds,
    emit,
    gunicorn,
    latency,
    server_cpu_seconds,
    settled_cookie,
    throughput,
)

SCALES = tuple(int(n) for n in os.environ.get("BENCH_ORDERS_SCALES", "100000,1000000").split(","))
REQUESTS = int(os.environ.get("BENCH_ORDERS_REQUESTS", "300"))
SECONDS = int(os.environ.get("BENCH_ORDERS_SECONDS", "6"))
KEEP = os.environ.get("BENCH_ORDERS_KEEP", "")
WARM_TIMEOUT = 300  # s for gunicorn's first answer: under load 10+ its workers took over 10 s to import the app
BRAND_EMAIL = "bench-orders-brand@example.com"
CREATOR_EMAIL = "bench-creator-1@example.com"  # creator 1 of bench.discovery_data
PASSWORD = "violet harbour compass 9182"

# name -> (who signs in, endpoint that must exist, path)
PAGES = {
    "board_active": ("brand", "orders.board", "/enterprises/1/orders"),
    "board_completed": ("brand", "orders.board", "/enterprises/1/orders?column=completed"),
    "creator_orders": ("creator", "orders.my_orders", "/creator/orders"),
    "creator_orders_completed": ("creator", "orders.my_orders", "/creator/orders?column=completed"),
}


def _app(database_url: str):
    from marketplace import create_app

    return create_app({"ENV": {"CANAL_ENV": "development", "SECRET_KEY": "bench-secret-" + "x" * 32,
                               "DATABASE_URL": database_url, "JOBS_IN_PROCESS": "0"}})


def prepare(database_url: str) -> None:
    """Migrate a fresh database and create the verified brand (enterprise 1) whose owner opens the board."""
    from marketplace.accounts.services import create_user
    from marketplace.cli import upgrade_database
    from marketplace.db import database, get_session
    from marketplace.enterprises import services
    from marketplace.seed import make_uscc

    app = _app(database_url)
    upgrade_database(app)
    with app.app_context():
        session = get_session()
        owner = create_user(session, email=BRAND_EMAIL, password=PASSWORD, display_name="Bench Orders Owner",
                            signup_kind="brand", verified=True)
        enterprise = services.create_enterprise(session, owner, services.EnterpriseDetails(
            legal_name="基准订单品牌有限公司", display_name="Bench Orders Brand", uscc=make_uscc("91310115MA1K4BRD1"),
            contact_name="Bench", contact_phone="+86 21 5555 0000", contact_email=BRAND_EMAIL, invoice_title="",
            tax_number=""))
        enterprise.verification_state = "verified"  # as if a reviewer approved it
        session.commit()
        if enterprise.id != 1:
            raise RuntimeError("the benchmark's brand must be enterprise 1 of a fresh database")
    database(app).engine.dispose()


def creator_password(database_url: str) -> None:
    """Give creator 1's generated user (no password) a real one, so the benchmark can sign in as the creator."""
    from sqlalchemy import update

    from marketplace.accounts.models import User
    from marketplace.db import database
    from marketplace.security import hash_password

    app = _app(database_url)
    with app.app_context(), database(app).engine.begin() as connection:
        changed = connection.execute(update(User).where(User.email == CREATOR_EMAIL)
                                     .values(password_hash=hash_password(PASSWORD))).rowcount
    database(app).engine.dispose()
    if changed != 1:
        raise RuntimeError(f"no user {CREATOR_EMAIL}")


def pages_in_build(database_url: str, pages: dict) -> dict:
    app = _app(database_url)
    present = {name: page for name, page in pages.items() if page[1] in app.view_functions}
    for name in sorted(set(pages) - set(present)):
        print(f"# {name}: {pages[name][1]} is not in this build", flush=True)
    return present


def timed_latency(base: str, path: str, database_url: str, cookie: str = "") -> tuple[float, float, float, float]:
    """p50 and p99 (ms) on one connection, and the CPU ms per request of the server and of the database over the
    same requests, after 30 warm-up requests (a worker's first requests compile templates and statements)."""
    latency(base + path, requests=1, warmup=30, cookie=cookie)
    server, database = server_cpu_seconds(base), database_cpu_seconds(database_url)
    p50, p99 = latency(base + path, requests=REQUESTS, warmup=0, cookie=cookie)
    return (p50, p99, (server_cpu_seconds(base) - server) * 1000 / REQUESTS,
            (database_cpu_seconds(database_url) - database) * 1000 / REQUESTS)


def measure(label: str, database_url: str, scale: int, results: dict, pages: dict = PAGES) -> None:
    from bench.web_foundation import login_cookie

    pages = pages_in_build(database_url, pages)
    prefix = f"orders.{label}.{_k(scale)}"
    postgres = database_url.startswith("postgres")
    with gunicorn(database_url, warm_timeout=WARM_TIMEOUT) as base:
        cookies = {"brand": settled_cookie(base + PAGES["board_active"][2],
                                           login_cookie(base, BRAND_EMAIL, PASSWORD)),
                   "creator": settled_cookie(base + PAGES["creator_orders"][2],
                                             login_cookie(base, CREATOR_EMAIL, PASSWORD))}
        ceiling = throughput(base + "/healthz", seconds=SECONDS)
        emit(f"{prefix}.ceiling.healthz.rps", ceiling, "req/s")
        _p50, _p99, ceiling_cpu, _db = timed_latency(base, "/healthz", database_url)
        emit(f"{prefix}.ceiling.healthz.server_cpu_ms", ceiling_cpu, "ms")
        for name, (who, _endpoint, path) in pages.items():
            p50, p99, cpu, db_cpu = timed_latency(base, path, database_url, cookies[who])
            results[(label, scale, name)] = (p50, cpu + db_cpu)
            emit(f"{prefix}.{name}.p50", p50, "ms")
            emit(f"{prefix}.{name}.p99", p99, "ms")
            emit(f"{prefix}.{name}.server_cpu_ms", cpu, "ms")
            if postgres:
                emit(f"{prefix}.{name}.database_cpu_ms", db_cpu, "ms")
            emit(f"{prefix}.{name}.cpu_ratio_to_ceiling", ceiling_cpu / (cpu + db_cpu), "x")
            rps = throughput(base + path, seconds=SECONDS, cookie=cookies[who])
            emit(f"{prefix}.{name}.rps", rps, "req/s")
            emit(f"{prefix}.{name}.ratio_to_ceiling", rps / ceiling, "x")


def _k(scale: int) -> str:
    return f"{scale // 1000}k" if scale % 1000 == 0 else str(scale)


class _Databases:
    """Where a backend's databases live: the working one the scales grow in, and (``BENCH_ORDERS_KEEP``) a kept
    copy per scale that later runs reuse."""

    def __init__(self, label: str, working_url: str, admin_url: str = ""):
        self.label, self.working_url, self.admin_url = label, working_url, admin_url

    def kept_url(self, scale: int) -> str:
        if self.label == "sqlite":
            return f"sqlite:///{Path(KEEP).resolve() / f'orders-{_k(scale)}.db'}"
        from sqlalchemy.engine import make_url

        return make_url(self.admin_url).set(database=f"bench_orders_keep_{_k(scale)}").render_as_string(
            hide_password=False)

    def exists(self, url: str) -> bool:
        if self.label == "sqlite":
            return Path(url.split("///", 1)[1]).exists()
        from sqlalchemy.engine import make_url

        return bool(self._admin("SELECT 1 FROM pg_database WHERE datname = :name",
                                name=make_url(url).database))

    def copy(self, source: str, target: str) -> None:
        """Replace the database at ``target`` with a copy of ``source`` (nobody connected to either)."""
        if self.label == "sqlite":
            target_path = Path(target.split("///", 1)[1])
            target_path.parent.mkdir(parents=True, exist_ok=True)
            target_path.unlink(missing_ok=True)
            with sqlite3.connect(source.split("///", 1)[1]) as src, sqlite3.connect(target_path) as dst:
                src.backup(dst)
            return
        from sqlalchemy.engine import make_url

        src, dst = make_url(source).database, make_url(target).database
        for name in (src, dst):
            self._admin("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :name "
                        "AND pid <> pg_backend_pid()", name=name)
        self._admin(f'DROP DATABASE IF EXISTS "{dst}"')
        self._admin(f'CREATE DATABASE "{dst}" TEMPLATE "{src}"')

    def _admin(self, sql: str, **params):
        from sqlalchemy import create_engine, text

        engine = create_engine(self.admin_url, isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as connection:
                result = connection.execute(text(sql), params)
                return result.scalar() if result.returns_rows else None
        finally:
            engine.dispose()


def _migrate(database_url: str) -> None:
    from marketplace.cli import upgrade_database
    from marketplace.db import database

    app = _app(database_url)
    upgrade_database(app)
    database(app).engine.dispose()


def run_backend(label: str, databases: _Databases) -> None:
    from bench.orders_data import PRODUCTION, generate_orders, generate_people

    def log(line: str) -> None:
        print(line, flush=True)

    started = time.perf_counter()
    results: dict = {}
    generated = 0  # orders in the working database (0: not made yet)
    previous_kept = ""
    working = databases.working_url
    for scale in SCALES:
        if scale < PRODUCTION.fixed_orders:
            raise ValueError(f"each scale holds the big brand's and creator's {PRODUCTION.fixed_orders:,} orders")
        kept = databases.kept_url(scale) if KEEP else ""
        if kept and databases.exists(kept):
            log(f"# {label} {_k(scale)}: reusing the kept database {kept}")
            _migrate(kept)
            measure(label, kept, scale, results)
            previous_kept = kept
            continue
        if not generated:
            if previous_kept:
                databases.copy(previous_kept, working)
                _migrate(working)
                generated = SCALES[SCALES.index(scale) - 1]
            else:
                prepare(working)
                timing = generate_people(working, log=log)
                emit(f"orders.{label}.people.generate.rows_per_s", timing["rows"] / timing["seconds"], "rows/s")
                creator_password(working)
        timing = generate_orders(working, generated + 1, scale - generated, log=log)
        emit(f"orders.{label}.{_k(scale)}.generate.rows_per_s", timing["rows"] / timing["seconds"], "rows/s")
        generated = scale
        if kept:  # before measuring: a failed measurement keeps the data
            databases.copy(working, kept)
            log(f"# {label} {_k(scale)}: kept as {kept}")
        measure(label, working, scale, results)
    small, large = SCALES[0], SCALES[-1]
    for (backend, scale, name), (p50, cpu) in sorted(results.items()):
        if backend == label and scale == large and small != large and (label, small, name) in results:
            small_p50, small_cpu = results[(label, small, name)]
            emit(f"orders.{label}.{name}.p50_growth_{_k(small)}_to_{_k(large)}", p50 / small_p50, "x")
            emit(f"orders.{label}.{name}.cpu_growth_{_k(small)}_to_{_k(large)}", cpu / small_cpu, "x")
    print(f"# orders on {label}: {time.perf_counter() - started:.0f}s", flush=True)


def main() -> None:
    if os.environ.get("BENCH_ORDERS_BACKENDS", "sqlite,postgresql").find("sqlite") >= 0:
        with tempfile.TemporaryDirectory() as tmp:
            run_backend("sqlite", _Databases("sqlite", f"sqlite:///{tmp}/orders.db"))
    pg = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL", "")
    if pg.startswith("postgres") and "postgresql" in os.environ.get("BENCH_ORDERS_BACKENDS", "sqlite,postgresql"):
        from tests.conftest import create_test_database, drop_test_databases

        if pg.startswith("postgresql://"):
            pg = "postgresql+psycopg://" + pg.split("://", 1)[1]
        os.environ["DATABASE_URL"] = pg  # create_test_database makes its database on this server
        try:
            run_backend("postgresql", _Databases("postgresql", create_test_database(Path(tempfile.mkdtemp()),
                                                                                    "bench_orders"), pg))
        finally:
            drop_test_databases()


if __name__ == "__main__":
    main()
