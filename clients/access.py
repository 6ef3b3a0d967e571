from clients.models import Client, User


def belongs_here(user: User, tenant: Client) -> bool:
    """May this signed-in user act on this host? Platform staff anywhere; others on their client only."""
    if not user.is_active:
        return False
    if user.is_staff and user.client_id is None:
        return True
    return not tenant.is_public and user.client_id == tenant.id


def client_url(client: Client, path: str = "/") -> str:
    """A URL on the client's primary host, never the request's Host header (docs/security.md §4)."""
    # Cached on the instance: senders build one callback URL per message.
    if not hasattr(client, "_primary_domain"):
        client._primary_domain = client.get_primary_domain()
    return host_url(client._primary_domain.domain, path)


def user_url(user: User, path: str = "/") -> str:
    """Every link in every e-mail: the user's client host, or the platform's host for staff."""
    from django.conf import settings

    if user.client_id is not None:
        return client_url(user.client, path)
    return host_url(settings.DBR_BASE_DOMAIN, path)


def host_url(host: str, path: str) -> str:
    """Our public scheme, this host and DBR_PUBLIC_PORT when set: every URL given to the outside world, and
    the one a signed webhook is checked against (campaigns/twilio_signature.py)."""
    from django.conf import settings

    port = f":{settings.DBR_PUBLIC_PORT}" if settings.DBR_PUBLIC_PORT else ""
    return f"{settings.DBR_PUBLIC_SCHEME}://{host}{port}{path}"


def current_client() -> Client:
    """The client whose schema the connection is in (schema_context sets only a stand-in)."""
    from django.db import connection

    tenant = connection.tenant
    if isinstance(tenant, Client):
        return tenant
    return Client.objects.get(schema_name=connection.schema_name)
