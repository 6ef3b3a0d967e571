import functools
import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest
from django.core.paginator import Paginator
from django.http import Http404, QueryDict
from django.shortcuts import redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from clients.models import User
from clients.params import uuid_param
from clients.queue import enqueue
from clients.roles import Action, can, require
from leads import bulk
from leads.exports import export_response
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
from leads.selectors import dataset_for, datasets_visible_to, upload_for
from leads.suppressions import opt_out_list_import, suppression_add, suppression_remove
from leads.table import (
    FLAGS,
    SORT_CHOICES,
    Total,
    table_export_leads,
    table_page,
    table_query_parse,
    table_total,
)
from leads.tasks import bulk_job, count_upload_rows

PAGE_SIZE = 50  # the suppression list's pages


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
    """The table's leads for the request's filters and search, in its sort; `id` params narrow them to
    the rows ticked (an export of the selection)."""
    ids = [uuid_param(pk, name="id") for pk in request.GET.getlist("id")[: bulk.INLINE_MAX]]
    return table_export_leads(request.user, table_query_parse(request.GET), ids)


def _assignees(request):
    return (
        User.objects.filter(client_id=request.tenant.id)
        .exclude(status=User.Status.SUSPENDED)
        .order_by("first_name", "email")
    )


@login_required
def lead_list(request):
    """The leads table: filters and search in the URL, keyset pages (`after`), a total from the counters or
    an estimate, bulk actions on the ticked rows or on all that match."""
    query = table_query_parse(request.GET)
    # Read once: the filter's options, each row's dataset name and (when the counters can give it) the total.
    datasets = list(
        datasets_visible_to(request.user).order_by("name").only("pk", "name", "total_leads", "active_leads")
    )
    page = table_page(request.user, query, dataset_names={d.pk: d.name for d in datasets})
    allowed_actions = [a for a in bulk.BULK_ACTIONS.values() if can(request.user, a.requires)]
    context = {
        "page": page,
        "query": query,
        "total": _total(request.user, query, page, datasets),
        "nav": "leads",
        "statuses": Lead.ContactStatus.choices,
        "sentiments": Lead.Sentiment.choices,
        "sorts": SORT_CHOICES,
        "flags": [(name, label, query.flags.get(name)) for name, (label, _, _) in FLAGS.items()],
        "datasets": datasets,
        "assignees": _assignees(request).only("pk", "first_name", "last_name", "email")
        if can(request.user, Action.ASSIGN_LEADS)
        else [],
        "bulk_actions": allowed_actions,
        "can_export": can(request.user, Action.EXPORT_LEADS),
        "filters": query.params(),
        "first_page": query.first_page,
    }
    template = "leads/leads.html#lead-table" if request.htmx else "leads/leads.html"
    return render(request, template, context)


def _total(user, query, page, datasets) -> Total:
    """A first page that is also the last holds every match: its length is the exact total, for free."""
    if query.first_page and page.next_cursor is None:
        return Total(len(page.leads), exact=True)
    return table_total(user, query, datasets=datasets)


@login_required
def lead_export(request):
    """The filtered lead list (or one dataset) as CSV, streamed; a copy is kept in exports storage.

    `?bom=1`: UTF-8 with a byte order mark, so Excel shows accented names right."""
    require(request.user, Action.EXPORT_LEADS)
    return export_response(_filtered_leads(request), owner=request.user, bom=request.GET.get("bom") == "1")


