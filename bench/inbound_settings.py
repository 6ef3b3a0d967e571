"""dbr.settings with the bench's URLconf on client hosts (bench/inbound's gunicorn only)."""

from dbr.settings import *  # noqa: F403

ROOT_URLCONF = "bench.inbound_urls"
