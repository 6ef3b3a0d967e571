"""A migration written after clients exist is applied to every client schema by migrate_schemas."""

import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.loader import MigrationLoader

import leads

MIGRATION = """
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("leads", "{previous}")]
    operations = [
        migrations.RunSQL(
            "CREATE TABLE late_migration_probe (id int)",
            "DROP TABLE late_migration_probe",
        ),
    ]
"""


def _tables_named(name: str) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT table_schema FROM information_schema.tables WHERE table_name = %s", [name])
        return {row[0] for row in cursor.fetchall()}


@pytest.fixture
def late_migration(committed_db):
    previous = max(name for app, name in MigrationLoader(None).graph.leaf_nodes() if app == "leads")
    path = Path(leads.__file__).parent / "migrations" / "9999_late_migration_probe.py"
    path.write_text(MIGRATION.format(previous=previous))
    yield previous
    call_command("migrate_schemas", "leads", previous, verbosity=0)
    path.unlink()
    sys.modules.pop("leads.migrations.9999_late_migration_probe", None)


def test_it_applies_a_new_migration_to_every_client_schema(tenants, late_migration):
    call_command("migrate_schemas", verbosity=0)

    schemas = _tables_named("late_migration_probe")
    assert {"alpha", "beta"} <= schemas
    assert "public" not in schemas
