"""Discovery under gunicorn: the filtered search page and a creator's profile page, at 10k and 100k creators,
on SQLite and PostgreSQL, against the app's trivial page (``/healthz``) measured in the same run.

For each backend: a fresh database (migrated), one brand (owner signs in for a session cookie), then
``bench.discovery_data`` appends 10,000 creators (with 10 works and 12 follower snapshots each) and the pages
are measured; then it grows the same database to 100,000 creators (1,000,000 works) and measures again, so the
two scales differ only in size.

Pages:
- ``search``: /discover with a two-character Chinese keyword (护肤, "skincare": shorter than a trigram, so the
  bigram index answers it) + three filters (followers ≥ 10,000, engagement ≥ 2 %, accepting orders) + sorted
  by followers — the figure the goals are about (p99 < 30 ms with one connection; ≥ 10 % of the ceiling);
- ``search_relevance``: a four-character keyword (化妆教程) + region + relevance order (latency only);
- ``browse``: no keyword, category + follower floor, sorted by engagement (latency only);
- ``search_fragment``: the same search as htmx requests it once the page is open (``HX-Request``: the results
  region only, without the layout and the filter form);
- ``profile``: /creators/<id> of a listed creator with works and snapshots (charts, rate card);
- ``overview``: the brand's overview page, the floor of a signed-in page (layout, navigation, context menu);
- ``ceiling``: /healthz.

``BENCH_DISCOVERY_BACKENDS`` (default ``sqlite,postgresql``) picks the backends; PostgreSQL runs when
``BENCH_DATABASE_URL`` or ``DATABASE_URL`` names a server.

Latency: p50/p99 over ``BENCH_DISCOVERY_REQUESTS`` (default 300) requests on one keep-alive connection;
throughput: wrk, 32 connections, ``BENCH_DISCOVERY_SECONDS`` (default 6) seconds. Prints
``BENCH discovery.<backend>.<scale>.<page>.<metric> <value> <unit>`` with ``ratio_to_ceiling`` per page, and
``discovery.<backend>.<page>.p50_growth_10k_to_100k`` (how cost grows with the table: 1.0 is flat).

Because the shared machine's load swings (other processes take the cores the server, the database and wrk
need), each page also gets ``server_cpu_ms`` (the CPU the gunicorn processes spent per request during its latency
run), ``database_cpu_ms`` on PostgreSQL (its backends' CPU per request) and ``cpu_ratio_to_ceiling`` = the
ceiling's CPU per request ÷ the page's (server + database): the throughput ratio an idle machine would give.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from bench.harness import (
    database_cpu_seconds,
    emit,
    gunicorn,
    latency,
    server_cpu_seconds,
    settled_cookie,
    throughput,
)

SCALES = tuple(int(n) for n in os.environ.get("BENCH_DISCOVERY_SCALES", "10000,100000").split(","))
REQUESTS = int(os.environ.get("BENCH_DISCOVERY_REQUESTS", "300"))
SECONDS = int(os.environ.get("BENCH_DISCOVERY_SECONDS", "6"))
BACKENDS = os.environ.get("BENCH_DISCOVERY_BACKENDS", "sqlite,postgresql").split(",")
BRAND_EMAIL = "bench-brand@example.com"
BRAND_PASSWORD = "violet harbour compass 9182"

PAGES = {
    "search": "/discover?" + urlencode({"q": "护肤", "followers_min": "10000", "engagement_min": "2",
                                        "accepting": "y", "sort": "followers"}),
    "search_relevance": "/discover?" + urlencode({"q": "化妆教程", "region": "44", "sort": "relevance"}),
    "browse": "/discover?" + urlencode({"category": "food", "followers_min": "50000", "sort": "engagement"}),
}
PAGES["search_fragment"] = PAGES["search"]  # the same search as htmx asks for it: the results region only
PAGES["overview"] = "/enterprises/1"  # the brand's overview: what any signed-in page costs (latency only)
HEADERS = {"search_fragment": {"HX-Request": "true"}}
THROUGHPUT_PAGES = ("search", "search_fragment", "profile")


def prepare(database_url: str) -> None:
    """Migrate a fresh database and create the brand whose owner runs the searches."""
    from marketplace.accounts.services import create_user
    from marketplace.cli import upgrade_database
    from marketplace.db import database, get_session
    from marketplace.enterprises import services
    from marketplace.seed import make_uscc

    app = _app(database_url)
    upgrade_database(app)
    with app.app_context():
        session = get_session()
        owner = create_user(session, email=BRAND_EMAIL, password=BRAND_PASSWORD, display_name="Bench Brand Owner",
                            signup_kind="brand", verified=True)
        services.create_enterprise(session, owner, services.EnterpriseDetails(
            legal_name="基准测试品牌有限公司", display_name="Bench Brand", uscc=make_uscc("91310115MA1K4BENC"),
            contact_name="Bench", contact_phone="+86 21 5555 0000", contact_email=BRAND_EMAIL, invoice_title="",
            tax_number=""))
        session.commit()
    database(app).engine.dispose()


def _app(database_url: str):
    from marketplace import create_app

    return create_app({"ENV": {"CANAL_ENV": "development", "SECRET_KEY": "bench-secret-" + "x" * 32,
                               "DATABASE_URL": database_url, "JOBS_IN_PROCESS": "0"}})


def profile_path(database_url: str) -> str | None:
    """/creators/<id> of a listed creator in the middle of the table, when this build has the profile page."""
    from sqlalchemy import func, select

    from marketplace.creators.models import Creator
    from marketplace.db import database

    app = _app(database_url)
    if "creator_profiles.profile" not in app.view_functions:
        return None
    with database(app).engine.connect() as connection:
        middle = connection.scalar(select(func.max(Creator.id))) // 2  # a small run (BENCH_DISCOVERY_SCALES=300)
        creator_id = connection.scalar(select(Creator.id).where(Creator.listed.is_(True), Creator.id >= min(5000, middle))
                                       .order_by(Creator.id).limit(1))
    database(app).engine.dispose()
    return f"/creators/{creator_id}"


def timed_latency(base: str, url: str, database_url: str, cookie: str = "",
                  headers: dict[str, str] | None = None) -> tuple[float, float, float, float]:
    """p50 and p99 (ms) on one connection, and the CPU ms per request of the server and of the database over the
    same requests, after 30 warm-up requests (a worker's first requests compile templates and statements)."""
    latency(base + url, requests=1, warmup=30, cookie=cookie, headers=headers)
    server, database = server_cpu_seconds(base), database_cpu_seconds(database_url)
    p50, p99 = latency(base + url, requests=REQUESTS, warmup=0, cookie=cookie, headers=headers)
    return (p50, p99, (server_cpu_seconds(base) - server) * 1000 / REQUESTS,
            (database_cpu_seconds(database_url) - database) * 1000 / REQUESTS)


def measure(label: str, database_url: str, scale: int, results: dict) -> None:
    from bench.web_foundation import login_cookie

    pages = dict(PAGES)
    profile = profile_path(database_url)
    if profile:
        pages["profile"] = profile
    prefix = f"discovery.{label}.{_k(scale)}"
    with gunicorn(database_url, warm_timeout=300) as base:
        cookie = settled_cookie(base + "/discover", login_cookie(base, BRAND_EMAIL, BRAND_PASSWORD))
        ceiling = throughput(base + "/healthz", seconds=SECONDS)
        emit(f"{prefix}.ceiling.healthz.rps", ceiling, "req/s")
        _p50, _p99, ceiling_cpu, _db = timed_latency(base, "/healthz", database_url)
        emit(f"{prefix}.ceiling.healthz.server_cpu_ms", ceiling_cpu, "ms")
        for name, path in pages.items():
            headers = HEADERS.get(name)
            p50, p99, cpu, db_cpu = timed_latency(base, path, database_url, cookie=cookie, headers=headers)
            results[(label, scale, name)] = p50
            emit(f"{prefix}.{name}.p50", p50, "ms")
            emit(f"{prefix}.{name}.p99", p99, "ms")
            emit(f"{prefix}.{name}.server_cpu_ms", cpu, "ms")
            if database_url.startswith("postgres"):
                emit(f"{prefix}.{name}.database_cpu_ms", db_cpu, "ms")
            emit(f"{prefix}.{name}.cpu_ratio_to_ceiling", ceiling_cpu / (cpu + db_cpu), "x")
            if name in THROUGHPUT_PAGES:
                rps = throughput(base + path, seconds=SECONDS, cookie=cookie, headers=headers)
                emit(f"{prefix}.{name}.rps", rps, "req/s")
                emit(f"{prefix}.{name}.ratio_to_ceiling", rps / ceiling, "x")
    if not profile:
        print("# the profile page (creator_profiles.profile) is not in this build: measured search only", flush=True)


def _k(scale: int) -> str:
    return f"{scale // 1000}k" if scale % 1000 == 0 else str(scale)


def run_backend(label: str, database_url: str) -> None:
    from bench.discovery_data import generate

    started = time.perf_counter()
    prepare(database_url)
    results: dict = {}
    generated = 0
    for scale in SCALES:
        timing = generate(database_url, generated + 1, scale - generated,
                          log=lambda line: print(line, flush=True))
        emit(f"discovery.{label}.{_k(scale)}.generate.rows_per_s", timing["rows"] / timing["seconds"], "rows/s")
        generated = scale
        measure(label, database_url, scale, results)
    small, large = SCALES[0], SCALES[-1]
    for (backend, scale, name), p50 in sorted(results.items()):
        if backend == label and scale == large and (label, small, name) in results:
            emit(f"discovery.{label}.{name}.p50_growth_{_k(small)}_to_{_k(large)}",
                 p50 / results[(label, small, name)], "x")
    print(f"# discovery on {label}: {time.perf_counter() - started:.0f}s", flush=True)


def main() -> None:
    if "sqlite" in BACKENDS:
        with tempfile.TemporaryDirectory() as tmp:
            run_backend("sqlite", f"sqlite:///{tmp}/discovery.db")
    pg = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL", "")
    if "postgresql" in BACKENDS and pg.startswith("postgres"):
        from tests.conftest import create_test_database, drop_test_databases

        os.environ["DATABASE_URL"] = pg  # create_test_database makes its database on this server (else: SQLite)
        try:
            run_backend("postgresql", create_test_database(Path(tempfile.mkdtemp()), "bench_discovery"))
        finally:
            drop_test_databases()


if __name__ == "__main__":
    main()
