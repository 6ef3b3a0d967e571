"""`/files/<bucket>/<path>`: a stored file, served to the users its contents are for (docs/security.md §1).

An upload holds a whole list, so it follows the import right and the dataset restriction; an
export goes to the user who made it and the client's admins.
"""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404

from clients.models import User
from clients.roles import Action, can, is_client_admin
from clients.storage import BUCKETS, belongs_to_client, bucket_storage, file_owner_id
from leads.models import Upload
from leads.selectors import datasets_visible_to


def _upload_readable_by(user: User, upload: Upload) -> bool:
    if not can(user, Action.IMPORT_LEADS):
        return False
    if upload.dataset_id is None:
        return upload.uploaded_by_id == user.pk or is_client_admin(user)
    return datasets_visible_to(user).filter(pk=upload.dataset_id).exists()


def file_readable_by(user: User, bucket: str, path: str) -> bool:
    if bucket == "client_logos":
        return True
    if bucket == "csv_uploads":
        upload = Upload.objects.filter(file_url=path).first()
        return upload is not None and _upload_readable_by(user, upload)
    if (owner_id := file_owner_id(path)) is not None:
        return owner_id == str(user.pk) or is_client_admin(user)
    # The rejected rows of an import are read like the import's file.
    upload = Upload.objects.filter(summary__rejected_file=path).first()
    if upload is not None:
        return _upload_readable_by(user, upload)
    return is_client_admin(user)


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
