"""Flower as `run_server.py --flower` runs it: `celery -A tasks flower ARGS`, with every log
line in our JSON format (tornado's own text logging is turned off).

    python -m tasks.flower --address=127.0.0.1 --port=5555   # FLOWER_BASIC_AUTH from the env
"""

from __future__ import annotations

import sys

from celery.bin.celery import main as celery

from observability.logs import configure
from settings import get_settings


def main(args: list[str]) -> int:
    settings = get_settings()
    configure(settings.log_level, settings.log_format)
    sys.argv = ["celery", "-A", "tasks", "--quiet", "flower", "--logging=none", *args]
    return celery()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
