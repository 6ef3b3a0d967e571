from clients.notifications import notifications_unread
from clients.roles import actions_for, is_client_admin


def access(request) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {
        "is_client_admin": is_client_admin(user),
        "allowed": {str(a) for a in actions_for(user)},
        "notifications_unread": notifications_unread(user=user),  # the bell (a partial index)
    }
