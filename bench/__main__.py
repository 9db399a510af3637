"""Run the benchmarks: ``python -m bench`` (all) or ``python -m bench web_foundation``."""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = ["web_foundation", "platform", "ledger", "discovery", "orders"]


def main(argv: list[str]) -> None:
    for name in argv or BENCHMARKS:
        print(f"# bench {name}", flush=True)
        importlib.import_module(f"bench.{name}").main()


if __name__ == "__main__":
    main(sys.argv[1:])
