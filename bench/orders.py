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

Latency: p50/p99 over ``BENCH_ORDERS_REQUESTS`` (default 300) requests on one keep-alive connection;
throughput: wrk, 32 connections, ``BENCH_ORDERS_SECONDS`` (default 6) seconds. Prints
``BENCH orders.<backend>.<scale>.<page>.<metric> <value> <unit>`` with ``ratio_to_ceiling`` per page, and
``orders.<backend>.<page>.p50_growth_100k_to_1000k`` (how cost grows with the table: 1.0 is flat).

Because the shared machine's load swings (other processes take the cores the server and wrk need), each page also
gets ``server_cpu_ms``: the CPU time the gunicorn processes spent per request during the latency run (from
/proc), which other load hardly changes; ``cpu_ratio_to_ceiling`` = the ceiling's CPU per request ÷ the page's
(the throughput ratio an otherwise idle machine would give, the database's own CPU aside), and
``cpu_growth_100k_to_1000k``.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit

from bench.harness import emit, gunicorn, latency, throughput

SCALES = tuple(int(n) for n in os.environ.get("BENCH_ORDERS_SCALES", "100000,1000000").split(","))
REQUESTS = int(os.environ.get("BENCH_ORDERS_REQUESTS", "300"))
SECONDS = int(os.environ.get("BENCH_ORDERS_SECONDS", "6"))
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


def server_cpu_seconds(base: str) -> float:
    """User + system CPU time so far of the gunicorn processes serving ``base`` (master and workers)."""
    port, total = f":{urlsplit(base).port}", 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if not any(b"gunicorn" in part for part in cmdline) or not any(part.decode().endswith(port)
                                                                          for part in cmdline):
                continue
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, UnicodeDecodeError):
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    return total


def timed_latency(base: str, path: str, cookie: str) -> tuple[float, float, float]:
    """p50, p99 (ms) on one connection, and the server's CPU ms per request over the same requests."""
    before = server_cpu_seconds(base)
    p50, p99 = latency(base + path, requests=REQUESTS, cookie=cookie)
    cpu = (server_cpu_seconds(base) - before) * 1000 / (REQUESTS + 30)  # latency() adds 30 warm-up requests
    return p50, p99, cpu


def measure(label: str, database_url: str, scale: int, results: dict, pages: dict = PAGES) -> None:
    from bench.web_foundation import login_cookie

    pages = pages_in_build(database_url, pages)
    with gunicorn(database_url) as base:
        cookies = {"brand": login_cookie(base, BRAND_EMAIL, PASSWORD),
                   "creator": login_cookie(base, CREATOR_EMAIL, PASSWORD)}
        ceiling = throughput(base + "/healthz", seconds=SECONDS)
        emit(f"orders.{label}.{_k(scale)}.ceiling.healthz.rps", ceiling, "req/s")
        _p50, _p99, ceiling_cpu = timed_latency(base, "/healthz", "")
        emit(f"orders.{label}.{_k(scale)}.ceiling.healthz.server_cpu_ms", ceiling_cpu, "ms")
        for name, (who, _endpoint, path) in pages.items():
            p50, p99, cpu = timed_latency(base, path, cookies[who])
            results[(label, scale, name)] = (p50, cpu)
            emit(f"orders.{label}.{_k(scale)}.{name}.p50", p50, "ms")
            emit(f"orders.{label}.{_k(scale)}.{name}.p99", p99, "ms")
            emit(f"orders.{label}.{_k(scale)}.{name}.server_cpu_ms", cpu, "ms")
            emit(f"orders.{label}.{_k(scale)}.{name}.cpu_ratio_to_ceiling", ceiling_cpu / cpu, "x")
            rps = throughput(base + path, seconds=SECONDS, cookie=cookies[who])
            emit(f"orders.{label}.{_k(scale)}.{name}.rps", rps, "req/s")
            emit(f"orders.{label}.{_k(scale)}.{name}.ratio_to_ceiling", rps / ceiling, "x")


def _k(scale: int) -> str:
    return f"{scale // 1000}k" if scale % 1000 == 0 else str(scale)


def run_backend(label: str, database_url: str) -> None:
    from bench.orders_data import PRODUCTION, generate_orders, generate_people

    started = time.perf_counter()
    prepare(database_url)
    timing = generate_people(database_url, log=lambda line: print(line, flush=True))
    emit(f"orders.{label}.people.generate.rows_per_s", timing["rows"] / timing["seconds"], "rows/s")
    creator_password(database_url)
    results: dict = {}
    generated = 0
    for scale in SCALES:
        if scale < PRODUCTION.fixed_orders:
            raise ValueError(f"each scale holds the big brand's and creator's {PRODUCTION.fixed_orders:,} orders")
        timing = generate_orders(database_url, generated + 1, scale - generated,
                                 log=lambda line: print(line, flush=True))
        emit(f"orders.{label}.{_k(scale)}.generate.rows_per_s", timing["rows"] / timing["seconds"], "rows/s")
        generated = scale
        measure(label, database_url, scale, results)
    small, large = SCALES[0], SCALES[-1]
    for (backend, scale, name), (p50, cpu) in sorted(results.items()):
        if backend == label and scale == large and small != large and (label, small, name) in results:
            small_p50, small_cpu = results[(label, small, name)]
            emit(f"orders.{label}.{name}.p50_growth_{_k(small)}_to_{_k(large)}", p50 / small_p50, "x")
            emit(f"orders.{label}.{name}.cpu_growth_{_k(small)}_to_{_k(large)}", cpu / small_cpu, "x")
    print(f"# orders on {label}: {time.perf_counter() - started:.0f}s", flush=True)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run_backend("sqlite", f"sqlite:///{tmp}/orders.db")
    pg = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL", "")
    if pg.startswith("postgres"):
        from tests.conftest import create_test_database, drop_test_databases

        try:
            run_backend("postgresql", create_test_database(Path(tempfile.mkdtemp()), "bench_orders"))
        finally:
            drop_test_databases()


if __name__ == "__main__":
    main()
