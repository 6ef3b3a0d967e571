"""`/files/<bucket>/<path>`: a stored file, served to the users its contents are for (docs/security.md §1).

An upload holds a whole list, so it follows the import right and the dataset restriction; an
export goes to the user who made it and the client's admins.
"""

import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404

from clients.models import User
from clients.roles import Action, can, is_client_admin
from clients.storage import BUCKETS, belongs_to_client, bucket_storage, client_prefix, file_owner_id
from leads.models import Upload
from leads.retention import files_under
from leads.selectors import datasets_visible_to


def _upload_readable_by(user: User, upload: Upload, visible_dataset_ids: set | None = None) -> bool:
    if not can(user, Action.IMPORT_LEADS):
        return False
    if upload.dataset_id is None:
        return upload.uploaded_by_id == user.pk or is_client_admin(user)
    if visible_dataset_ids is not None:
        return upload.dataset_id in visible_dataset_ids
    return datasets_visible_to(user).filter(pk=upload.dataset_id).exists()


def file_readable_by(user: User, bucket: str, path: str, *, rejected_of=None, visible_dataset_ids=None) -> bool:
    """`rejected_of` (path → the upload whose rejected rows it holds, or None) and `visible_dataset_ids`
    spare a listing one query per file; the rule is the same."""
    if bucket == "client_logos":
        return True
    if bucket == "csv_uploads":
        upload = Upload.objects.filter(file_url=path).first()
        return upload is not None and _upload_readable_by(user, upload)
    if (owner_id := file_owner_id(path)) is not None:
        return owner_id == str(user.pk) or is_client_admin(user)
    # The rejected rows of an import are read like the import's file.
    if rejected_of is not None:
        upload = rejected_of(path)
    else:
        upload = Upload.objects.filter(summary__rejected_file=path).first()
    if upload is not None:
        return _upload_readable_by(user, upload, visible_dataset_ids)
    return is_client_admin(user)


@dataclass(frozen=True)
class StoredExport:
    """A file of the client's exports bucket: a lead export (`made_by` its maker) or an import's rejected rows."""

    id: str  # the file's own folder, a uuid4 hex (clients.storage.save_client_file)
    path: str
    name: str
    made_by: str | None
    upload: Upload | None

    @property
    def kind(self) -> str:
        return "rejected_rows" if self.upload is not None else "export"


EXPORT_ID = re.compile(r"[0-9a-f]{32}")


def exports_readable_by(user: User, schema_name: str) -> list[StoredExport]:
    """The files of this client's exports a user may download, by `file_readable_by`'s rule."""
    storage = bucket_storage("exports")
    paths = [path for path in files_under(storage, client_prefix(schema_name)) if belongs_to_client(path, schema_name)]
    rejected = {
        upload.summary["rejected_file"]: upload
        for upload in Upload.objects.filter(summary__rejected_file__in=paths).select_related("dataset")
    }
    visible = set(datasets_visible_to(user).values_list("pk", flat=True)) if can(user, Action.IMPORT_LEADS) else set()
    found = []
    for path in paths:
        parts = PurePosixPath(path).parts
        if not EXPORT_ID.fullmatch(parts[-2]):
            continue  # not saved by save_client_file: nothing the dashboard links to either
        if file_readable_by(user, "exports", path, rejected_of=rejected.get, visible_dataset_ids=visible):
            found.append(StoredExport(parts[-2], path, parts[-1], file_owner_id(path), rejected.get(path)))
    return found


@login_required
def download(request, bucket: str, path: str):
    """Serves a stored file of this host's client to a user allowed to read it."""
    if bucket not in BUCKETS or not belongs_to_client(path, request.tenant.schema_name):
        raise Http404("No such file")
    if not file_readable_by(request.user, bucket, path):
        raise PermissionDenied("Your role or your datasets do not include this file.")
    storage = bucket_storage(bucket)
    if not storage.exists(path):
        raise Http404("No such file")
    return FileResponse(storage.open(path, "rb"), as_attachment=True, filename=path.rsplit("/", 1)[-1])
