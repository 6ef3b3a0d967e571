from clients.models import Client, User


def belongs_here(user: User, tenant: Client) -> bool:
    """May this signed-in user act on this host? Platform staff anywhere; others on their client only."""
    if not user.is_active:
        return False
    if user.is_staff and user.client_id is None:
        return True
    return not tenant.is_public and user.client_id == tenant.id


def client_url(client: Client, path: str = "/") -> str:
    from django.conf import settings

    # Cached on the instance: senders build one callback URL per message.
    if not hasattr(client, "_primary_domain"):
        client._primary_domain = client.get_primary_domain()
    domain = client._primary_domain
    port = f":{settings.DBR_PUBLIC_PORT}" if settings.DBR_PUBLIC_PORT else ""
    return f"{settings.DBR_PUBLIC_SCHEME}://{domain.domain}{port}{path}"


def current_client() -> Client:
    """The client whose schema the connection is in (schema_context sets only a stand-in)."""
    from django.db import connection

    tenant = connection.tenant
    if isinstance(tenant, Client):
        return tenant
    return Client.objects.get(schema_name=connection.schema_name)
