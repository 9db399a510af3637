"""Canal benchmarks: ``make bench`` (all) or ``python -m bench <name>``. Each prints ``BENCH`` lines."""
