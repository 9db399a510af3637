"""Benchmark plumbing: serve the app under gunicorn, measure latency with one connection and throughput with
many (wrk), and print ``BENCH <name> <value> <unit>`` lines.

Absolute numbers drift on shared machines, so every web figure is paired with the same run's ceiling: the
app's trivial ``/healthz`` page under the same server. Where other processes take the cores, CPU time per request
(``server_cpu_seconds`` of the gunicorn processes, ``database_cpu_seconds`` of PostgreSQL's backends, from /proc)
hardly changes: its ratio to the ceiling's is the throughput ratio an idle machine would give.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent


def emit(name: str, value: float, unit: str) -> None:
    shown = f"{value:.3f}" if isinstance(value, float) and abs(value) < 100 else f"{value:.0f}"
    print(f"BENCH {name} {shown} {unit}", flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def bench_env(database_url: str, instance: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "CANAL_ENV": "development",
        "SECRET_KEY": "bench-secret-" + "x" * 32,
        "DATABASE_URL": database_url,
        "JOBS_IN_PROCESS": "0",
        "RATELIMIT_ENABLED": "0",
        "UPLOAD_DIR": str(instance / "uploads"),
    })
    return env


@contextlib.contextmanager
def gunicorn(database_url: str, workers: int = 2, threads: int = 1, warm_timeout: float = 10) -> Iterator[str]:
    """Serve ``app:app`` under gunicorn on a free port; yield the base URL. ``warm_timeout``: seconds the first
    request may take (a loaded machine can take longer than 10 s for a worker to import the app)."""
    port = free_port()
    instance = Path(tempfile.mkdtemp(prefix="canal-bench-"))
    cmd = [str(VENV_BIN / "gunicorn"), "--no-control-socket", "-w", str(workers), "--threads", str(threads),
           "-b", f"127.0.0.1:{port}", "--log-level", "warning", "app:app"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=bench_env(database_url, instance))
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            with contextlib.suppress(OSError):
                with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                    break
            time.sleep(0.05)
        get(base + "/healthz", timeout=warm_timeout)  # warm
        yield base
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=10)
        if proc.poll() is None:
            proc.kill()
        shutil.rmtree(instance, ignore_errors=True)


def _cpu_seconds(matches) -> float:
    """User + system CPU time so far of the processes whose command line (a list of bytes) ``matches``."""
    total = 0.0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
            if not matches(cmdline):
                continue
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (OSError, UnicodeDecodeError):
            continue
        total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
    return total


def server_cpu_seconds(base: str) -> float:
    """CPU time so far of the gunicorn processes serving ``base`` (master and workers)."""
    port = f":{urlsplit(base).port}".encode()
    return _cpu_seconds(lambda cmd: any(b"gunicorn" in part for part in cmd)
                        and any(part.endswith(port) for part in cmd))


def database_cpu_seconds(database_url: str) -> float:
    """CPU time so far of the PostgreSQL backends connected to ``database_url``'s database (0 for SQLite, whose
    work is the server's own)."""
    if not database_url.startswith("postgres"):
        return 0.0
    name = urlsplit(database_url).path.lstrip("/").encode()
    return _cpu_seconds(lambda cmd: bool(cmd) and cmd[0].startswith(b"postgres:") and name in b" ".join(cmd))


def get(url: str, cookie: str = "", timeout: float = 10) -> tuple[int, bytes]:
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers={"Cookie": cookie})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    return response.status, body


def settled_cookie(url: str, cookie: str) -> str:
    """The cookie a browser would hold after one request to ``url`` with ``cookie``: the server may rewrite the
    session on a client's first request (Flask-Login marks a session made by another client — here the login's
    urllib — as not fresh); a benchmark that kept sending the old cookie would have it re-signed on every request."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    conn.request("GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers={"Cookie": cookie})
    response = conn.getresponse()
    response.read()
    jar = dict(part.strip().split("=", 1) for part in cookie.split(";") if "=" in part)
    for header, value in response.getheaders():
        if header.lower() == "set-cookie":
            name, _sep, rest = value.partition("=")
            jar[name.strip()] = rest.split(";", 1)[0]
    conn.close()
    return "; ".join(f"{name}={value}" for name, value in jar.items())


def latency(url: str, requests: int = 400, cookie: str = "", warmup: int = 30,
            headers: dict[str, str] | None = None) -> tuple[float, float]:
    """p50 and p99 in ms over one keep-alive connection (``headers``: extra request headers)."""
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
    samples = []
    for i in range(requests + warmup):
        start = time.perf_counter()
        conn.request("GET", path, headers={"Cookie": cookie, **(headers or {})})
        response = conn.getresponse()
        response.read()
        if response.status != 200:
            raise RuntimeError(f"{url} answered {response.status}")
        if i >= warmup:
            samples.append((time.perf_counter() - start) * 1000)
    conn.close()
    samples.sort()
    return statistics.median(samples), samples[min(len(samples) - 1, int(len(samples) * 0.99))]


def throughput(url: str, connections: int = 32, seconds: int = 8, cookie: str = "",
               headers: dict[str, str] | None = None) -> float:
    """Requests per second with ``connections`` concurrent connections (wrk), bounded in time."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed (make bench installs it)")
    cmd = [wrk, "-t2", f"-c{connections}", f"-d{seconds}s", "--latency", url]
    if cookie:
        cmd[1:1] = ["-H", f"Cookie: {cookie}"]
    for name, value in (headers or {}).items():
        cmd[1:1] = ["-H", f"{name}: {value}"]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=seconds + 30).stdout
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if errors:
        raise RuntimeError(f"{url}: {errors.group(1)} error responses under load\n{out}")
    match = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not match:
        raise RuntimeError(f"wrk output not understood:\n{out}")
    return float(match.group(1))
