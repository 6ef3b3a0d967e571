"""Spare schemas: a new client takes a fully migrated spare by renaming it, and the pool is refilled."""

import sys
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from django_tenants.utils import schema_context, schema_exists

import leads
from clients import spares
from clients.models import Client, Domain
from clients.queue import in_each_ready_client
from clients.services import client_create
from clients.tasks import refill_spare_schemas
from leads.models import CampaignSettings, Dataset, Lead
from sophie.models import Lesson, PromptTemplate


@pytest.fixture
def pool(committed_db):
    spares.spares_drop_all()
    spares._expected = None
    yield
    connection.set_schema_to_public()
    spares.spares_drop_all()
    spares._expected = None
    for client in Client.objects.filter(slug__in=["gamma", "delta"]):
        with connection.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{client.schema_name}" CASCADE')
        Domain.objects.filter(tenant=client).delete()
        Client.objects.filter(pk=client.pk).delete()


def _constraints(schema: str) -> set[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.conrelid::regclass::text, c.conname FROM pg_constraint c"
            " JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = %s",
            [schema],
        )
        # regclass prints the table without its schema when the schema is on the search_path
        return {(table.split(".")[-1], name) for table, name in cursor.fetchall()}


def test_a_new_client_takes_a_spare_keeps_its_constraint_names_and_gets_its_defaults(tenants, pool):
    spares.spares_refill(target=1)
    (spare,) = spares.spare_names()

    client = client_create(name="Gamma Roofs", slug="gamma")

    assert spares.spare_names() == [] and not schema_exists(spare)
    assert client.schema_ready and schema_exists("gamma")
    connection.set_schema_to_public()
    assert _constraints("gamma") == _constraints("alpha")
    with schema_context("gamma"):
        assert CampaignSettings.objects.filter(is_template=True, name="Default").exists()
        assert PromptTemplate.objects.filter(is_system_template=True).exists()
        assert Lesson.objects.filter(lesson_type="never_rule").exists()


def test_a_client_made_from_a_spare_sees_no_other_clients_data(tenants, pool):
    with schema_context("alpha"):
        dataset = Dataset.objects.create(name="Alpha list")
        Lead.objects.create(dataset=dataset, phone_number="+447700900123", first_name="Ann")
    spares.spares_refill(target=1)

    client_create(name="Gamma Roofs", slug="gamma")

    with schema_context("gamma"):
        assert not Dataset.objects.exists() and not Lead.objects.exists()
    with schema_context("alpha"):
        assert Lead.objects.count() == 1


def _search_paths(schema: str) -> dict[str, list[str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT p.proname, p.proconfig FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
            " WHERE n.nspname = %s",
            [schema],
        )
        return {name: [c.replace(schema, "<schema>") for c in config or []] for name, config in cursor.fetchall()}


def test_its_trigger_functions_find_their_tables_under_the_new_name(tenants, pool):
    spares.spares_refill(target=1)

    client_create(name="Gamma Roofs", slug="gamma")

    connection.set_schema_to_public()
    assert _search_paths("gamma") == _search_paths("alpha") and _search_paths("gamma")
    with schema_context("gamma"):
        dataset = Dataset.objects.create(name="Gamma list")
        Lead.objects.create(dataset=dataset, phone_number="+447700900123", first_name="Ann")
        dataset.refresh_from_db()
        assert dataset.total_leads == 1  # the stats trigger ran in gamma


def test_without_a_spare_the_schema_is_migrated_as_before(tenants, pool):
    client = client_create(name="Gamma Roofs", slug="gamma")

    assert client.schema_ready and spares.spares_refill(target=0).built == 0
    connection.set_schema_to_public()
    assert _constraints("gamma") == _constraints("alpha")
    with schema_context("gamma"):
        assert CampaignSettings.objects.filter(is_template=True).exists()


def test_the_refill_builds_up_to_the_setting_and_spares_are_not_clients(tenants, pool, settings):
    settings.DBR_SPARE_SCHEMAS = 2

    assert refill_spare_schemas() == 2
    assert refill_spare_schemas() == 0

    names = spares.spare_names()
    assert len(names) == 2 and all(spares.spare_is_current(name) for name in names)
    assert not Client.objects.filter(schema_name__in=names).exists()
    assert {client.schema_name for client in in_each_ready_client()} == {"alpha", "beta"}


def test_a_second_refill_at_the_same_time_steps_aside(tenants, pool):
    import psycopg

    db = connection.settings_dict
    params = {"dbname": db["NAME"], "user": db["USER"], "password": db["PASSWORD"], "host": db["HOST"]}
    with psycopg.connect(**params, port=db["PORT"] or None, autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s, %s)", [spares._LOCK_CLASS, spares._REFILL_KEY])
        assert spares.spares_refill(target=1).skipped
    assert spares.spare_names() == []


def test_a_spare_behind_the_code_is_never_handed_out(tenants, pool, monkeypatch):
    spares.spares_refill(target=1)
    (spare,) = spares.spare_names()
    newer = [*spares.expected_migrations(), ("leads", "9999_not_in_the_spare")]
    monkeypatch.setattr(spares, "_expected", newer)

    assert not spares.spare_is_current(spare)
    client_create(name="Gamma Roofs", slug="gamma")

    assert spares.spare_names() == [spare]  # still there, untouched; gamma was migrated the usual way
    with schema_context("gamma"):
        assert CampaignSettings.objects.filter(is_template=True).exists()


def test_a_failed_creation_puts_the_spare_back(tenants, pool, monkeypatch):
    spares.spares_refill(target=1)
    (spare,) = spares.spare_names()

    def explode(**kwargs):
        raise RuntimeError("seed failed")

    monkeypatch.setattr("sophie.services.default_lessons_seed", explode)
    with pytest.raises(RuntimeError):
        client_create(name="Gamma Roofs", slug="gamma")

    assert spares.spare_names() == [spare] and spares.spare_is_current(spare)
    assert not schema_exists("gamma") and not Client.objects.filter(slug="gamma").exists()


MIGRATION = """
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("leads", "{previous}")]
    operations = [
        migrations.RunSQL("CREATE TABLE spare_migration_probe (id int)", "DROP TABLE spare_migration_probe"),
    ]
"""


@pytest.fixture
def new_migration(pool):
    previous = max(name for app, name in MigrationLoader(None).graph.leaf_nodes() if app == "leads")
    path = Path(leads.__file__).parent / "migrations" / "9998_spare_migration_probe.py"
    spares.spares_refill(target=1)  # built before the migration exists
    path.write_text(MIGRATION.format(previous=previous))
    spares._expected = None  # as a restarted process after a deploy
    yield
    path.unlink()
    sys.modules.pop("leads.migrations.9998_spare_migration_probe", None)
    spares._expected = None


def test_after_a_deploy_the_refill_migrates_behind_spares_forward(tenants, new_migration):
    (spare,) = spares.spare_names()
    assert not spares.spare_is_current(spare)

    result = spares.spares_refill(target=1)

    assert (result.updated, result.built, result.ready) == (1, 0, 1)
    assert spares.spare_is_current(spare)
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [f"{spare}.spare_migration_probe"])
        assert cursor.fetchone()[0]
