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
