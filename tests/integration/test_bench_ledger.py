"""``bench/ledger.py``'s lock hand-over figure: from the commit order of the ledger's transactions, the share of a
path's transactions whose writer differs from the one committed just before. Always on SQLite (a file of this
module's own): the figure is SQLite's."""

from __future__ import annotations

import pytest

from bench import ledger as bench_ledger
from marketplace.db import database
from tests.conftest import build_app


@pytest.fixture
def bench_app(tmp_path):
    app = build_app(f"sqlite:///{tmp_path / 'bench.db'}", tmp_path)
    yield app
    database(app).engine.dispose()


def test_lock_handovers_counts_the_changes_of_writer_per_path(bench_app):
    url = str(database(bench_app).engine.url)
    run = 1
    bench_ledger.prepare(bench_app, run, 2)
    orm, raw = bench_ledger.OrmWriter(bench_app, url), bench_ledger.RawWriter(bench_app, url)
    try:
        def cycle(path, writer: int, n: int) -> None:
            enterprise, creator, order = bench_ledger._ids(run, writer, "distinct")
            path.cycle(enterprise, creator, order + n)

        # Each cycle is two transactions (fund, release) of one writer, committed in this order.
        cycle(orm, 0, 0)
        cycle(orm, 0, 1)
        cycle(orm, 1, 0)  # writer 0 -> 1: one hand-over among the path's 5 consecutive pairs
        cycle(raw, 1, 1)  # its first transaction follows the other path's: not a pair
        cycle(raw, 0, 2)
        cycle(raw, 1, 2)  # 1 -> 0 -> 1: two hand-overs among 5 pairs
        cycle(orm, 1, 3)  # follows the raw path: its fund starts a new run of pairs, the release pairs with it
    finally:
        raw.close()
        orm.close()
    assert bench_ledger.lock_handovers(bench_app, run) == {"orm": 1 / 6, "raw": 2 / 5}
    assert bench_ledger.lock_handovers(bench_app, run + 1) == {}  # nothing written in another measurement
