"""Start-up checks (`manage.py check`) for file storage and the base domain every client's host hangs off."""

import os
import re
from importlib.util import find_spec
from pathlib import Path

from django.conf import settings
from django.core.checks import CheckMessage, Error

S3_PACKAGES = {"boto3": "boto3", "storages": "django-storages"}
# One DNS label: lower case (hosts arrive lower-cased, and domains are matched exactly), no edge hyphens.
HOST_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def storage_check(app_configs, **kwargs) -> list[CheckMessage]:
    if settings.DBR_S3_BUCKET:
        missing = [package for module, package in S3_PACKAGES.items() if find_spec(module) is None]
        if missing:
            return [
                Error(
                    f"DBR_S3_BUCKET is set but {' and '.join(missing)} {'is' if len(missing) == 1 else 'are'} "
                    "not installed.",
                    hint="Install them (pip install boto3 django-storages), or unset DBR_S3_BUCKET to store files "
                    "locally.",
                    id="clients.E001",
                )
            ]
        return []
    if not _can_write(Path(settings.MEDIA_ROOT)):
        return [
            Error(
                f"The media folder {settings.MEDIA_ROOT} cannot be written (DBR_MEDIA_ROOT).",
                hint="Point DBR_MEDIA_ROOT at a folder this user can write, or set DBR_S3_BUCKET.",
                id="clients.E002",
            )
        ]
    return []


def _can_write(folder: Path) -> bool:
    """The folder is writable, or would be created inside a writable folder."""
    while not folder.exists():
        folder = folder.parent
    return folder.is_dir() and os.access(folder, os.W_OK | os.X_OK)


def base_domain_check(app_configs, **kwargs) -> list[CheckMessage]:
    domain = settings.DBR_BASE_DOMAIN
    problem = _base_domain_problem(domain)
    if problem is None:
        return []
    message, hint, check_id = problem
    bare = "Give the bare host name clients live under, e.g. dbr.example.com or localhost."
    return [Error(f"DBR_BASE_DOMAIN={domain!r} {message}", hint=f"{bare} {hint}".strip(), id=check_id)]


def _base_domain_problem(domain: str) -> tuple[str, str, str] | None:
    """(message, extra hint, check id) for the first thing wrong with the base domain, or None."""
    if not domain:
        return "is empty.", "", "clients.E003"
    if "://" in domain:
        return "has a scheme.", "The scheme is DBR_PUBLIC_SCHEME.", "clients.E004"
    if ":" in domain:
        return "has a port.", "The port in links is DBR_PUBLIC_PORT.", "clients.E005"
    if "/" in domain:
        return "has a path.", "", "clients.E006"
    if len(domain) > 253 or not all(HOST_LABEL.match(label) for label in domain.split(".")):
        return "is not a valid host name.", "Use lower-case letters, digits, hyphens and dots.", "clients.E007"
    return None
