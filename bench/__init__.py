"""``make bench``: the performance suite of issue 7 (not part of ``make test``).

Run from the repository root: ``python -m bench.run`` (writes ``docs/benchmarks.md``).
"""
