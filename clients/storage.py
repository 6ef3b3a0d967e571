"""The seed's three buckets (csv_uploads, client_logos, exports), kept apart per client.

Every object lives under `<schema_name>/` in its bucket, so one client's files can never be
named from another client's host; downloads go through `leads.files.download`, which checks who may read each file.
"""

import uuid
from pathlib import PurePosixPath

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import Storage, storages
from django.db import connection

BUCKETS = settings.STORAGE_BUCKETS


def bucket_storage(bucket: str) -> Storage:
    if bucket not in BUCKETS:
        raise ValueError(f"Unknown storage bucket {bucket!r}; expected one of {', '.join(BUCKETS)}")
    return storages[bucket]


def client_prefix(schema_name: str | None = None) -> str:
    schema = schema_name or connection.schema_name
    if not schema or schema == "public":
        raise ValueError("Client files can only be stored from a client's schema")
    return schema


OWNER_PREFIX = "by-"


def save_client_file(bucket: str, filename: str, content: File, *, schema_name: str | None = None, owner=None) -> str:
    """Stores `content` in the current client's part of `bucket`; returns its storage path.

    With `owner` (a user) the path names them, so an export can be served to its maker only.
    """
    safe_name = PurePosixPath(filename).name or "file"
    made_by = f"{OWNER_PREFIX}{owner.pk}/" if owner is not None else ""
    path = f"{client_prefix(schema_name)}/{made_by}{uuid.uuid4().hex}/{safe_name}"
    return bucket_storage(bucket).save(path, content)


def file_owner_id(path: str) -> str | None:
    """The id of the user a file was saved for (`save_client_file(owner=...)`), if any."""
    parts = PurePosixPath(path).parts
    if len(parts) >= 3 and parts[1].startswith(OWNER_PREFIX):
        return parts[1].removeprefix(OWNER_PREFIX)
    return None


def belongs_to_client(path: str, schema_name: str) -> bool:
    parts = PurePosixPath(path).parts
    return len(parts) >= 2 and parts[0] == schema_name and ".." not in parts
