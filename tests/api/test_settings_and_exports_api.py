"""Settings › Users, the client's settings and the export files over the API: the Settings pages' roles, forms
and services, and the /files/ rule for who may download what."""

import pytest
from django.core.files.base import ContentFile

from clients.models import Client, SendingNumber, User
from clients.storage import save_client_file
from leads.models import Upload
from tests.api.conftest import Api, token_for

pytestmark = pytest.mark.django_db

MALFORMED = "not-an-id"
ELSEWHERE = "2b7c9d1e-0f4a-4b5c-8d6e-7f8091a2b3c4"  # a well-formed id of nothing here


def _error(response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}, body
    return body["error"]


@pytest.fixture
def user_manager(alpha, world, make_user) -> User:
    """A manager allowed to manage users, restricted to the North dataset."""
    return make_user(
        alpha,
        "north-manager@alpha.example",
        User.Role.MANAGER,
        can_manage_users=True,
        allowed_dataset_ids=[world.north.pk],
    )


@pytest.fixture
def as_user_manager(user_manager) -> Api:
    return Api(token_for(user_manager))


def _snapshot(user: User) -> tuple:
    user.refresh_from_db()
    return (user.role, user.status, user.can_view_all_leads, user.can_manage_users, user.allowed_dataset_ids)


# --- Users -------------------------------------------------------------------------------------------------


def test_the_owner_lists_the_clients_users_with_role_datasets_status_and_last_sign_in(
    world, owner, rep, reader, outsider, as_owner
):
    User.objects.filter(pk=reader.pk).update(status=User.Status.SUSPENDED)
    response = as_owner.get("/api/users/")
    assert response.status_code == 200, response.content
    rows = {row["email"]: row for row in response.json()["results"]}
    assert set(rows) == {owner.email, rep.email, reader.email}  # not beta's owner
    assert rows[rep.email]["role"] == "sales_rep"
    assert rows[rep.email]["allowed_dataset_ids"] == [str(world.north.pk)]
    assert rows[rep.email]["can_view_all_leads"] is True
    assert rows[owner.email]["allowed_dataset_ids"] is None
    assert rows[reader.email]["status"] == "suspended"
    assert "last_login_at" in rows[owner.email]
    # The page's order (status, then e-mail), in keyset pages.
    seen, url = [], "/api/users/?limit=1"
    while url:
        page = as_owner.get(url).json()
        seen += [row["email"] for row in page["results"]]
        url = page["next"]
    assert seen == [rep.email, owner.email, reader.email]  # active ones first
    assert [r["email"] for r in as_owner.get("/api/users/?status=suspended").json()["results"]] == [reader.email]
    assert as_owner.get("/api/users/?status=gone").status_code == 400
    assert as_owner.get(f"/api/users/{rep.pk}/").json()["email"] == rep.email
    assert as_owner.get(f"/api/users/{outsider.pk}/").status_code == 404
    assert as_owner.get(f"/api/users/{MALFORMED}/").status_code == 400


def test_only_who_may_manage_users_reaches_them(world, owner, rep, as_rep, as_reader, as_suspended, as_outsider):
    before = _snapshot(rep)
    calls = [
        ("get", "/api/users/", None),
        ("get", f"/api/users/{rep.pk}/", None),
        ("post", "/api/users/", {"email": "new@alpha.example", "role": "read_only"}),
        ("patch", f"/api/users/{rep.pk}/", {"role": "manager"}),
        ("post", f"/api/users/{rep.pk}/suspend/", None),
        ("post", f"/api/users/{rep.pk}/reactivate/", None),
    ]
    for api, expected in ((as_rep, 403), (as_reader, 403), (as_outsider, 403), (as_suspended, 401)):
        for method, path, body in calls:
            response = getattr(api, method)(path, body) if body else getattr(api, method)(path)
            assert response.status_code == expected, (method, path, response.status_code)
            _error(response)
    assert _snapshot(rep) == before
    assert not User.objects.filter(email="new@alpha.example").exists()


