"""Notifications: a row per user (the bell) and an e-mail, for what someone must act on now."""

import logging
from datetime import datetime

from django.core.mail import send_mail
from django.db import transaction

from clients.access import client_url
from clients.models import Client, Notification, User

log = logging.getLogger(__name__)
LEAD_OWNERS = (User.Role.COMPANY_OWNER, User.Role.ADMIN)


def notification_recipients(*, client: Client, assignee: User | None) -> list[User]:
    """The lead's assigned rep when active, else the client's active owners and admins."""
    if assignee is not None and assignee.status == User.Status.ACTIVE and assignee.client_id == client.pk:
        return [assignee]
    return list(User.objects.filter(client=client, status=User.Status.ACTIVE, role__in=LEAD_OWNERS))


def notify(
    *, client: Client, users: list[User], kind: str, title: str, body: str, path: str, lead_id, at: datetime
) -> list[Notification]:
    """One notification per user, and an e-mail each after commit (a mail server that fails is logged, and
    the notification stays in the bell)."""
    rows = Notification.objects.bulk_create(
        Notification(
            user=user, client=client, kind=kind, title=title, body=body, url=path, lead_id=lead_id, created_at=at
        )  # fmt: skip
        for user in users
    )
    link = client_url(client, path)
    transaction.on_commit(lambda: _email(rows, link, at))
    return rows


def _email(rows: list[Notification], link: str, at: datetime) -> None:
    for row in rows:
        try:
            send_mail(
                subject=f"{row.title} · {row.client.company_name}",
                message=f"{row.body}\n\nOpen it: {link}\n",
                from_email=None,
                recipient_list=[row.user.email],
            )
        except Exception:
            log.exception("Notification e-mail to %s failed", row.user.email)
            continue
        Notification.objects.filter(pk=row.pk).update(emailed_at=at)


def notification_mark_read(*, notification: Notification, at: datetime) -> None:
    Notification.objects.filter(pk=notification.pk, read_at=None).update(read_at=at)


def notifications_mark_all_read(*, user: User, at: datetime) -> int:
    return Notification.objects.filter(user=user, read_at=None).update(read_at=at)


def notifications_unread(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at=None).count()
