import functools

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from clients.params import uuid_param
from clients.queue import enqueue
from clients.roles import Action, require
from leads.exports import export_stream
from leads.forms import MappingForm, OptOutUploadForm, RequiredFieldsForm, SuppressionForm, UploadForm
from leads.importing.mapping import upload_mapping
from leads.importing.options import dataset_required_fields_set, import_settings
from leads.importing.preview import import_preview
from leads.importing.progress import progress_get
from leads.importing.queueing import upload_import_queue
from leads.importing.reading import ImportFileError
from leads.importing.receive import upload_mapping_set, upload_start
from leads.importing.summary import summary_details
from leads.models import Lead, Suppression, Upload
from leads.phones import normalise_phone
from leads.selectors import dataset_for, datasets_visible_to, leads_matching, leads_visible_to, upload_for
from leads.suppressions import opt_out_list_import, suppression_add, suppression_remove
from leads.tasks import count_upload_rows

PAGE_SIZE = 50


@login_required
def dataset_list(request):
    datasets = datasets_visible_to(request.user).filter(archived=False).order_by("-created_at")
    return render(request, "leads/datasets.html", {"datasets": datasets, "nav": "datasets"})


@login_required
def dataset_detail(request, pk):
    dataset = dataset_for(request.user, pk)
    uploads = dataset.uploads.order_by("-created_at")[:20]
    return render(request, "leads/dataset_detail.html", {"dataset": dataset, "uploads": uploads, "nav": "datasets"})


def _filtered_leads(request):
    leads = leads_visible_to(request.user).select_related("dataset", "assigned_to")
    leads = leads_matching(leads, request.GET.get("q", ""))
    if status := request.GET.get("status"):
        leads = leads.filter(contact_status=status)
    if dataset := request.GET.get("dataset"):
        leads = leads.filter(dataset_id=uuid_param(dataset, name="dataset"))
    return leads.order_by("-last_message_at", "first_name")


@login_required
def lead_list(request):
    page = Paginator(_filtered_leads(request), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "nav": "leads",
        "statuses": Lead.ContactStatus.choices,
        "datasets": datasets_visible_to(request.user).order_by("name"),
        "query": request.GET.urlencode(),
    }
    template = "leads/leads.html#lead-table" if request.htmx else "leads/leads.html"
    return render(request, template, context)