def test_an_invitation_makes_an_invited_user_and_emails_them(world, alpha, as_owner, mailoutbox):
    response = as_owner.post(
        "/api/users/",
        {
            "email": "Jo@Alpha.example",
            "first_name": "Jo",
            "role": "sales_rep",
            "can_view_all_leads": True,
            "allowed_dataset_ids": [str(world.south.pk)],
        },
    )
    assert response.status_code == 201, response.content
    jo = User.objects.get(email="jo@alpha.example")
    assert (jo.client_id, jo.role, jo.status, jo.can_view_all_leads) == (alpha.pk, "sales_rep", "invited", True)
    assert jo.allowed_dataset_ids == [world.south.pk]
    assert not jo.has_usable_password()
    assert response.json()["id"] == str(jo.pk) and response.json()["status"] == "invited"
    assert [mail.to for mail in mailoutbox] == [["jo@alpha.example"]]
    assert "/invite/" in mailoutbox[0].body
    # Left out, the datasets are all of them (the page's default: not restricted).
    everyone = as_owner.post("/api/users/", {"email": "all@alpha.example", "role": "read_only"})
    assert everyone.status_code == 201 and User.objects.get(email="all@alpha.example").allowed_dataset_ids is None


def test_an_invitation_with_bad_input_is_a_400_and_invites_nobody(world, owner, as_owner, mailoutbox):
    cases = {
        "email": {"role": "read_only"},
        "role": {"email": "x1@alpha.example", "role": "boss"},
        "can_manage_users": {"email": "x2@alpha.example", "role": "read_only", "can_manage_users": "perhaps"},
        "allowed_dataset_ids": {"email": "x3@alpha.example", "role": "read_only", "allowed_dataset_ids": [MALFORMED]},
    }
    for field, body in cases.items():
        response = as_owner.post("/api/users/", body)
        assert response.status_code == 400, (field, response.content)
        assert field in _error(response)["fields"], (field, response.json())
    taken = as_owner.post("/api/users/", {"email": owner.email.upper(), "role": "read_only"})
    assert _error(taken)["fields"] == {"email": ["Someone already has an account with this email."]}
    # A dataset that is not one of the client's is not a choice (the page's form refuses it).
    unknown = as_owner.post(
        "/api/users/", {"email": "x4@alpha.example", "role": "read_only", "allowed_dataset_ids": [ELSEWHERE]}
    )
    assert unknown.status_code == 400 and "allowed_dataset_ids" in _error(unknown)["fields"]
    not_a_list = as_owner.post(
        "/api/users/", {"email": "x5@alpha.example", "role": "read_only", "allowed_dataset_ids": "all"}
    )
    assert not_a_list.status_code == 400
    assert as_owner.post("/api/users/", ["not", "an", "object"]).status_code == 400
    typo = as_owner.post("/api/users/", {"email": "x6@alpha.example", "role": "read_only", "datasets": []})
    assert _error(typo)["fields"] == {"datasets": ["Not a field you can set here."]}
    assert not User.objects.filter(email__startswith="x").exists() and mailoutbox == []


def test_an_invitation_beyond_the_inviters_own_access_is_refused_with_the_reason(world, as_user_manager, mailoutbox):
    above = as_user_manager.post("/api/users/", {"email": "boss@alpha.example", "role": "company_owner"})
    assert above.status_code == 409
    assert _error(above) == {
        "code": "access_refused",
        "message": "Not invited: You cannot give a role above your own.",
        "fields": {"non_field_errors": ["You cannot give a role above your own."]},
    }
    # All datasets is more than the manager's one: refused, as on the page.
    everything = as_user_manager.post("/api/users/", {"email": "wide@alpha.example", "role": "sales_rep"})
    assert everything.status_code == 409
    assert _error(everything)["fields"]["non_field_errors"] == [
        "You cannot give access to datasets you cannot see yourself."
    ]
    # South is not among the datasets the manager may pick.
    south = as_user_manager.post(
        "/api/users/",
        {"email": "south@alpha.example", "role": "sales_rep", "allowed_dataset_ids": [str(world.south.pk)]},
    )
    assert south.status_code == 400 and "allowed_dataset_ids" in _error(south)["fields"]
    assert not User.objects.filter(email__in=["boss@alpha.example", "wide@alpha.example", "south@alpha.example"])
    assert mailoutbox == []
    north = as_user_manager.post(
        "/api/users/",
        {"email": "north@alpha.example", "role": "sales_rep", "allowed_dataset_ids": [str(world.north.pk)]},
    )
    assert north.status_code == 201, north.content
    assert User.objects.get(email="north@alpha.example").allowed_dataset_ids == [world.north.pk]


