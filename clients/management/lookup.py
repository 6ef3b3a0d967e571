"""Finding the client a management command names by its slug."""

from django.core.management.base import CommandError

from clients.models import Client


def client_by_slug(slug: str, *, schema_ready: bool = False) -> Client:
    """The client with this slug (never the public tenant); CommandError when there is none.

    With `schema_ready`, a client whose schema is not built yet counts as none.
    """
    clients = Client.objects.exclude(schema_name="public").filter(slug=slug)
    if schema_ready:
        clients = clients.filter(schema_ready=True)
    client = clients.first()
    if client is None:
        raise CommandError(f"No client with the slug {slug!r}.")
    return client
