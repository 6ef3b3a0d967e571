import pytest
from django.core.files.base import ContentFile
from django.db import connection

from clients.models import User
from clients.storage import bucket_storage, save_client_file


def test_it_keeps_each_clients_files_apart(tenants, alpha):
    path = save_client_file("csv_uploads", "leads.csv", ContentFile(b"first_name\nAnn\n"))

    assert path.startswith("alpha/")
    assert bucket_storage("csv_uploads").open(path).read() == b"first_name\nAnn\n"


def test_it_refuses_to_store_client_files_from_the_public_schema(tenants, db):
    connection.set_schema_to_public()
    with pytest.raises(ValueError, match="client's schema"):
        save_client_file("exports", "x.csv", ContentFile(b"x"))


def test_it_refuses_an_unknown_bucket(alpha):
    with pytest.raises(ValueError, match="Unknown storage bucket"):
        save_client_file("public_html", "x.csv", ContentFile(b"x"))


def test_it_serves_a_file_only_to_the_owning_client(tenants, alpha, owner, outsider, client):
    path = save_client_file("exports", "export.csv", ContentFile(b"phone\n+447700900001\n"))
    connection.set_schema_to_public()

    anonymous = client.get(f"/files/exports/{path}", HTTP_HOST="alpha.localhost")
    assert anonymous.status_code == 302

    client.force_login(outsider)
    elsewhere = client.get(f"/files/exports/{path}", HTTP_HOST="beta.localhost")
    assert elsewhere.status_code == 404
    assert client.get(f"/files/exports/{path}", HTTP_HOST="alpha.localhost").status_code == 403

    client.force_login(owner)
    mine = client.get(f"/files/exports/{path}", HTTP_HOST="alpha.localhost")
    assert mine.status_code == 200
    assert b"".join(mine.streaming_content) == b"phone\n+447700900001\n"


def test_it_refuses_path_traversal(tenants, alpha, owner, client):
    client.force_login(owner)
    response = client.get("/files/exports/alpha/../beta/secret.csv", HTTP_HOST="alpha.localhost")
    assert response.status_code == 404
    assert User.objects.count() >= 1