def test_access_is_changed_through_the_service_and_what_is_left_out_stays(world, rep, as_owner):
    promoted = as_owner.patch(f"/api/users/{rep.pk}/", {"role": "manager", "can_edit_lessons": True})
    assert promoted.status_code == 200, promoted.content
    rep.refresh_from_db()
    assert (rep.role, rep.can_edit_lessons, rep.can_view_all_leads) == ("manager", True, True)
    assert rep.allowed_dataset_ids == [world.north.pk]  # not sent, so kept
    assert promoted.json()["role"] == "manager"
    widened = as_owner.patch(f"/api/users/{rep.pk}/", {"allowed_dataset_ids": None})
    assert widened.status_code == 200
    rep.refresh_from_db()
    assert rep.allowed_dataset_ids is None and rep.role == "manager"
    narrowed = as_owner.patch(f"/api/users/{rep.pk}/", {"allowed_dataset_ids": [str(world.south.pk)] * 2})
    assert narrowed.status_code == 200
    rep.refresh_from_db()
    assert rep.allowed_dataset_ids == [world.south.pk]


def test_access_changes_the_services_refuse_are_409s_and_bad_input_400s(
    world, owner, rep, user_manager, as_owner, as_user_manager, outsider
):
    before_owner, before_rep = _snapshot(owner), _snapshot(rep)
    own = as_owner.patch(f"/api/users/{owner.pk}/", {"role": "manager"})
    assert own.status_code == 409
    assert _error(own)["fields"]["non_field_errors"] == ["You cannot change your own role, rights or datasets."]
    above = as_user_manager.patch(f"/api/users/{owner.pk}/", {"can_view_all_leads": False})
    assert above.status_code == 409
    assert "above yours" in _error(above)["message"]
    wider = as_user_manager.patch(f"/api/users/{rep.pk}/", {"allowed_dataset_ids": None})
    assert wider.status_code == 409
    assert _error(wider)["fields"]["non_field_errors"] == [
        "You cannot give access to datasets you cannot see yourself."
    ]
    for body, field in (
        ({"role": "boss"}, "role"),
        ({"can_view_all_leads": "sometimes"}, "can_view_all_leads"),
        ({"allowed_dataset_ids": [MALFORMED]}, "allowed_dataset_ids"),
        ({"allowed_dataset_ids": [ELSEWHERE]}, "allowed_dataset_ids"),
    ):
        response = as_owner.patch(f"/api/users/{rep.pk}/", body)
        assert response.status_code == 400, (body, response.content)
        assert field in _error(response)["fields"]
    status = as_owner.patch(f"/api/users/{rep.pk}/", {"status": "active", "role": "manager"})
    assert _error(status)["fields"] == {"status": ["Not a field you can set here."]}
    assert as_owner.patch(f"/api/users/{rep.pk}/", ["role"]).status_code == 400
    assert as_owner.patch(f"/api/users/{MALFORMED}/", {"role": "manager"}).status_code == 400
    assert as_owner.patch(f"/api/users/{outsider.pk}/", {"role": "manager"}).status_code == 404
    assert _snapshot(owner) == before_owner and _snapshot(rep) == before_rep
    assert _snapshot(outsider)[0] == "company_owner"


def test_a_sales_rep_who_may_manage_users_cannot_grant_what_they_lack(world, alpha, rep, make_user):
    lead_rep = make_user(alpha, "lead-rep@alpha.example", User.Role.SALES_REP, can_manage_users=True)
    api = Api(token_for(lead_rep))
    before = _snapshot(rep)
    flag = api.patch(f"/api/users/{rep.pk}/", {"can_push_to_n8n": True})
    assert flag.status_code == 409
    assert _error(flag)["fields"]["non_field_errors"] == ["You cannot give a right you do not have yourself."]
    manager = api.patch(f"/api/users/{rep.pk}/", {"role": "manager"})
    assert _error(manager)["fields"]["non_field_errors"] == ["You cannot give a role above your own."]
    rep.refresh_from_db()
    assert _snapshot(rep) == before and rep.can_push_to_n8n is False
    assert api.post(f"/api/users/{rep.pk}/suspend/").status_code == 200  # same rank: allowed, as on the page
    assert _snapshot(rep)[1] == User.Status.SUSPENDED


