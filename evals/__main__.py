"""python -m evals <suite> [options]: run one evaluation suite and print its table.

Each suite is a module with `add_arguments(parser)` and `run(args) -> int` (the exit
status); a new suite is one line in SUITES.
"""

from __future__ import annotations

import argparse
import importlib
import sys

SUITES: dict[str, tuple[str, str]] = {
    "retrieval": ("evals.retrieval", "knowledge search: recall@3, MRR, false positives"),
    "turns": ("evals.turns", "single turns through the real graph, scored without a model"),
    "scenarios": ("evals.scenarios", "multi-turn scenarios scored on the database, pass^k"),
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evals", description=__doc__)
    commands = parser.add_subparsers(dest="suite", required=True, metavar="SUITE")
    modules = {}
    for name, (module_name, help_text) in SUITES.items():
        module = importlib.import_module(module_name)
        modules[name] = module
        module.add_arguments(commands.add_parser(name, help=help_text, description=module.__doc__))
    args = parser.parse_args(argv)
    return int(modules[args.suite].run(args))


if __name__ == "__main__":
    sys.exit(main())
