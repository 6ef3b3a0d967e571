"""`/files/…` serves an upload by the import right and dataset restriction, an export to its maker and admins."""

import pytest
from django.core.files.base import ContentFile

from clients.models import User
from clients.storage import bucket_storage, save_client_file
from leads.models import Upload
from leads.services import dataset_create

HOST = {"HTTP_HOST": "alpha.localhost"}


@pytest.fixture
def files(alpha, make_user):
    north, south = dataset_create(name="North"), dataset_create(name="South")
    maker = make_user(alpha, "maker@alpha.example", User.Role.MANAGER)
    stored = {}
    for dataset in (north, south):
        path = save_client_file("csv_uploads", "list.csv", ContentFile(b"phone\n+447700900001\n"))
        rejected = save_client_file("exports", "rejected.csv", ContentFile(b"phone,reason\n"))
        Upload.objects.create(
            filename="list.csv", file_url=path, dataset=dataset, uploaded_by=maker, summary={"rejected_file": rejected}
        )
        stored[dataset.name] = {"upload": path, "rejected": rejected}
    stored["export"] = save_client_file("exports", "leads.csv", ContentFile(b"phone\n"), owner=maker)
    return {"north": north, "maker": maker, **stored}


def _status(client, user, bucket, path) -> int:
    client.force_login(user)
    return client.get(f"/files/{bucket}/{path}", **HOST).status_code


def test_it_serves_uploads_by_the_import_right_and_the_dataset_restriction(files, make_user, alpha, client):
    north_only = make_user(alpha, "north@alpha.example", User.Role.MANAGER, allowed_dataset_ids=[files["north"].pk])
    rep = make_user(alpha, "rep@alpha.example", User.Role.SALES_REP, can_view_all_leads=True)

    assert _status(client, north_only, "csv_uploads", files["North"]["upload"]) == 200
    assert _status(client, north_only, "csv_uploads", files["South"]["upload"]) == 403
    assert _status(client, north_only, "exports", files["South"]["rejected"]) == 403
    assert _status(client, north_only, "exports", files["North"]["rejected"]) == 200
    assert _status(client, rep, "csv_uploads", files["North"]["upload"]) == 403
    assert _status(client, rep, "exports", files["North"]["rejected"]) == 403


def test_it_serves_an_export_to_its_maker_and_the_admins_only(files, make_user, alpha, owner, client):
    other_manager = make_user(alpha, "other@alpha.example", User.Role.MANAGER)

    assert _status(client, files["maker"], "exports", files["export"]) == 200
    assert _status(client, owner, "exports", files["export"]) == 200
    assert _status(client, other_manager, "exports", files["export"]) == 403


def test_the_lead_export_is_kept_for_its_maker(files, client):
    client.force_login(files["maker"])
    response = client.get("/leads/export/", **HOST)
    b"".join(response.streaming_content)

    copies, _ = bucket_storage("exports").listdir(f"alpha/by-{files['maker'].pk}")
    assert len(copies) == 2  # the fixture's export and this one
