"""Spare schemas: fully migrated, empty client schemas waiting to become a client (docs/scaling.md §3).

Creating a client runs every tenant migration into a new schema, and that grows with each migration
added. A spare is built ahead of time by the same `migrate_schemas`; `client_create` takes one with
`ALTER SCHEMA … RENAME` inside its own transaction (a rename keeps every table, index, sequence and
constraint name as the migrations made them, unlike django-tenants' clone), then seeds the client's
defaults as it would after migrating.

A spare is a schema named `dbrspare_<hex>` and nothing else: no `clients` row, so the platform never
sees it as a client (beat, the admin, `migrate_schemas` over all clients all skip it). A deploy's
migrations therefore leave spares behind; a spare is handed out only when its `django_migrations` holds
every migration this code has (one indexed query), and the refill task brings behind spares up to date.
Rows of the pool are locked with a transaction-scoped advisory lock, so two creations never take the
same spare and the refill never migrates or drops one being taken.
"""

import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction

logger = logging.getLogger(__name__)

PREFIX = "dbrspare_"  # a client slug has no underscore, so no client schema can look like a spare
_LOCK_CLASS = 718_201  # first key of the pool's advisory locks (two-key form: never meets the one-key locks)
_REFILL_KEY = 0  # second key of the refill's own lock; a spare's is hashtext(name), which may be anything else

_expected: list[tuple[str, str]] | None = None


@dataclass(frozen=True)
class RefillResult:
    ready: int  # current spares after the refill
    built: int
    updated: int  # behind spares migrated forward
    dropped: int  # spares that could not be brought up to date
    skipped: bool = False  # another refill held the lock


def spare_target() -> int:
    return max(0, int(getattr(settings, "DBR_SPARE_SCHEMAS", 0)))


def expected_migrations() -> list[tuple[str, str]]:
    """The newest migration of every app in this code (read once per process: code changes need a restart).

    A schema whose django_migrations holds all of them is fully migrated: a migration is recorded only
    after the ones it depends on.
    """
    global _expected
    if _expected is None:
        from django.db.migrations.loader import MigrationLoader

        _expected = sorted(MigrationLoader(None, ignore_no_migrations=True).graph.leaf_nodes())
    return _expected


def spare_names() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(r"SELECT nspname FROM pg_namespace WHERE nspname LIKE 'dbrspare\_%' ORDER BY nspname")
        return [name for (name,) in cursor.fetchall()]


def spare_is_current(name: str) -> bool:
    """One query: does the spare hold every migration this code has? (a spare whose build failed half-way
    has no schema at all: the build is one transaction)."""
    expected = expected_migrations()
    apps = [app for app, _ in expected]
    names = [migration for _, migration in expected]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT to_regclass(%s) IS NOT NULL",
            [f'"{name}".django_migrations'],
        )
        if not cursor.fetchone()[0]:
            return False
        cursor.execute(
            f'SELECT count(*) FROM "{name}".django_migrations m'
            " JOIN unnest(%s::text[], %s::text[]) AS e(app, name) ON m.app = e.app AND m.name = e.name",
            [apps, names],
        )
        return cursor.fetchone()[0] == len(expected)


def _lock(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s, hashtext(%s))", [_LOCK_CLASS, name])
        return cursor.fetchone()[0]


def _exists(name: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = %s)", [name])
        return cursor.fetchone()[0]


def spare_take(*, schema_name: str) -> bool:
    """Renames a current spare to `schema_name`, inside the caller's transaction (a rollback puts it back).

    False when no current spare is free: the caller then builds the schema the usual way.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("spare_take runs inside the creating transaction")
    for name in spare_names():
        # Locked: another creation or the refill has it. Gone: taken and committed since the list was read.
        if not _lock(name) or not _exists(name) or not spare_is_current(name):
            continue
        with connection.cursor() as cursor:
            cursor.execute(f'ALTER SCHEMA "{name}" RENAME TO "{schema_name}"')
        _functions_repoint(old=name, new=schema_name)
        logger.info("Schema %s taken from the spare %s", schema_name, name)
        return True
    return False


def _functions_repoint(*, old: str, new: str) -> None:
    """A trigger function made with `SET search_path FROM CURRENT` (clients/sql.py, the dataset-stats
    triggers) keeps the schema's name as text, not its oid: after the rename it would look for its tables
    in a schema that no longer exists. Each such setting gets the new name, as a fresh build would have."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT format('%%I.%%I(%%s)', n.nspname, p.proname, pg_get_function_identity_arguments(p.oid)), setting"
            " FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace, unnest(p.proconfig) AS setting"
            " WHERE n.nspname = %s AND setting LIKE 'search_path=%%'",
            [new],
        )
        for function, setting in cursor.fetchall():
            path = [part.strip().strip('"') for part in setting.split("=", 1)[1].split(",")]
            quoted = ", ".join('"' + (new if part == old else part) + '"' for part in path)
            cursor.execute(f"ALTER FUNCTION {function} SET search_path TO {quoted}")


def _migrate(name: str) -> None:
    """The schema `name` migrated by django-tenants' own command (the one a client's schema is built with)."""
    call_command("migrate_schemas", tenant=True, schema_name=name, interactive=False, verbosity=0)
    connection.set_schema_to_public()


def spare_build() -> str:
    """One new spare, all or nothing (a failed build leaves no schema behind)."""
    name = PREFIX + secrets.token_hex(8)
    connection.set_schema_to_public()
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE SCHEMA "{name}"')
        _migrate(name)
    return name


def _spare_update(name: str) -> str:
    """A behind spare migrated forward ("updated"), or dropped when it cannot be ("dropped"); "busy" when
    a creation is taking it right now."""
    connection.set_schema_to_public()
    try:
        with transaction.atomic():
            if not _lock(name) or not _exists(name):
                return "busy"
            _migrate(name)
        return "updated"
    except Exception:
        logger.exception("The spare schema %s could not be migrated; it is dropped", name)
    with transaction.atomic():
        if not _lock(name):
            return "busy"
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    return "dropped"


def spares_refill(*, target: int | None = None) -> RefillResult:
    """Brings the pool to `target` current spares (DBR_SPARE_SCHEMAS): behind ones migrated, missing built.

    One refill at a time (a session advisory lock; a second returns at once with `skipped`).
    """
    target = spare_target() if target is None else target
    connection.set_schema_to_public()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s, %s)", [_LOCK_CLASS, _REFILL_KEY])
        if not cursor.fetchone()[0]:
            return RefillResult(ready=0, built=0, updated=0, dropped=0, skipped=True)
    try:
        updated = dropped = built = 0
        for name in spare_names():
            if spare_is_current(name):
                continue
            outcome = _spare_update(name)
            updated += outcome == "updated"
            dropped += outcome == "dropped"
        ready = sum(spare_is_current(name) for name in spare_names())
        while ready < target:
            spare_build()
            built += 1
            ready += 1
        return RefillResult(ready=ready, built=built, updated=updated, dropped=dropped)
    finally:
        connection.set_schema_to_public()
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(%s, %s)", [_LOCK_CLASS, _REFILL_KEY])


def spares_drop_all() -> int:
    """Drops every spare that is not being taken (tests, benches, and closing the pool)."""
    dropped = 0
    connection.set_schema_to_public()
    for name in spare_names():
        with transaction.atomic():
            if _lock(name) and _exists(name):
                with connection.cursor() as cursor:
                    cursor.execute(f'DROP SCHEMA "{name}" CASCADE')
                dropped += 1
    return dropped
