"""The role table of docs/architecture.md §2, in one place. Every write checks `can(user, action)`."""

from enum import StrEnum

from django.core.exceptions import PermissionDenied

from clients.models import User


class Action(StrEnum):
    MANAGE_USERS = "manage_users"
    EDIT_CLIENT_SETTINGS = "edit_client_settings"
    IMPORT_LEADS = "import_leads"
    EXPORT_LEADS = "export_leads"
    EDIT_DATASETS = "edit_datasets"
    EDIT_CAMPAIGN_SETTINGS = "edit_campaign_settings"
    RUN_CAMPAIGNS = "run_campaigns"
    MANAGE_SUPPRESSIONS = "manage_suppressions"
    ASSIGN_LEADS = "assign_leads"
    ATTACH_TEXTS = "attach_texts"  # a text from an unknown number: attach it to a lead or make it a new one
    # Work on a lead the user can see:
    REPLY = "reply"
    SET_MANUAL_MODE = "set_manual_mode"
    CHANGE_LEAD_STATUS = "change_lead_status"
    BOOK_CALL = "book_call"
    # Sophie:
    EDIT_LESSONS = "edit_lessons"
    EDIT_PROMPTS = "edit_prompts"
    PUSH_TO_N8N = "push_to_n8n"


LEAD_WORK = {Action.REPLY, Action.SET_MANUAL_MODE, Action.CHANGE_LEAD_STATUS, Action.BOOK_CALL}
ALL = set(Action)
Role = User.Role

ROLE_ACTIONS: dict[str, set[Action]] = {
    Role.ADMIN: ALL,
    Role.COMPANY_OWNER: ALL,
    Role.MANAGER: ALL - {Action.MANAGE_USERS, Action.EDIT_CLIENT_SETTINGS},
    Role.SALES_REP: set(LEAD_WORK),
    Role.READ_ONLY: set(),
}

# Flags that add a right to any role (seed `users` flags).
FLAG_ACTIONS: dict[str, Action] = {
    "can_manage_users": Action.MANAGE_USERS,
    "can_edit_lessons": Action.EDIT_LESSONS,
    "can_push_to_n8n": Action.PUSH_TO_N8N,
}
FLAG_FIELDS = ["can_view_all_leads", *FLAG_ACTIONS]


def actions_for(user: User) -> set[Action]:
    if not user.is_authenticated or not user.is_active:
        return set()
    if user.is_staff and user.client_id is None:
        return set(ALL)
    granted = set(ROLE_ACTIONS.get(user.role, set()))
    granted |= {action for flag, action in FLAG_ACTIONS.items() if getattr(user, flag)}
    return granted


def can(user: User, action: Action) -> bool:
    return action in actions_for(user)


def require(user: User, action: Action) -> None:
    """Refuses (403) a write the user's role does not allow."""
    if not can(user, action):
        raise PermissionDenied("Your role does not allow this.")


def is_client_admin(user: User) -> bool:
    """Admins of a client: its admin site and client settings."""
    return (
        user.is_authenticated
        and user.is_active
        and (user.role in (Role.ADMIN, Role.COMPANY_OWNER) or (user.is_staff and user.client_id is None))
    )


def sees_all_leads(user: User) -> bool:
    """Sales reps see assigned leads only unless `can_view_all_leads`; every other role sees all."""
    return user.role != Role.SALES_REP or user.can_view_all_leads or (user.is_staff and user.client_id is None)


# Who may grant what (docs/security.md §1): a role ranks by what it may do.
ROLE_RANK: dict[str, int] = {
    Role.ADMIN: 4,
    Role.COMPANY_OWNER: 4,
    Role.MANAGER: 3,
    Role.SALES_REP: 2,
    Role.READ_ONLY: 1,
}
STAFF_RANK = 5


def rank_of(user: User) -> int:
    if user.is_staff and user.client_id is None:
        return STAFF_RANK
    return ROLE_RANK.get(user.role, 0)


def _holds_flag(user: User, flag: str) -> bool:
    if flag == "can_view_all_leads":
        return sees_all_leads(user)
    return can(user, FLAG_ACTIONS[flag])


def _dataset_ids(ids) -> set[str] | None:
    return None if ids is None else {str(pk) for pk in ids}


def access_change_refusal(
    *, editor: User, target: User | None, role: str, flags: dict[str, bool], allowed_dataset_ids
) -> str | None:
    """Why `editor` may not give `target` (None: someone being invited) this access, or None.

    Nobody changes their own access, touches someone ranked above them, or grants a role, a
    flag or datasets they do not hold themselves.
    """
    if not can(editor, Action.MANAGE_USERS):
        return "Your role does not allow managing users."
    current_flags = {flag: bool(getattr(target, flag)) for flag in FLAG_FIELDS} if target else {}
    new_flags = {flag: bool(flags.get(flag, False)) for flag in FLAG_FIELDS}
    if target is not None and target.pk == editor.pk:
        unchanged = (
            role == target.role
            and new_flags == current_flags
            and _dataset_ids(allowed_dataset_ids) == _dataset_ids(target.allowed_dataset_ids)
        )
        return None if unchanged else "You cannot change your own role, rights or datasets."
    if target is not None and rank_of(target) > rank_of(editor):
        return "You cannot change the access of someone whose role is above yours."
    if ROLE_RANK.get(role, 0) > rank_of(editor):
        return "You cannot give a role above your own."
    for flag, on in new_flags.items():
        if on and not current_flags.get(flag) and not _holds_flag(editor, flag):
            return "You cannot give a right you do not have yourself."
    mine = None if (editor.is_staff and editor.client_id is None) else _dataset_ids(editor.allowed_dataset_ids)
    theirs = _dataset_ids(allowed_dataset_ids)
    if mine is not None and theirs != _dataset_ids(target.allowed_dataset_ids if target else []):
        if theirs is None or not theirs <= mine:
            return "You cannot give access to datasets you cannot see yourself."
    return None


def status_change_refusal(*, editor: User, target: User) -> str | None:
    """Why `editor` may not suspend or reactivate `target`, or None."""
    if not can(editor, Action.MANAGE_USERS):
        return "Your role does not allow managing users."
    if target.pk == editor.pk:
        return "You cannot suspend or reactivate yourself."
    if rank_of(target) > rank_of(editor):
        return "You cannot change the access of someone whose role is above yours."
    return None
