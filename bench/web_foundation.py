"""Foundation pages under gunicorn: the ceiling (/healthz), the login page, and a signed-in enterprise
overview, on SQLite and (when BENCH_DATABASE_URL or DATABASE_URL points at one) PostgreSQL."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from pathlib import Path

from bench.harness import ROOT, VENV_BIN, bench_env, emit, gunicorn, latency, throughput


def prepare(database_url: str) -> None:
    env = bench_env(database_url, Path(tempfile.mkdtemp()))
    for args in (["db", "upgrade"], ["seed-demo"]):
        subprocess.run([str(VENV_BIN / "flask"), "--app", "app", *args], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)


def login_cookie(base: str, email: str, password: str) -> str:
    import http.cookiejar
    import urllib.parse
    import urllib.request

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(base + "/login").read().decode()
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html).group(1)
    data = urllib.parse.urlencode({"csrf_token": token, "email": email, "password": password}).encode()
    opener.open(base + "/login", data=data).read()
    return "; ".join(f"{c.name}={c.value}" for c in jar)


def run_backend(label: str, database_url: str) -> None:
    prepare(database_url)
    with gunicorn(database_url) as base:
        cookie = login_cookie(base, "owner@lumen.demo", os.environ.get("DEMO_PASSWORD", "canal-demo-2026"))
        ceiling = throughput(base + "/healthz")
        emit(f"{label}.ceiling.healthz.rps", ceiling, "req/s")
        pages = {"login": (base + "/login", ""), "enterprise_overview": (base + "/enterprises/1", cookie)}
        for name, (url, c) in pages.items():
            p50, p99 = latency(url, cookie=c)
            rps = throughput(url, cookie=c)
            emit(f"{label}.{name}.p50", p50, "ms")
            emit(f"{label}.{name}.p99", p99, "ms")
            emit(f"{label}.{name}.rps", rps, "req/s")
            emit(f"{label}.{name}.ratio_to_ceiling", rps / ceiling, "x")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        run_backend("sqlite", f"sqlite:///{tmp}/bench.db")
    pg = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("DATABASE_URL", "")
    if pg.startswith("postgres"):
        from tests.conftest import create_test_database, drop_test_databases

        try:
            run_backend("postgresql", create_test_database(Path(tempfile.mkdtemp()), "bench"))
        finally:
            drop_test_databases()


if __name__ == "__main__":
    main()
