"""run_server.py starts WEB_CONCURRENCY API processes, one per core when unset."""

from __future__ import annotations

import os

from run_server import api_processes
from settings import Settings


def test_api_processes_default_to_the_number_of_cores():
    assert api_processes(Settings(web_concurrency=None)) == (os.cpu_count() or 1)


def test_web_concurrency_sets_the_api_processes_and_is_at_least_one():
    assert api_processes(Settings(web_concurrency=3)) == 3
    assert api_processes(Settings(web_concurrency=0)) == 1
