"""The seed's three buckets (csv_uploads, client_logos, exports), kept apart per client.

Every object lives under `<schema_name>/` in its bucket, so one client's files can never be
named from another client's host; downloads go through `clients.views.download`.
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


def save_client_file(bucket: str, filename: str, content: File, *, schema_name: str | None = None) -> str:
    """Stores `content` in the current client's part of `bucket`; returns its storage path."""
    safe_name = PurePosixPath(filename).name or "file"
    path = f"{client_prefix(schema_name)}/{uuid.uuid4().hex}/{safe_name}"
    return bucket_storage(bucket).save(path, content)


def belongs_to_client(path: str, schema_name: str) -> bool:
    parts = PurePosixPath(path).parts
    return len(parts) >= 2 and parts[0] == schema_name and ".." not in parts
