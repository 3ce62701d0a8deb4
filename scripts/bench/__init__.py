"""Helpers of `scripts/bench.py`: the stack, the load generator, the sections, the report."""
