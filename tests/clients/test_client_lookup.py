"""Every command that names a client by its slug finds it, or refuses, the same way."""

import pytest
from django.core.management import CommandError, call_command

from clients.management.lookup import client_by_slug
from clients.models import Client

MISSING = "No client with the slug 'nope'."
COMMANDS = [
    ("campaign", ["--client", "nope", "--dataset", "Any", "start"]),
    ("close_client", ["--slug", "nope"]),
    ("create_client_user", ["--client", "nope", "--email", "someone@nope.example"]),
    ("import_leads", ["--client", "nope", "--dataset", "Any", "leads.csv"]),
    ("run_cadence", ["--client", "nope"]),
]


def test_it_finds_a_client_by_its_slug(alpha):
    assert client_by_slug("alpha") == alpha


def test_it_never_finds_the_public_tenant(tenants, db):
    with pytest.raises(CommandError, match="No client with the slug 'public'."):
        client_by_slug("public")


def test_it_counts_a_client_without_its_schema_as_none_when_asked(alpha):
    Client.objects.filter(pk=alpha.pk).update(schema_ready=False)

    assert client_by_slug("alpha") == alpha
    with pytest.raises(CommandError, match="No client with the slug 'alpha'."):
        client_by_slug("alpha", schema_ready=True)


@pytest.mark.parametrize(("command", "args"), COMMANDS, ids=[c for c, _ in COMMANDS])
def test_it_refuses_an_unknown_slug_in_every_command(tenants, db, command, args):
    with pytest.raises(CommandError) as refused:
        call_command(command, *args)

    assert str(refused.value) == MISSING
    assert refused.value.returncode == 1