def test_a_user_is_suspended_and_reactivated_and_their_tokens_follow(world, rep, as_owner):
    rep_api = Api(token_for(rep))
    suspended = as_owner.post(f"/api/users/{rep.pk}/suspend/")
    assert suspended.status_code == 200 and suspended.json()["status"] == "suspended"
    rep.refresh_from_db()
    assert rep.status == User.Status.SUSPENDED
    assert rep_api.get("/api/leads/").status_code == 401
    reactivated = as_owner.post(f"/api/users/{rep.pk}/reactivate/")
    assert reactivated.status_code == 200 and reactivated.json()["status"] == "active"
    rep.refresh_from_db()
    assert rep.status == User.Status.ACTIVE
    assert rep_api.get("/api/leads/").status_code == 200


def test_suspending_yourself_or_someone_above_you_is_refused(world, owner, as_owner, as_user_manager, outsider):
    yourself = as_owner.post(f"/api/users/{owner.pk}/suspend/")
    assert yourself.status_code == 409
    assert _error(yourself) == {
        "code": "access_refused",
        "message": "Not suspended: You cannot suspend or reactivate yourself.",
        "fields": {"non_field_errors": ["You cannot suspend or reactivate yourself."]},
    }
    above = as_user_manager.post(f"/api/users/{owner.pk}/suspend/")
    assert above.status_code == 409
    assert _error(above)["fields"]["non_field_errors"] == [
        "You cannot change the access of someone whose role is above yours."
    ]
    owner.refresh_from_db()
    assert owner.status == User.Status.ACTIVE
    assert as_owner.post(f"/api/users/{outsider.pk}/suspend/").status_code == 404
    assert as_owner.post(f"/api/users/{MALFORMED}/suspend/").status_code == 400
    outsider.refresh_from_db()
    assert outsider.status == User.Status.ACTIVE


# --- Client settings ---------------------------------------------------------------------------------------


def test_every_member_reads_the_clients_settings(world, alpha, as_owner, as_rep, as_reader, as_suspended, as_outsider):
    SendingNumber.objects.get_or_create(number="+447700900555", client=alpha)
    for api in (as_owner, as_rep, as_reader):
        response = api.get("/api/client/settings/")
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["company_name"] == "Alpha Solar Ltd"
        assert body["timezone"] == alpha.timezone and body["primary_color"] == alpha.primary_color
        assert "+447700900555" in body["sending_numbers"]
    assert as_suspended.get("/api/client/settings/").status_code == 401
    assert as_outsider.get("/api/client/settings/").status_code == 403


def test_the_owner_changes_the_profile_colour_and_time_zone(world, alpha, as_owner):
    response = as_owner.patch(
        "/api/client/settings/",
        {"company_name": "  Alpha Solar Group ", "timezone": "Europe/Dublin", "primary_color": "#1D5FBF"},
    )
    assert response.status_code == 200, response.content
    alpha.refresh_from_db()
    assert (alpha.company_name, alpha.timezone, alpha.primary_color) == (
        "Alpha Solar Group",
        "Europe/Dublin",
        "#1d5fbf",
    )
    assert response.json()["company_name"] == "Alpha Solar Group"
    website = as_owner.patch("/api/client/settings/", {"company_website": "alpha.example"})
    assert website.status_code == 200
    alpha.refresh_from_db()
    assert alpha.company_website == "https://alpha.example" and alpha.timezone == "Europe/Dublin"


def test_the_pages_refusals_are_field_errors_and_change_nothing(world, alpha, beta, as_owner):
    before = Client.objects.values("company_name", "timezone", "primary_color", "company_email").get(pk=alpha.pk)
    cases = [
        ({"timezone": "Mars/Olympus", "company_name": "Renamed"}, "timezone", None),
        ({"primary_color": "#777777", "timezone": "Europe/Dublin"}, "primary_color", "contrast of only"),
        ({"primary_color": "blue"}, "primary_color", None),
        ({"company_name": beta.company_name}, "company_name", "Another client already has this name."),
        ({"company_name": ""}, "company_name", None),
        ({"company_name": ["A list"]}, "company_name", None),
        ({"company_email": "not an email"}, "company_email", None),
        ({"industry": "mining"}, "industry", None),
        ({"sending_numbers": ["+447700900111"]}, "sending_numbers", "Read-only"),
        ({"plan": "enterprise"}, "plan", "Not a client setting."),
    ]
    for body, field, words in cases:
        response = as_owner.patch("/api/client/settings/", body)
        assert response.status_code == 400, (body, response.content)
        error = _error(response)
        assert field in error["fields"], (body, error)
        if words:
            assert words in " ".join(error["fields"][field]), error
    assert as_owner.patch("/api/client/settings/", ["a", "list"]).status_code == 400
    assert (
        Client.objects.values("company_name", "timezone", "primary_color", "company_email").get(pk=alpha.pk) == before
    )


