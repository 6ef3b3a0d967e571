"""The benchmarks' own database, dropped and recreated each run, so dev and test data are never touched."""

import os
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import sql

BENCH_DB = "dbr_bench"
DEFAULT_SERVER = "postgres://postgres@127.0.0.1:5432"


def server_url(database: str) -> str:
    """DATABASE_URL's server (user, host, port, options) with another database name."""
    parts = urlsplit(os.environ.get("DATABASE_URL") or DEFAULT_SERVER)
    return urlunsplit(parts._replace(path=f"/{database}"))


def _maintenance(statement: sql.Composable) -> None:
    with psycopg.connect(server_url("postgres"), autocommit=True) as conn:
        conn.execute(statement)


def recreate(name: str = BENCH_DB) -> str:
    """Drops and creates the bench database `name` (another name lets benchmarks run side by side)."""
    drop(name)
    _maintenance(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return server_url(name)


def drop(name: str = BENCH_DB) -> None:
    _maintenance(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def django_setup(url: str, *, migrate: bool = True) -> None:
    """Points Django at the bench database (before settings load), migrates public, adds the public tenant.

    DEBUG is off, as in production: with DEBUG on Django would log every query it runs.
    `migrate=False` only connects (a child process of a run whose parent already migrated).
    """
    os.environ["DATABASE_URL"] = url
    os.environ["DJANGO_SETTINGS_MODULE"] = "dbr.settings"
    os.environ["DEBUG"] = "0"
    os.environ.setdefault("SECRET_KEY", "bench-only-not-a-secret")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # With DEBUG off pages name the hashed static files collectstatic writes, as in production.
    os.environ.setdefault("DBR_STATIC_ROOT", str(Path(__file__).resolve().parent.parent / "var" / "bench-static"))
    import django
    from django.core.management import call_command

    django.setup()
    if not migrate:
        return
    call_command("collectstatic", interactive=False, verbosity=0)  # quick when nothing changed
    call_command("migrate_schemas", shared=True, interactive=False, verbosity=0, stdout=sys.stderr)

    from clients.services import public_tenant_ensure

    public_tenant_ensure()


def server_version() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        return cursor.fetchone()[0]
