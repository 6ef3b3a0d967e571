"""Ids in query strings: a malformed one is the caller's mistake (400), never a 500 or a silent empty list."""

import uuid

from django.core.exceptions import BadRequest


def uuid_param(value: str, *, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(value)
    except ValueError:
        raise BadRequest(f"{name} must be an id like 3f2b…-…; {value[:40]!r} is not one.") from None
