"""What a new user sees around the pages: an icon, product names instead of internal ones."""

import pytest

from leads.importing.summary import summary_details
from leads.models import Dataset, Upload
from leads.services import dataset_create

ALPHA = {"HTTP_HOST": "alpha.localhost"}


@pytest.mark.parametrize("host", ["alpha.localhost", "localhost"])
def test_every_host_has_an_icon(tenants, db, client, host):
    response = client.get("/favicon.ico", HTTP_HOST=host)

    assert response.status_code == 302 and response["Location"].endswith("favicon.svg")


def test_the_pages_name_the_icon(owner, client):
    assert 'rel="icon"' in client.get("/login/", **ALPHA).content.decode()
    client.force_login(owner)
    assert 'rel="icon"' in client.get("/", **ALPHA).content.decode()


def test_the_client_admin_is_titled_for_the_client(owner, client):
    client.force_login(owner)

    page = client.get("/admin/", **ALPHA).content.decode()

    assert "Django site admin" not in page and "Alpha Solar Ltd · DBR admin" in page


def test_the_import_result_names_outcomes_in_words(owner, client):
    client.force_login(owner)
    summary = {"rows": 1, "details": {"not_sms_capable": [{"row": 2, "phone": "+441632960001", "reason": "landline"}]}}
    upload = Upload.objects.create(
        filename="x.csv", file_url="alpha/x.csv", status="completed", dataset=dataset_create(name="D"), summary=summary
    )

    page = client.get(f"/imports/{upload.pk}/", **ALPHA).content.decode()

    assert "Can&#x27;t receive SMS (1)" in page and "Not_sms_capable" not in page
    assert summary_details({"details": {"rejected": []}}) == []


def test_the_campaign_list_says_paused_once(owner, client):
    client.force_login(owner)
    dataset_create(name="Paused one")
    Dataset.objects.update(campaign_status="paused", campaign_paused_reason="Paused by Olive Owner")

    page = client.get("/campaigns/", **ALPHA).content.decode()

    assert "Paused by Olive Owner" in page and "Paused</strong>: Paused by" not in page