def test_only_owners_and_admins_change_the_clients_settings(
    world, alpha, make_user, as_rep, as_reader, as_suspended, as_outsider
):
    manager = Api(token_for(make_user(alpha, "manager@alpha.example", User.Role.MANAGER)))
    for api, expected in ((manager, 403), (as_rep, 403), (as_reader, 403), (as_outsider, 403), (as_suspended, 401)):
        response = api.patch("/api/client/settings/", {"timezone": "Europe/Dublin"})
        assert response.status_code == expected
        _error(response)
    alpha.refresh_from_db()
    assert alpha.timezone != "Europe/Dublin"


# --- Exports -----------------------------------------------------------------------------------------------


@pytest.fixture
def stored(world, owner, user_manager):
    """An export by the owner and one by the North manager; the rejected rows of a North and a South import; and
    an export of client beta."""
    files = {
        "owner": save_client_file("exports", "leads-owner.csv", ContentFile(b"phone\n+447700900001\n"), owner=owner),
        "manager": save_client_file(
            "exports", "leads-manager.csv", ContentFile("first_name\nÓ Briain\n".encode()), owner=user_manager
        ),
        "beta": save_client_file("exports", "leads.csv", ContentFile(b"phone\n"), schema_name="beta"),
    }
    for dataset in (world.north, world.south):
        rejected = save_client_file("exports", "rejected-rows.csv", ContentFile(b"phone,reason\nx,Not a number\n"))
        Upload.objects.create(filename="l.csv", dataset=dataset, uploaded_by=owner, summary={"rejected_file": rejected})
        files[dataset.name] = rejected
    return {name: path.split("/")[-2] for name, path in files.items()}


def _ids(api, query="") -> list[str]:
    response = api.get(f"/api/exports/{query}")
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_each_member_lists_the_export_files_the_files_rule_lets_them_download(
    stored, as_owner, as_user_manager, as_rep, as_reader
):
    mine = {stored["owner"], stored["manager"], stored["North"], stored["South"]}
    assert mine <= set(_ids(as_owner))  # an admin sees every file of the client (other tests' too)
    assert stored["beta"] not in _ids(as_owner)
    assert set(_ids(as_user_manager)) == {stored["manager"], stored["North"]}  # own export; North's import only
    assert _ids(as_rep) == [] and _ids(as_reader) == []  # no import right, no export of their own
    rows = {row["id"]: row for row in as_user_manager.get("/api/exports/").json()["results"]}
    assert rows[stored["manager"]]["kind"] == "export" and rows[stored["manager"]]["name"] == "leads-manager.csv"
    assert rows[stored["North"]]["kind"] == "rejected_rows" and rows[stored["North"]]["upload"]
    assert set(_ids(as_user_manager, "?kind=rejected_rows")) == {stored["North"]}
    assert as_owner.get("/api/exports/?kind=pdf").status_code == 400


def test_the_export_list_is_paged_newest_first(stored, as_owner):
    seen, url = [], "/api/exports/?limit=2"
    while url:
        page = as_owner.get(url).json()
        seen += [(row["created_at"], row["id"]) for row in page["results"]]
        url = page["next"]
    assert len(seen) == len(set(seen)) == len(_ids(as_owner, "?limit=200"))
    assert seen == sorted(seen, reverse=True)
    assert _error(as_owner.get("/api/exports/?cursor=bm9wZQ"))["fields"] == {
        "cursor": ["This cursor is not valid: use the `next` link of the previous page as it is."]
    }
    assert as_owner.get("/api/exports/?limit=0").status_code == 400


