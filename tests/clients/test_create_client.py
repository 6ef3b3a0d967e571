import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django_tenants.utils import schema_context, schema_exists

from clients.models import Client, Domain, SendingNumber
from leads.models import CampaignSettings
from sophie.models import Lesson, PromptTemplate


@pytest.fixture
def gamma(committed_db):
    yield
    with schema_context("public"):
        for client in Client.objects.filter(slug__in=["gamma", "delta"]):
            with connection.cursor() as cursor:
                cursor.execute(f'DROP SCHEMA IF EXISTS "{client.schema_name}" CASCADE')
                cursor.execute("DELETE FROM users WHERE client_id = %s", [client.pk])
            Domain.objects.filter(tenant=client).delete()
            SendingNumber.objects.filter(client=client).delete()
            Client.objects.filter(pk=client.pk).delete()


def test_it_provisions_schema_domain_and_defaults(gamma):
    call_command("create_client", name="Gamma Roofs", slug="gamma", number="+447700900321")

    client = Client.objects.get(slug="gamma")
    assert client.schema_name == "gamma" and client.schema_ready
    assert SendingNumber.objects.get(number="+447700900321").client == client
    assert Domain.objects.get(tenant=client).domain == "gamma.localhost"
    with schema_context("gamma"):
        template = CampaignSettings.objects.get(is_template=True, name="Default")
        assert (template.sending_hours_start.hour, template.sending_hours_end.hour) == (9, 17)
        assert template.auto_append_opt_out
        assert set(PromptTemplate.objects.values_list("category", flat=True)) >= {
            "solar_dbr_recent",
            "solar_dbr_old",
            "solar_quote_followup",
            "general",
        }
        assert Lesson.objects.filter(lesson_type="never_rule").exists()
        assert Lesson.objects.filter(lesson_type="blacklist_word").exists()


def test_it_refuses_a_duplicate_slug_and_leaves_nothing_behind(gamma):
    call_command("create_client", name="Gamma Roofs", slug="gamma")

    with pytest.raises(CommandError, match="slug 'gamma' already exists"):
        call_command("create_client", name="Delta Solar", slug="gamma")

    assert not Client.objects.filter(company_name="Delta Solar").exists()
    assert Client.objects.filter(slug="gamma").count() == 1


def test_it_refuses_a_duplicate_name_without_creating_a_schema(gamma):
    call_command("create_client", name="Gamma Roofs", slug="gamma")

    with pytest.raises(CommandError, match="named 'Gamma Roofs' already exists"):
        call_command("create_client", name="gamma roofs", slug="delta")

    assert not Client.objects.filter(slug="delta").exists()
    assert not schema_exists("delta")


def test_it_rolls_back_everything_when_provisioning_fails(gamma, monkeypatch):
    def explode(**kwargs):
        raise RuntimeError("seed failed")

    monkeypatch.setattr("sophie.services.default_lessons_seed", explode)
    with pytest.raises(RuntimeError):
        call_command("create_client", name="Delta Solar", slug="delta")

    assert not Client.objects.filter(slug="delta").exists()
    assert not Domain.objects.filter(domain="delta.localhost").exists()
    assert not schema_exists("delta")


@pytest.mark.parametrize("slug", ["Gamma", "1gamma", "gam-ma", "g" * 31, ""])
def test_it_refuses_a_bad_slug(committed_db, slug):
    with pytest.raises(CommandError, match="lowercase letters and digits"):
        call_command("create_client", name="Whatever Ltd", slug=slug)


def test_it_closes_a_client_and_drops_its_schema_only_when_confirmed(gamma):
    from clients.models import User

    call_command("create_client", name="Gamma Roofs", slug="gamma")
    client = Client.objects.get(slug="gamma")
    User.objects.create_user("g@gamma.example", "pw-long-enough-1", client=client)

    with pytest.raises(CommandError, match="--yes"):
        call_command("close_client", slug="gamma", drop_schema=True)
    client.refresh_from_db()
    assert client.status == "cancelled" and schema_exists("gamma")
    assert User.objects.get(email="g@gamma.example").status == "suspended"

    call_command("close_client", slug="gamma", drop_schema=True, yes=True)

    assert not schema_exists("gamma") and not Domain.objects.filter(domain="gamma.localhost").exists()
    assert Client.objects.filter(slug="gamma").exists()


def test_the_admin_never_offers_to_delete_clients_or_users(tenants, db, client):
    from clients.models import User

    staff = User.objects.create_user("ops@dbr.example", "pw-long-enough-1", is_staff=True, is_superuser=True)
    client.force_login(staff)
    alpha = tenants["alpha"]

    assert client.get(f"/admin/clients/client/{alpha.pk}/delete/", HTTP_HOST="localhost").status_code == 403
    assert client.get(f"/admin/clients/user/{staff.pk}/delete/", HTTP_HOST="localhost").status_code == 403
    changelist = client.get("/admin/clients/user/", HTTP_HOST="localhost").content.decode()
    assert "delete_selected" not in changelist
