from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404

from clients.storage import BUCKETS, belongs_to_client, bucket_storage


@login_required
def download(request, bucket: str, path: str):
    """Serves a stored file only to signed-in users of the client that owns it."""
    if bucket not in BUCKETS or not belongs_to_client(path, request.tenant.schema_name):
        raise Http404("No such file")
    storage = bucket_storage(bucket)
    if not storage.exists(path):
        raise Http404("No such file")
    return FileResponse(storage.open(path, "rb"), as_attachment=True, filename=path.rsplit("/", 1)[-1])
