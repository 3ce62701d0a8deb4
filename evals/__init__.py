"""The evaluation suite: made-up merchants, datasets and scores computed without a model.

Run with `python -m evals <suite>` (see `evals/__main__.py` and the README's Evaluation
section). Like the benchmarks, it never imports `tests/`.
"""
