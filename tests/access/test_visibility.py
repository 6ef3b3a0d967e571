"""allowed_dataset_ids and can_view_all_leads narrow lists, detail pages, the API and the admin."""

import pytest

from clients.api_tokens import api_token_create
from clients.models import User
from leads.models import Lead
from leads.services import dataset_create

HOST = {"HTTP_HOST": "alpha.localhost"}


@pytest.fixture
def two_datasets(alpha, teammate):
    north, south = dataset_create(name="North list"), dataset_create(name="South list")
    leads = {
        "north_mine": Lead.objects.create(
            dataset=north, first_name="Nora", phone_number="+447700900001", assigned_to=teammate
        ),
        "north_other": Lead.objects.create(dataset=north, first_name="Ned", phone_number="+447700900002"),
        "south_mine": Lead.objects.create(
            dataset=south, first_name="Sam", phone_number="+447700900003", assigned_to=teammate
        ),
    }
    return north, south, leads


def _names(client, path="/leads/"):
    return client.get(path, **HOST).content.decode()


def test_a_sales_rep_sees_only_assigned_leads(two_datasets, teammate, client):
    client.force_login(teammate)

    page = _names(client)

    assert "Nora" in page and "Sam" in page and "Ned" not in page
    assert client.get(f"/leads/{two_datasets[2]['north_other'].pk}/", **HOST).status_code == 404


def test_can_view_all_leads_widens_a_sales_reps_view(two_datasets, teammate, client):
    User.objects.filter(pk=teammate.pk).update(can_view_all_leads=True)
    client.force_login(teammate)

    assert "Ned" in _names(client)


def test_allowed_dataset_ids_narrow_lists_and_details(two_datasets, make_user, alpha, client):
    north, south, leads = two_datasets
    manager = make_user(alpha, "north@alpha.example", User.Role.MANAGER, allowed_dataset_ids=[north.pk])
    client.force_login(manager)

    assert "Nora" in _names(client) and "Ned" in _names(client) and "Sam" not in _names(client)
    datasets_page = client.get("/datasets/", **HOST).content.decode()
    assert "North list" in datasets_page and "South list" not in datasets_page
    assert client.get(f"/datasets/{south.pk}/", **HOST).status_code == 404
    assert client.get(f"/leads/{leads['south_mine'].pk}/", **HOST).status_code == 404


def test_an_empty_allowed_list_means_no_datasets(two_datasets, make_user, alpha, client):
    manager = make_user(alpha, "none@alpha.example", User.Role.MANAGER, allowed_dataset_ids=[])
    client.force_login(manager)

    assert "No leads match" in _names(client)


def test_the_api_applies_the_same_narrowing(two_datasets, teammate, client):
    token = api_token_create(user=teammate, name="test")

    body = client.get("/api/leads/", HTTP_AUTHORIZATION=f"Token {token.key}", **HOST).json()

    assert {row["first_name"] for row in body["results"]} == {"Nora", "Sam"}


def test_the_client_admin_applies_the_same_narrowing(two_datasets, make_user, alpha, client):
    north, south, _ = two_datasets
    admin = make_user(alpha, "boss@alpha.example", User.Role.COMPANY_OWNER, allowed_dataset_ids=[south.pk])
    client.force_login(admin)

    page = client.get("/admin/leads/lead/", **HOST).content.decode()

    assert "Sam" in page and "Nora" not in page
    assert client.get(f"/admin/leads/dataset/{north.pk}/change/", **HOST).status_code == 302  # "doesn't exist" redirect