def test_an_export_downloads_streamed_as_csv(stored, as_user_manager):
    response = as_user_manager.get(f"/api/exports/{stored['manager']}/download/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="leads-manager.csv"'
    assert response.streaming
    assert b"".join(response.streaming_content).decode() == "first_name\nÓ Briain\n"
    details = as_user_manager.get(f"/api/exports/{stored['North']}/")
    assert details.status_code == 200 and details.json()["download_url"].endswith(
        f"/api/exports/{stored['North']}/download/"
    )
    rejected = as_user_manager.get(details.json()["download_url"])
    assert b"Not a number" in b"".join(rejected.streaming_content)


def test_another_clients_an_invisible_or_a_made_up_file_is_a_404(stored, as_owner, as_user_manager, as_rep):
    for api, name in (
        (as_owner, "beta"),
        (as_user_manager, "owner"),
        (as_user_manager, "South"),
        (as_rep, "North"),
    ):
        for path in (f"/api/exports/{stored[name]}/", f"/api/exports/{stored[name]}/download/"):
            response = api.get(path)
            assert response.status_code == 404, (name, path)
            assert _error(response)["message"] == "Not found, or not visible to you."
    assert as_owner.get("/api/exports/0123456789abcdef0123456789abcdef/download/").status_code == 404


def test_a_malformed_or_traversing_export_name_is_a_400_and_a_path_matches_no_route(stored, as_owner):
    for name in (MALFORMED, "..", "%2E%2E", stored["beta"].upper(), stored["beta"][:-1], stored["beta"] + "0"):
        response = as_owner.get(f"/api/exports/{name}/download/")
        assert response.status_code == 400, name
        assert list(_error(response)["fields"]) == ["id"]
    # An id is one path segment: anything with a slash in it is no API address at all.
    for name in (
        "..%2F..%2Fbeta",
        "%2E%2E%2Fbeta%2Fleads.csv",
        f"beta%2F{stored['beta']}",
        f"..%2Fbeta%2F{stored['beta']}",
    ):
        response = as_owner.get(f"/api/exports/{name}/download/")
        assert response.status_code == 404, name
        assert not response.streaming


def test_exports_are_closed_to_suspended_users_and_other_clients(stored, as_suspended, as_outsider):
    for path in ("/api/exports/", f"/api/exports/{stored['owner']}/", f"/api/exports/{stored['owner']}/download/"):
        assert as_suspended.get(path).status_code == 401
        assert as_outsider.get(path).status_code == 403


def test_a_lead_export_made_in_the_dashboard_is_listed_for_its_maker(
    stored, owner, user_manager, client, as_user_manager
):
    client.force_login(user_manager)
    made = client.get("/leads/export/", HTTP_HOST="alpha.localhost")
    assert made.status_code == 200
    b"".join(made.streaming_content)
    rows = as_user_manager.get("/api/exports/").json()["results"]
    assert len([row for row in rows if row["kind"] == "export"]) == 2
    newest = rows[0]
    assert newest["name"].startswith("leads-") and newest["made_by"] == str(user_manager.pk)
    text = b"".join(as_user_manager.get(newest["download_url"]).streaming_content).decode()
    assert text.startswith("first_name,last_name,phone_number")


def test_without_a_token_nothing_here_answers(stored, rep):
    anonymous = Api(None)
    for method, path in (
        ("get", "/api/users/"),
        ("post", "/api/users/"),
        ("patch", f"/api/users/{rep.pk}/"),
        ("post", f"/api/users/{rep.pk}/suspend/"),
        ("get", "/api/client/settings/"),
        ("patch", "/api/client/settings/"),
        ("get", "/api/exports/"),
        ("get", f"/api/exports/{stored['owner']}/download/"),
    ):
        response = getattr(anonymous, method)(path)
        assert response.status_code == 401, (method, path)
        assert _error(response)["code"] == "not_authenticated"


# --- Making a lead export -------------------------------------------------------------------------------


def _csv_rows(response) -> list[list[str]]:
    import csv
    import io

    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    return list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode("utf-8-sig"))))


def _export_ids(api) -> set[str]:
    return {row["id"] for row in api.get("/api/exports/?kind=export&limit=200").json()["results"]}


def test_the_owner_exports_the_tables_filters_and_a_copy_is_kept(world, owner, as_owner):
    before = _export_ids(as_owner)
    everything = _csv_rows(as_owner.get("/api/leads/export/"))
    north = _csv_rows(as_owner.get(f"/api/leads/export/?dataset={world.north.pk}&sort=first_name"))
    one = _csv_rows(as_owner.get(f"/api/leads/export/?id={world.south_lead.pk}&bom=1"))

    assert len(everything) - 1 == world.north.leads.count() + world.south.leads.count()
    phones = {row[everything[0].index("phone_number")] for row in north[1:]}
    assert phones == set(world.north.leads.values_list("phone_number", flat=True))
    names = [row[north[0].index("first_name")] for row in north[1:]]
    assert names == list(world.north.leads.order_by("first_name", "id").values_list("first_name", flat=True))
    assert [row[one[0].index("phone_number")] for row in one[1:]] == [world.south_lead.phone_number]
    # (storage is shared by test runs on other databases: count this owner's new files only)
    kept = [as_owner.get(f"/api/exports/{pk}/").json() for pk in _export_ids(as_owner) - before]
    assert len([row for row in kept if row["made_by"] == str(owner.pk)]) == 3