@login_required
def lead_export(request):
    """The filtered lead list (or one dataset) as CSV, streamed; a copy is kept in exports storage.

    `?bom=1`: UTF-8 with a byte order mark, so Excel shows accented names right."""
    require(request.user, Action.EXPORT_LEADS)
    filename = f"leads-{timezone.now():%Y%m%d-%H%M%S}.csv"
    bom = request.GET.get("bom") == "1"
    stream = export_stream(_filtered_leads(request), filename=filename, bom=bom, owner=request.user)
    response = StreamingHttpResponse(stream, content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --- The upload wizard: file → mapping → preview → import (Celery) → result -------------


@login_required
def import_start(request):
    require(request.user, Action.IMPORT_LEADS)
    datasets = datasets_visible_to(request.user).filter(archived=False).order_by("name")
    form = UploadForm(
        request.POST or None, request.FILES or None, datasets=datasets, initial={"dataset": request.GET.get("dataset")}
    )
    if request.method == "POST" and form.is_valid():
        file = form.cleaned_data["file"]
        upload = upload_start(
            fileobj=file,
            filename=file.name,
            uploaded_by=request.user,
            dataset=form.cleaned_data["dataset"],
            new_dataset_name=form.cleaned_data["new_dataset_name"],
        )
        if upload.status == Upload.Status.FAILED:
            form.add_error("file", upload.errors["file"])
        else:
            enqueue(count_upload_rows, str(upload.pk))  # counting reads the whole file: the worker's job
            return redirect("import_mapping", pk=upload.pk)
    return render(request, "leads/import_start.html", {"form": form, "nav": "datasets"})


def _wizard_step(*, already_imported: str = ""):
    """A step between the file and the import: the role is checked, the user's access applied (404 otherwise),
    and an upload that has left the wizard goes to its result page (with `already_imported` said, if given)."""

    def decorator(view):
        @functools.wraps(view)
        def step(request, pk):
            require(request.user, Action.IMPORT_LEADS)
            upload = upload_for(request.user, pk)
            if upload.status != Upload.Status.MAPPING:
                if already_imported:
                    messages.warning(request, already_imported)
                return redirect("import_detail", pk=upload.pk)
            return view(request, upload)

        return step

    return decorator


@login_required
@_wizard_step()
def import_mapping(request, upload):
    form = MappingForm(request.POST or None, headers=upload.headers, initial_mapping=upload_mapping(upload))
    if request.method == "POST" and form.is_valid():
        upload_mapping_set(upload=upload, mapping=form.mapping())
        return redirect("import_preview", pk=upload.pk)
    return render(request, "leads/import_mapping.html", {"upload": upload, "form": form, "nav": "datasets"})


@login_required
@_wizard_step()
def import_preview_view(request, upload):
    mapping = upload_mapping(upload)
    options = import_settings(upload.dataset)
    form = RequiredFieldsForm(request.POST or None, initial={"required": options.required_fields})
    if request.method == "POST" and form.is_valid():
        dataset_required_fields_set(dataset=upload.dataset, required_fields=form.cleaned_data["required"])
        messages.success(request, "Required fields saved for this dataset.")
        return redirect("import_preview", pk=upload.pk)
    preview = import_preview(upload=upload, dataset=upload.dataset, mapping=mapping)
    return render(
        request,
        "leads/import_preview.html",
        {
            "upload": upload,
            "mapping": mapping,
            "preview": preview,
            "form": form,
            "nav": "datasets",
            "required": options.required_fields,
        },
    )


@login_required
@require_POST
@_wizard_step(already_imported="This file has been imported already.")
def import_run(request, upload):
    if not upload_import_queue(upload=upload, at=timezone.now(), actor_id=str(request.user.pk)):
        messages.error(request, "The background worker is unavailable, so the import has not started. Try again.")
        return redirect("import_preview", pk=upload.pk)
    return redirect("import_detail", pk=upload.pk)


@login_required
def import_detail(request, pk):
    upload = upload_for(request.user, pk)
    progress = progress_get(upload.pk) or {"done": 0, "total": upload.rows_detected, "phase": upload.status}
    summary = upload.summary
    context = {
        "upload": upload,
        "progress": progress,
        "summary": summary,
        "details": summary_details(summary),
        "nav": "datasets",
        "percent": _percent(progress),
    }
    template = "leads/import_detail.html#import-status" if request.htmx else "leads/import_detail.html"
    return render(request, template, context)


def _percent(progress: dict) -> int:
    total = progress.get("total") or 0
    return min(100, round(100 * (progress.get("done") or 0) / total)) if total else 0


# --- Suppression list and opt-out lists -----------------------------------------------


@login_required
def suppression_list(request):
    require(request.user, Action.MANAGE_SUPPRESSIONS)
    add_form = SuppressionForm(request.POST if "add" in request.POST else None)
    upload_form = OptOutUploadForm(request.POST if "upload" in request.POST else None, request.FILES or None)
    if request.method == "POST" and "add" in request.POST and add_form.is_valid():
        result = normalise_phone(
            add_form.cleaned_data["phone_number"],
            allow_international=True,
            allow_fiction=settings.DBR_ALLOW_FICTION_NUMBERS,
        )
        if result.e164 is None:
            add_form.add_error("phone_number", result.reason)
        else:
            suppression_add(
                phone_number=result.e164,
                source=Suppression.Source.STAFF,
                reason=add_form.cleaned_data["reason"],
                actor=request.user,
            )
            messages.success(request, f"{result.e164} will never be texted again.")
            return redirect("suppressions")
    if request.method == "POST" and "upload" in request.POST and upload_form.is_valid():
        file = upload_form.cleaned_data["file"]
        try:
            with _temporary_copy(file) as path:
                summary = opt_out_list_import(path=path, filename=file.name, actor=request.user)
        except ImportFileError as exc:
            upload_form.add_error("file", str(exc))
        else:
            messages.success(
                request,
                f"{summary.added} numbers added to the suppression list "
                f"({summary.already} were on it already, {summary.invalid} were not valid numbers); "
                f"{summary.leads_removed} leads removed.",
            )
            return redirect("suppressions")
    q = request.GET.get("q", "").strip()
    suppressions = Suppression.objects.order_by("-created_at")
    if q:
        suppressions = suppressions.filter(phone_number__contains=q)
    page = Paginator(suppressions, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "leads/suppressions.html",
        {
            "page": page,
            "add_form": add_form,
            "upload_form": upload_form,
            "nav": "datasets",
        },
    )


@login_required
@require_POST
def suppression_delete(request, pk):
    require(request.user, Action.MANAGE_SUPPRESSIONS)
    suppression = Suppression.objects.filter(pk=pk).first()
    if suppression:
        suppression_remove(phone_number=suppression.phone_number)
        messages.success(request, f"{suppression.phone_number} removed from the suppression list.")
    return redirect("suppressions")


class _temporary_copy:
    """An uploaded file as a local path for the parser."""

    def __init__(self, file):
        self.file = file

    def __enter__(self) -> str:
        import tempfile

        self.handle = tempfile.NamedTemporaryFile()
        for chunk in self.file.chunks():
            self.handle.write(chunk)
        self.handle.flush()
        return self.handle.name

    def __exit__(self, *exc) -> None:
        self.handle.close()
