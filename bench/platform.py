"""The sandbox platform connector: what one account's statistics and its works cost to simulate (the periodic
refresh job and account linking call these for every creator). Prints ``BENCH platform.sandbox.<call>_us``:
the median over five rounds of 300 accounts each, in microseconds per account."""

from __future__ import annotations

import statistics
import time
from datetime import UTC, datetime

from bench.harness import emit

NOW = datetime(2026, 11, 1, tzinfo=UTC)
ACCOUNTS = 300


def _per_account(call, round_: int) -> float:
    handles = [f"bench_{round_}_{i}" for i in range(ACCOUNTS)]
    started = time.perf_counter()
    for handle in handles:
        call(handle, now=NOW)
    return (time.perf_counter() - started) / ACCOUNTS * 1e6


def main() -> None:
    from marketplace.platform.sandbox import SandboxPlatform

    sandbox = SandboxPlatform(seed=2026)
    for name, call in (("account_stats", sandbox.account_stats), ("list_works", sandbox.list_works)):
        call("warm_up", now=NOW)
        emit(f"platform.sandbox.{name}_us", statistics.median(_per_account(call, r) for r in range(5)), "us")


if __name__ == "__main__":
    main()