def test_an_export_holds_only_the_datasets_the_caller_may_see(world, as_user_manager):
    rows = _csv_rows(as_user_manager.get("/api/leads/export/"))
    south = _csv_rows(as_user_manager.get(f"/api/leads/export/?id={world.south_lead.pk}"))

    phones = {row[rows[0].index("phone_number")] for row in rows[1:]}
    assert phones == set(world.north.leads.values_list("phone_number", flat=True))
    assert south[1:] == []  # another dataset's lead, even named by id


@pytest.mark.parametrize("who", ["as_rep", "as_reader", "as_suspended", "as_outsider"])
def test_who_may_not_export_gets_no_rows_and_no_file(world, as_owner, who, request):
    api = request.getfixturevalue(who)
    before = _export_ids(as_owner)

    response = api.get("/api/leads/export/")

    assert response.status_code in (401, 403, 404)
    assert _error(response)["code"]
    assert _export_ids(as_owner) == before


@pytest.mark.parametrize(
    "query", ["id=not-an-id", "status=NOPE", "sort=password", "dataset=1;DROP", "q=%00", "assigned=someone"]
)
def test_an_export_with_bad_parameters_is_a_400(world, as_owner, query):
    response = as_owner.get(f"/api/leads/export/?{query}")

    assert response.status_code == 400
    assert _error(response)["message"]


def test_a_background_export_ends_with_its_download_url(world, owner, as_owner, monkeypatch):
    queued = []
    monkeypatch.setattr("leads.bulk.enqueue", lambda task, *args, **kwargs: queued.append((task, args)) or True)
    body = {"action": "export", "filters": {"dataset": str(world.north.pk), "sort": "first_name"}}

    response = as_owner.post("/api/leads/bulk/", body)

    assert response.status_code == 202, response.content
    answer = response.json()
    assert answer["action"] == "export" and answer["count"] == world.north.leads.count()
    assert as_owner.get(answer["status_url"]).json()["phase"] == "queued"
    task, args = queued[0]
    task(*args)
    status = as_owner.get(answer["status_url"]).json()
    assert status["phase"] == "done" and status["download_url"].endswith("/download/")
    rows = _csv_rows(as_owner.get(status["download_url"]))
    names = [row[rows[0].index("first_name")] for row in rows[1:]]
    assert names == list(world.north.leads.order_by("first_name", "id").values_list("first_name", flat=True))


def test_a_background_export_of_ticked_ids_keeps_to_the_callers_datasets(world, as_user_manager, monkeypatch):
    queued = []
    monkeypatch.setattr("leads.bulk.enqueue", lambda task, *args, **kwargs: queued.append((task, args)) or True)
    ids = [str(world.north_lead.pk), str(world.south_lead.pk)]

    answer = as_user_manager.post("/api/leads/bulk/", {"action": "export", "ids": ids}).json()
    task, args = queued[0]
    task(*args)

    assert answer["count"] == 1  # the South lead is not theirs to export
    status = as_user_manager.get(answer["status_url"]).json()
    rows = _csv_rows(as_user_manager.get(status["download_url"]))
    assert [row[rows[0].index("phone_number")] for row in rows[1:]] == [world.north_lead.phone_number]


@pytest.mark.parametrize("who", ["as_rep", "as_reader"])
def test_a_background_export_needs_the_export_right(world, who, request, monkeypatch):
    queued = []
    monkeypatch.setattr("leads.bulk.enqueue", lambda task, *args, **kwargs: queued.append(args) or True)

    response = request.getfixturevalue(who).post("/api/leads/bulk/", {"action": "export"})

    assert response.status_code == 403 and not queued


def test_no_worker_means_no_background_export(world, as_owner, monkeypatch):
    monkeypatch.setattr("leads.bulk.enqueue", lambda *args, **kwargs: False)

    response = as_owner.post("/api/leads/bulk/", {"action": "export", "filters": {"status": "HOT"}})

    assert response.status_code == 503 and response["Retry-After"] == "30"
    assert _error(response)["code"] == "worker_unavailable"