@login_required
@require_POST
def lead_bulk(request):
    """A bulk action: the first POST asks for confirmation with the exact number of leads; the confirmed POST
    runs it here (up to bulk.INLINE_MAX leads) or as a background job with a progress page."""
    form = request.POST
    filters = form.get("filters", "")
    if "\x00" in filters or len(filters) > 2000:
        raise BadRequest("The filters of this action are not valid.")
    filters = table_query_parse(QueryDict(filters)).params()  # checked (400 if bad) and written out again
    back = f"{reverse('leads')}?{filters}" if filters else reverse("leads")
    name = form.get("action", "")
    if name == "export":
        return _bulk_export(request, filters, back)
    action = bulk.BULK_ACTIONS.get(name)
    if action is None:
        messages.error(request, "Choose what to do with the leads.")
        return redirect(back)
    require(request.user, action.requires)
    scope_all = form.get("scope") == "all"
    ids = None if scope_all else [str(uuid_param(pk, name="id")) for pk in form.getlist("id")]
    if ids is not None and not ids:
        messages.error(request, "Tick the leads to act on, or choose all the leads that match.")
        return redirect(back)
    if ids is not None and len(ids) > bulk.INLINE_MAX:
        raise BadRequest(f"At most {bulk.INLINE_MAX} leads can be ticked; choose all that match instead.")
    assignee = None
    if action.needs_assignee and (assignee_id := form.get("assignee", "")):
        assignee = _assignees(request).filter(pk=uuid_param(assignee_id, name="assignee")).first()
        if assignee is None:
            messages.error(request, "Leads can only be assigned to active users of this client.")
            return redirect(back)
    leads = bulk.bulk_leads(request.user, query_string=filters, ids=ids)
    count = leads.count()
    if form.get("confirm") != "1":
        context = {
            "action": action,
            "count": count,
            "assignee": assignee,
            "filters": filters,
            "ids": ids or [],
            "scope_all": scope_all,
            "back": back,
            "nav": "leads",
        }
        return render(request, "leads/bulk_confirm.html", context)
    if count <= bulk.INLINE_MAX:
        changed = bulk.bulk_apply(
            action, leads=leads, actor=request.user, at=timezone.now(), params=_bulk_params(action, assignee)
        )
        messages.success(request, f"{action.label}: done for {changed:,} of {count:,} lead{pluralize(count)}.")
        return redirect(back)
    job_id = bulk.bulk_job_new()
    bulk.bulk_progress_set(job_id, phase="queued", done=0, total=count, action=action.label, back=back)
    queued = enqueue(
        bulk_job,
        job_id,
        action.name,
        str(request.user.pk),
        filters,
        ids,
        str(assignee.pk) if assignee else None,
        after_commit=False,
    )
    if not queued:
        messages.error(request, "The background worker is unavailable, so nothing has changed. Try again.")
        return redirect(back)
    return redirect("lead_bulk_job", job_id=job_id)


def _bulk_export(request, filters: str, back: str):
    """Ticked rows, or a few hundred that match, stream at once; more are written by a background job whose
    progress page links to the file (a million rows would outlast a proxy's timeout)."""
    require(request.user, Action.EXPORT_LEADS)
    scope_all = request.POST.get("scope") == "all"
    ids = [] if scope_all else request.POST.getlist("id")
    ticked = "&".join(f"id={uuid_param(pk, name='id')}" for pk in ids[: bulk.INLINE_MAX])
    stream = f"{reverse('lead_export')}?{'&'.join(p for p in (filters, ticked) if p)}"
    if not scope_all:
        return redirect(stream)
    leads = table_export_leads(request.user, table_query_parse(QueryDict(filters)))
    if leads[: bulk.INLINE_MAX + 1].count() <= bulk.INLINE_MAX:
        return redirect(stream)
    job_id, _ = bulk.export_job_start(actor=request.user, query_string=filters, back=back)
    if job_id is None:
        messages.error(request, "The background worker is unavailable, so no export was made. Try again.")
        return redirect(back)
    return redirect("lead_bulk_job", job_id=job_id)


def _bulk_params(action, assignee) -> dict:
    return {"assignee": assignee} if action.needs_assignee else {}


@login_required
def lead_bulk_job(request, job_id):
    """A background bulk action's progress (polled by HTMX)."""
    if not re.fullmatch(r"[0-9a-f]{32}", job_id):
        raise Http404
    progress = bulk.bulk_progress_get(job_id)
    if progress is None:
        raise Http404
    context = {"progress": progress, "percent": _percent(progress), "job_id": job_id, "nav": "leads"}
    template = "leads/bulk_job.html#bulk-status" if request.htmx else "leads/bulk_job.html"
    return render(request, template, context)


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
