"""dbr.settings plus, when BENCH_PROBE_APP names one, a throwaway tenant app whose only migration adds a column
(bench/clients' migration round; the app lives in a temporary directory, never in the repository)."""

import os

from dbr.settings import *  # noqa: F403

if probe := os.environ.get("BENCH_PROBE_APP"):
    TENANT_APPS = [*TENANT_APPS, probe]  # noqa: F405
    INSTALLED_APPS = [*INSTALLED_APPS, probe]  # noqa: F405
