"""Settings › Users: nobody changes their own access, or grants more than they hold (docs/security.md §1).

The whole editor-role × target-role × change matrix, through the page staff use.
"""

import pytest

from clients.models import User
from leads.services import dataset_create

HOST = {"HTTP_HOST": "alpha.localhost"}
ROLES = ["admin", "company_owner", "manager", "sales_rep", "read_only"]
RANK = {"admin": 4, "company_owner": 4, "manager": 3, "sales_rep": 2, "read_only": 1}
FLAGS = ["can_view_all_leads", "can_edit_lessons", "can_push_to_n8n", "can_manage_users"]
# Every editor can manage users: admins by role, the others by the flag (the manager on one dataset only).
EDITORS = {
    "admin": {},
    "company_owner": {},
    "manager": {"can_manage_users": True, "restricted": True},
    "sales_rep": {"can_manage_users": True},
    "read_only": {"can_manage_users": True},
}
# The flags each editor holds itself (a manager's role gives it lessons, n8n and all leads).
HELD = {
    "admin": set(FLAGS),
    "company_owner": set(FLAGS),
    "manager": set(FLAGS),
    "sales_rep": {"can_manage_users"},
    "read_only": {"can_manage_users", "can_view_all_leads"},
}
CHANGES = [*(f"role:{r}" for r in ROLES), *(f"flag:{f}" for f in FLAGS), "datasets", "suspend"]


@pytest.fixture
def north(alpha):
    dataset_create(name="South")
    return dataset_create(name="North")


def _state(user: User) -> tuple:
    user.refresh_from_db()
    allowed = None if user.allowed_dataset_ids is None else sorted(map(str, user.allowed_dataset_ids))
    return (user.role, *(getattr(user, f) for f in FLAGS), allowed, user.status)


def _form(user: User, change: str, north) -> dict | None:
    """The edit form as the page shows it for `user`, with one change made; None when it changes nothing."""
    data = {"role": user.role, **{f: "on" for f in FLAGS if getattr(user, f)}}
    restricted = user.allowed_dataset_ids is not None
    if restricted:
        data |= {"restrict_datasets": "on", "datasets": [str(pk) for pk in user.allowed_dataset_ids]}
    kind, _, value = change.partition(":")
    if kind == "role":
        if value == user.role:
            return None
        data["role"] = value
    elif kind == "flag":
        if getattr(user, value):
            return None
        data[value] = "on"
    elif restricted:  # datasets: lift the restriction
        data.pop("restrict_datasets")
        data.pop("datasets")
    else:  # datasets: narrow to one the editor sees
        data |= {"restrict_datasets": "on", "datasets": [str(north.pk)]}
    return data


def _expected(editor_role: str, target: User, editor: User, change: str) -> bool:
    if target.pk == editor.pk or RANK[target.role] > RANK[editor_role]:
        return False
    kind, _, value = change.partition(":")
    if kind == "role":
        return RANK[value] <= RANK[editor_role]
    if kind == "flag":
        return value in HELD[editor_role]
    if kind == "datasets" and target.allowed_dataset_ids is not None:
        return editor.allowed_dataset_ids is None  # lifting: only someone unrestricted
    return True


@pytest.mark.parametrize("editor_role", ROLES)
@pytest.mark.parametrize("target_role", [*ROLES, "self"])
def test_it_applies_the_whole_editor_target_change_matrix(editor_role, target_role, north, make_user, alpha, client):
    flags = dict(EDITORS[editor_role])
    restricted = flags.pop("restricted", False)
    editor = make_user(
        alpha, "editor@alpha.example", editor_role, allowed_dataset_ids=[north.pk] if restricted else None, **flags
    )
    client.force_login(editor)
    wrong = []
    for n, change in enumerate(CHANGES):
        if target_role == "self":
            target = editor
        else:
            target = make_user(alpha, f"t{n}@alpha.example", target_role, allowed_dataset_ids=[north.pk])
        before = _state(target)
        if change == "suspend":
            client.post(f"/settings/users/{target.pk}/suspend/", **HOST)
        else:
            data = _form(target, change, north)
            if data is None:
                continue
            client.post(f"/settings/users/{target.pk}/", data, **HOST)
        changed = _state(target) != before
        if changed != _expected(editor_role, target, editor, change):
            wrong.append(f"{change}: {'changed' if changed else 'refused'}")
        if target_role == "self" and changed:
            break  # the editor is no longer who the matrix says
    assert not wrong, f"{editor_role} editing {target_role}: {wrong}"


def test_it_refuses_an_invitation_above_the_inviters_role(north, make_user, alpha, client):
    manager = make_user(alpha, "m@alpha.example", "manager", can_manage_users=True, allowed_dataset_ids=[north.pk])
    client.force_login(manager)

    page = client.post("/settings/users/invite/", {"email": "boss@alpha.example", "role": "company_owner"}, **HOST)
    client.post("/settings/users/invite/", {"email": "all@alpha.example", "role": "sales_rep"}, **HOST)
    client.post(
        "/settings/users/invite/",
        {"email": "north@alpha.example", "role": "sales_rep", "restrict_datasets": "on", "datasets": [str(north.pk)]},
        **HOST,
    )

    assert "above your own" in page.content.decode()
    assert set(User.objects.filter(email__endswith="@alpha.example").values_list("email", flat=True)) == {
        "m@alpha.example",
        "north@alpha.example",
    }
