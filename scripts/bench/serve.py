"""Serve an app factory the way run_server.py serves the API: its uvicorn options, its
logging (JSON lines at LOG_LEVEL on stderr), one process; optionally under cProfile.

    python -m scripts.bench.serve api.app:create_served_app 8000
    python -m scripts.bench.serve scripts.bench.noop_app:create_app 8000 --profile out.prof

With --profile, the event loop's thread is profiled (process CPU time) from SIGUSR1 to
SIGUSR2, which writes the stats (so start-up and warm-up stay out of them); work handed
to the thread pool is not in them.
"""

from __future__ import annotations

import argparse
import cProfile
import signal
import time

import uvicorn

from observability.logs import configure as configure_logs
from run_server import uvicorn_options
from settings import get_settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("app", help="module:factory")
    parser.add_argument("port", type=int)
    parser.add_argument("--profile", help="write cProfile stats to this file on exit")
    args = parser.parse_args(argv)
    settings = get_settings()
    configure_logs(settings.log_level, settings.log_format)
    options = {**uvicorn_options(settings), "host": "127.0.0.1", "port": args.port, "workers": 1}
    if args.profile:
        profile = cProfile.Profile(time.process_time)
        signal.signal(signal.SIGUSR1, lambda *_: profile.enable())
        signal.signal(signal.SIGUSR2, lambda *_: _stop(profile, args.profile))
    uvicorn.run(args.app, **options)


def _stop(profile: cProfile.Profile, path: str) -> None:
    profile.disable()
    profile.dump_stats(path)


if __name__ == "__main__":
    main()
