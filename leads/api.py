"""The API of the `leads` app (docs/api.md): datasets, leads, suppressions, uploads (imports) and export files.

Every read goes through the selectors (role, assignment and allowed datasets, as on the dashboard);
every write through the same service the pages call.
"""

import base64
import binascii
import json
import re
from datetime import datetime
from pathlib import PurePosixPath
from urllib.parse import urlencode

from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse, QueryDict
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, PermissionDenied, ValidationError
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

from clients.api_base import (
    IDEMPOTENCY_PARAMETER,
    ErrorSerializer,
    Key,
    KeysetPagination,
    UuidLookup,
    bool_param,
    choice_param,
    error_response,
    idempotent,
)
from clients.models import User
from clients.params import uuid_param
from clients.queue import enqueue
from clients.roles import Action, can
from clients.storage import bucket_storage
from leads import bulk, table
from leads.exports import export_response
from leads.files import EXPORT_ID, exports_readable_by
from leads.forms import UploadForm
from leads.importing.mapping import upload_mapping, validate_mapping
from leads.importing.progress import progress_get
from leads.importing.queueing import upload_import_queue
from leads.importing.receive import upload_mapping_set, upload_start
from leads.models import Dataset, Lead, Suppression, Upload
from leads.phones import normalise_phone
from leads.selectors import datasets_visible_to, leads_visible_to, upload_for
from leads.services import lead_status_change
from leads.suppressions import suppression_add, suppression_remove
from leads.tasks import bulk_job

UUID_EXAMPLE = "0e7d8c52-47a1-4c1a-a8a4-5e8b0f7f6d21"
DATASET_ID = "7c1f3b8e-2a4d-4e6f-8b9a-0c1d2e3f4a5b"


# --- Datasets ----------------------------------------------------------------------------------------


class DatasetSerializer(serializers.ModelSerializer):
    class Meta:
        model = Dataset
        fields = [
            "id",
            "name",
            "description",
            "source",
            "campaign_status",
            "campaign_start_date",
            "campaign_end_date",
            "total_leads",
            "active_leads",
            "hot_leads",
            "converted_leads",
            "archived",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


DATASET_EXAMPLE = {
    "id": DATASET_ID,
    "name": "Solar enquiries 2023",
    "description": "",
    "source": "CSV Upload",
    "campaign_status": "active",
    "campaign_start_date": "2026-11-02T09:00:00Z",
    "campaign_end_date": None,
    "total_leads": 4210,
    "active_leads": 3977,
    "hot_leads": 41,
    "converted_leads": 6,
    "archived": False,
    "created_at": "2026-11-01T12:00:00Z",
    "updated_at": "2026-11-30T08:00:00Z",
}


@extend_schema_view(
    list=extend_schema(
        summary="Datasets you can see",
        parameters=[OpenApiParameter("archived", bool, description="true: archived only; false: live only.")],
        examples=[OpenApiExample("A dataset", value=DATASET_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        summary="One dataset", examples=[OpenApiExample("A dataset", value=DATASET_EXAMPLE, response_only=True)]
    ),
)
class DatasetViewSet(UuidLookup, viewsets.ReadOnlyModelViewSet):
    queryset = Dataset.objects.none()  # names the model for the schema; get_queryset applies access
    serializer_class = DatasetSerializer
    keyset_ordering = [Key("created_at", descending=True)]

    def get_queryset(self):
        datasets = datasets_visible_to(self.request.user)
        if self.action == "list" and (archived := bool_param(self.request, "archived")) is not None:
            datasets = datasets.filter(archived=archived)
        return datasets


# --- Leads -------------------------------------------------------------------------------------------


class LeadSerializer(serializers.ModelSerializer):
    class Meta:
        model = Lead
        fields = [
            "id",
            "dataset",
            "first_name",
            "last_name",
            "phone_number",
            "email",
            "postcode",
            "inquiry_date",
            "notes",
            "contact_status",
            "lead_sentiment",
            "m1_sent_at",
            "m2_sent_at",
            "m3_sent_at",
            "reply_received_at",
            "last_message_at",
            "call_booked",
            "call_booked_time",
            "manual_mode",
            "archived",
            "assigned_to",
            "latest_lead_reply",
            "total_messages",
            "sms_capable",
            "sms_capable_reason",
            "is_duplicate",
            "duplicate_of",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [f for f in fields if f != "contact_status"]

    def to_representation(self, instance):
        if not isinstance(instance, Lead):
            return super().to_representation(instance)
        return lead_data(instance)


class _LeadFields:
    """How each of LeadSerializer's fields reads and converts a lead, worked out once per process.

    A ModelSerializer builds its fields (a deep copy, the model's metadata) on every instance and walks
    every field's generic machinery for every row: most of a page's time at 50 leads. The fields here are
    the serializer's own, so the JSON is the same key for key and type for type; only the set-up is shared.
    """

    _plan: list | None = None

    @classmethod
    def plan(cls) -> list:
        if cls._plan is None:
            plan = []
            for name, field in LeadSerializer().fields.items():
                if isinstance(field, serializers.PrimaryKeyRelatedField):
                    # DRF's pk-only shortcut: the foreign key's column, as the pk (a UUID) or None.
                    plan.append((name, Lead._meta.get_field(name).attname, None))
                elif isinstance(field, serializers.DateTimeField) and _iso_datetimes(field):
                    plan.append((name, field.source, _DATETIME))
                else:
                    plan.append((name, field.source, field.to_representation))
            cls._plan = plan
        return cls._plan


_DATETIME = object()  # marks the datetime fields lead_data converts itself


def _iso_datetimes(field: serializers.DateTimeField) -> bool:
    """Does this field write ISO 8601 in the current time zone (DRF's default)? Then lead_data may too."""
    from rest_framework.settings import ISO_8601, api_settings

    output = getattr(field, "format", api_settings.DATETIME_FORMAT)
    return (
        isinstance(output, str)
        and output.lower() == ISO_8601
        and getattr(field, "timezone", None) is None
        and settings.USE_TZ
    )


def lead_data(lead: Lead, zone=None) -> dict:
    """LeadSerializer(lead).data, without building a serializer per call.

    Datetimes as DRF's DateTimeField writes them: in the current time zone (`zone`, looked up once per
    page), ISO 8601, with `Z` for UTC; a naive one (never from the database) goes through DRF itself.
    """
    zone = zone or timezone.get_current_timezone()
    data = {}
    for name, attribute, convert in _LeadFields.plan():
        value = getattr(lead, attribute)
        if value is None or convert is None:
            data[name] = value
        elif convert is _DATETIME:
            if value.tzinfo is None:
                data[name] = LeadSerializer().fields[name].to_representation(value)
                continue
            text = value.astimezone(zone).isoformat()
            data[name] = text[:-6] + "Z" if text.endswith("+00:00") else text
        else:
            data[name] = convert(value)
    return data


def lead_rows(leads):
    """The leads list's rows as named tuples of what LeadSerializer shows (so every sort's column too) and
    `pk`, which is all lead_data and the table's keyset cursor read: no model instance per row."""
    columns = [Lead._meta.get_field(name).attname for name in LeadSerializer.Meta.fields]
    return leads.values_list(*columns, "pk", named=True)


class LeadStatusSerializer(serializers.Serializer):
    contact_status = serializers.ChoiceField(choices=Lead.ContactStatus.choices)


BULK_FILTER_NAMES = {"dataset", "status", "sentiment", "assigned", "q", "sort", *table.FLAGS}  # sort: for `export`


def _bulk_selection(data: dict) -> tuple[str, list[str] | None]:
    """A bulk request's leads: the table's query string for its filters (checked), and its ids if given."""
    filters = {k: str(v) for k, v in (data.get("filters") or {}).items()}
    unknown = sorted(set(filters) - BULK_FILTER_NAMES)
    if unknown:
        raise ValidationError({"filters": [f"Not a filter of the leads table: {', '.join(unknown)}."]})
    query_string = table.table_query_parse(QueryDict(urlencode(filters))).params()
    ids = [str(pk) for pk in data["ids"]] if data.get("ids") is not None else None
    if ids is not None and not ids:
        raise ValidationError({"ids": ["Give the ids of the leads, or leave ids out for all that match."]})
    return query_string, ids


def _export_download_url(request, path: str | None) -> str | None:
    """The API's download of a finished export: its id is the 32-hex folder the file was saved in."""
    folder = PurePosixPath(path).parent.name if path else ""
    return request.build_absolute_uri(f"/api/exports/{folder}/download/") if EXPORT_ID.fullmatch(folder) else None


class BulkRequestSerializer(serializers.Serializer):
    action = serializers.ChoiceField(
        choices=[*((a.name, a.label) for a in bulk.BULK_ACTIONS.values()), ("export", "Export")],
        help_text="`export` always runs in the background: its progress ends with the file's `download_url`.",
    )
    ids = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        allow_null=True,
        max_length=bulk.INLINE_MAX,
        help_text=f"The ticked leads (at most {bulk.INLINE_MAX}); leave out for every lead matching `filters`.",
    )
    filters = serializers.DictField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        help_text="The leads table's filters, as for GET /api/leads/ (dataset, status, q, archived…).",
    )
    assignee = serializers.UUIDField(required=False, allow_null=True, help_text="For `assign`: empty unassigns.")


class BulkDoneSerializer(serializers.Serializer):
    action = serializers.CharField()
    count = serializers.IntegerField(help_text="Leads the action covered.")
    changed = serializers.IntegerField(help_text="Leads it changed.")


class BulkJobSerializer(serializers.Serializer):
    action = serializers.CharField()
    count = serializers.IntegerField()
    job_id = serializers.CharField()
    status_url = serializers.URLField()


class BulkProgressSerializer(serializers.Serializer):
    phase = serializers.ChoiceField(choices=["queued", "running", "done", "failed"])
    done = serializers.IntegerField()
    total = serializers.IntegerField()
    changed = serializers.IntegerField(allow_null=True)
    error = serializers.CharField(allow_null=True)
    download_url = serializers.URLField(
        required=False, allow_null=True, help_text="`export`, when done: the CSV (GET /api/exports/{id}/download/)."
    )


LEAD_EXAMPLE = {
    "id": UUID_EXAMPLE,
    "dataset": DATASET_ID,
    "first_name": "Sam",
    "last_name": "Carter",
    "phone_number": "+447700900123",
    "email": "sam@example.com",
    "postcode": "BS1 4DJ",
    "inquiry_date": "2023-05-14",
    "notes": None,
    "contact_status": "HOT",
    "lead_sentiment": "POSITIVE",
    "m1_sent_at": "2026-11-02T10:01:00Z",
    "m2_sent_at": None,
    "m3_sent_at": None,
    "reply_received_at": "2026-11-02T10:30:00Z",
    "last_message_at": "2026-11-02T10:30:00Z",
    "call_booked": False,
    "call_booked_time": None,
    "manual_mode": False,
    "archived": False,
    "assigned_to": None,
    "latest_lead_reply": "Yes please, call me after 5",
    "total_messages": 2,
    "sms_capable": True,
    "sms_capable_reason": None,
    "is_duplicate": False,
    "duplicate_of": None,
    "created_at": "2026-11-01T12:00:00Z",
    "updated_at": "2026-11-02T10:30:00Z",
}

EXPORT_IDS_MAX = bulk.INLINE_MAX  # ticked leads in one export, as the table's Export button
LEAD_FILTERS = [
    OpenApiParameter("q", str, description="A number in any form, an e-mail, or words that start names."),
    OpenApiParameter("dataset", OpenApiTypes.UUID, description="Only this dataset's leads."),
    OpenApiParameter("status", str, enum=Lead.ContactStatus.values, description="contact_status"),
    OpenApiParameter("sentiment", str, enum=[*Lead.Sentiment.values, table.NO_SENTIMENT], description="lead_sentiment"),
    OpenApiParameter("assigned", str, description="`me`, `none` or a user's id."),
    *(
        OpenApiParameter(name, str, enum=["yes", "no"], description=label)
        for name, (label, _, _) in table.FLAGS.items()
    ),
    OpenApiParameter(
        "sort",
        str,
        enum=[f"{prefix}{name}" for name in table.SORTS for prefix in ("-", "")],
        description=f"Default {table.DEFAULT_SORT}; ties broken by id; empty values last.",
    ),
]


def _table_query(request) -> table.TableQuery:
    """The dashboard table's parameters (leads.table), with the API's `cursor` for the table's `after`."""
    params = request.query_params.copy()
    params.pop("before", None)  # the dashboard's Previous link; API pages go forward, by `cursor`
    if "cursor" in params:
        params["after"] = params.pop("cursor")[-1]
    return table.table_query_parse(params)


@extend_schema_view(
    list=extend_schema(
        summary="Leads you can see: the leads table's filters, search and sorts, in keyset pages",
        parameters=LEAD_FILTERS,
        responses=LeadSerializer,
        examples=[
            OpenApiExample(
                "A page",
                value={"next": "https://acme.example.com/api/leads/?cursor=WyIyMDI2…", "results": [LEAD_EXAMPLE]},
                response_only=True,
            )
        ],
    ),
    retrieve=extend_schema(
        summary="One lead", examples=[OpenApiExample("A hot lead", value=LEAD_EXAMPLE, response_only=True)]
    ),
    partial_update=extend_schema(
        summary="Change a lead's contact_status (the lead page's status control)",
        request=LeadStatusSerializer,
        examples=[
            OpenApiExample("Converted", value={"contact_status": "CONVERTED"}, request_only=True),
            OpenApiExample("The lead", value={**LEAD_EXAMPLE, "contact_status": "CONVERTED"}, response_only=True),
        ],
    ),
)
class LeadViewSet(UuidLookup, mixins.UpdateModelMixin, viewsets.ReadOnlyModelViewSet):
    """Leads the caller may see; PATCH changes `contact_status` (role permitting)."""

    queryset = Lead.objects.none()  # names the model for the schema; get_queryset applies access
    serializer_class = LeadSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def get_queryset(self):
        return leads_visible_to(self.request.user)

    def list(self, request, *args, **kwargs):
        query = _table_query(request)
        zone = timezone.get_current_timezone()
        rows, cursor = table.table_rows(lead_rows(table.table_leads(request.user, query)), query)
        next_url = None
        if cursor:
            next_url = replace_query_param(request.build_absolute_uri(), "cursor", cursor)
        return Response({"next": next_url, "results": [lead_data(lead, zone) for lead in rows]})

    def partial_update(self, request, *args, **kwargs):
        if not can(request.user, Action.CHANGE_LEAD_STATUS):
            raise PermissionDenied("Your role does not allow changing a lead's status.")
        lead = self.get_object()
        body = LeadStatusSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        try:
            lead_status_change(
                lead=lead, status=body.validated_data["contact_status"], actor=request.user, reason="API"
            )
        except DjangoValidationError as exc:
            raise ValidationError(exc.message_dict) from None
        return Response(LeadSerializer(lead).data)

    @extend_schema(
        summary="A bulk action on leads: ticked ids, or every lead matching the table's filters",
        description=(
            f"Up to {bulk.INLINE_MAX} leads are changed in the request (200); more are changed by a background "
            "job (202) whose progress is at `status_url`. The same actions, role rules and services as the "
            "leads table's bulk bar."
        ),
        request=BulkRequestSerializer,
        responses={200: BulkDoneSerializer, 202: BulkJobSerializer, 503: ErrorSerializer},
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[
            OpenApiExample(
                "Archive the cold leads of a dataset",
                value={"action": "archive", "filters": {"dataset": DATASET_ID, "status": "COLD"}},
                request_only=True,
            ),
            OpenApiExample(
                "Assign ticked leads",
                value={"action": "assign", "ids": [UUID_EXAMPLE], "assignee": "5b0c1c1e-8a39-4f5b-9f53-2f1d3f2b9b10"},
                request_only=True,
            ),
            OpenApiExample("Done", value={"action": "archive", "count": 12, "changed": 12}, response_only=True),
        ],
    )
    @action(detail=False, methods=["post"])
    def bulk(self, request):
        return idempotent(request, lambda: self._bulk(request))

    def _bulk(self, request) -> Response:
        body = BulkRequestSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        if data["action"] == "export":
            return self._export_job(request, data)
        chosen = bulk.BULK_ACTIONS[data["action"]]
        if not can(request.user, chosen.requires):
            raise PermissionDenied("Your role does not allow this action.")
        query_string, ids = _bulk_selection(data)
        assignee = None
        if chosen.needs_assignee and data.get("assignee"):
            assignee = (
                User.objects.filter(client_id=request.tenant.id, pk=data["assignee"])
                .exclude(status=User.Status.SUSPENDED)
                .first()
            )
            if assignee is None:
                raise ValidationError({"assignee": ["Leads can only be assigned to active users of this client."]})
        params = {"assignee": assignee} if chosen.needs_assignee else {}
        leads = bulk.bulk_leads(request.user, query_string=query_string, ids=ids)
        count = leads.count()
        if count <= bulk.INLINE_MAX:
            changed = bulk.bulk_apply(chosen, leads=leads, actor=request.user, at=timezone.now(), params=params)
            return Response({"action": chosen.name, "count": count, "changed": changed})
        job_id = bulk.bulk_job_new()
        bulk.bulk_progress_set(job_id, phase="queued", done=0, total=count, action=chosen.label)
        queued = enqueue(
            bulk_job,
            job_id,
            chosen.name,
            str(request.user.pk),
            query_string,
            ids,
            str(assignee.pk) if assignee else None,
            after_commit=False,
        )
        if not queued:
            return error_response(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                "worker_unavailable",
                "The background worker is unavailable, so nothing has changed. Try again.",
                headers={"Retry-After": "30"},
            )
        url = request.build_absolute_uri(f"/api/leads/bulk/{job_id}/")
        return Response(
            {"action": chosen.name, "count": count, "job_id": job_id, "status_url": url},
            status=status.HTTP_202_ACCEPTED,
        )

    @extend_schema(
        summary="The leads matching the table's filters (or the ticked ids among them) as CSV",
        description=(
            "The leads table's Export: the same columns, the same filters, search and sort, streamed; a copy is "
            "kept in the client's exports (`/api/exports/`). Formula-looking cells are neutralised for Excel."
        ),
        parameters=[
            *LEAD_FILTERS,
            OpenApiParameter(
                "id", OpenApiTypes.UUID, many=True, description=f"Only these leads (at most {EXPORT_IDS_MAX})."
            ),
            OpenApiParameter("bom", str, enum=["1"], description="Start with a UTF-8 byte order mark, for Excel."),
        ],
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    @action(detail=False, methods=["get"])
    def export(self, request):
        if not can(request.user, Action.EXPORT_LEADS):
            raise PermissionDenied("Your role does not allow exporting leads.")
        ids = [uuid_param(pk, name="id") for pk in request.query_params.getlist("id")[:EXPORT_IDS_MAX]]
        leads = table.table_export_leads(request.user, _table_query(request), ids)
        return export_response(leads, owner=request.user, bom=request.query_params.get("bom") == "1")

    def _export_job(self, request, data) -> Response:
        if not can(request.user, Action.EXPORT_LEADS):
            raise PermissionDenied("Your role does not allow exporting leads.")
        query_string, ids = _bulk_selection(data)
        job_id, count = bulk.export_job_start(actor=request.user, query_string=query_string, ids=ids)
        if job_id is None:
            return error_response(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                "worker_unavailable",
                "The background worker is unavailable, so no export was made. Try again.",
                headers={"Retry-After": "30"},
            )
        url = request.build_absolute_uri(f"/api/leads/bulk/{job_id}/")
        return Response(
            {"action": "export", "count": count, "job_id": job_id, "status_url": url}, status=status.HTTP_202_ACCEPTED
        )

    @extend_schema(
        summary="A background bulk action's progress",
        responses=BulkProgressSerializer,
        parameters=[OpenApiParameter("job_id", str, OpenApiParameter.PATH, pattern="^[0-9a-f]{32}$")],
        examples=[
            OpenApiExample(
                "Running", value={"phase": "running", "done": 4000, "total": 12000, "changed": None, "error": None}
            )
        ],
    )
    @action(detail=False, methods=["get"], url_path=r"bulk/(?P<job_id>[^/.]+)")
    def bulk_status(self, request, job_id=None):
        if not re.fullmatch(r"[0-9a-f]{32}", job_id or ""):
            raise ValidationError({"job_id": ["A job id is 32 hexadecimal characters, as `bulk` answered."]})
        progress = bulk.bulk_progress_get(job_id)
        if progress is None:
            raise NotFound("No such bulk job (its progress is kept for a day).")
        return Response(
            {
                "phase": progress.get("phase", "queued"),
                "done": progress.get("done", 0),
                "total": progress.get("total", 0),
                "changed": progress.get("changed"),
                "error": progress.get("error"),
                "download_url": _export_download_url(request, progress.get("file")),
            }
        )


# --- Suppressions ------------------------------------------------------------------------------------


class SuppressionSerializer(serializers.ModelSerializer):
    created_by = serializers.EmailField(source="created_by.email", read_only=True, allow_null=True, default=None)

    class Meta:
        model = Suppression
        fields = ["id", "phone_number", "reason", "source", "created_by", "created_at"]
        read_only_fields = ["id", "source", "created_by", "created_at"]
        extra_kwargs = {
            "phone_number": {"validators": [], "help_text": "Any common format; stored as E.164."},
            "reason": {"required": False, "max_length": 300},
        }

    def validate_phone_number(self, value: str) -> str:
        result = normalise_phone(value, allow_international=True, allow_fiction=settings.DBR_ALLOW_FICTION_NUMBERS)
        if result.e164 is None:
            raise serializers.ValidationError(result.reason)
        return result.e164


SUPPRESSION_EXAMPLE = {
    "id": "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a",
    "phone_number": "+447700900456",
    "reason": "Asked on the phone never to be texted",
    "source": "staff",
    "created_by": "owner@acme.example",
    "created_at": "2026-11-30T09:30:00Z",
}


@extend_schema_view(
    list=extend_schema(
        summary="The suppression list: numbers never texted again",
        parameters=[OpenApiParameter("q", str, description="The number contains this.")],
        examples=[OpenApiExample("Added by staff", value=SUPPRESSION_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        summary="One suppressed number",
        examples=[OpenApiExample("Added by staff", value=SUPPRESSION_EXAMPLE, response_only=True)],
    ),
    create=extend_schema(
        summary="Suppress a number; leads with it are removed (as on the Suppressions page)",
        examples=[
            OpenApiExample(
                "Add", value={"phone_number": "07700 900456", "reason": "Asked by phone"}, request_only=True
            ),
            OpenApiExample("Added", value=SUPPRESSION_EXAMPLE, response_only=True, status_codes=["201"]),
        ],
    ),
    destroy=extend_schema(summary="Lift a suppression (removed leads stay removed)", responses={204: None}),
)
class SuppressionViewSet(UuidLookup, mixins.CreateModelMixin, mixins.DestroyModelMixin, viewsets.ReadOnlyModelViewSet):
    """Client-wide: who may manage suppressions sees and changes them (Action.MANAGE_SUPPRESSIONS)."""

    queryset = Suppression.objects.none()  # names the model for the schema; get_queryset applies access
    serializer_class = SuppressionSerializer
    keyset_ordering = [Key("created_at", descending=True)]

    def initial(self, request, *args, **kwargs):
        super().initial(request, *args, **kwargs)
        if not can(request.user, Action.MANAGE_SUPPRESSIONS):
            raise PermissionDenied("Your role does not allow managing the suppression list.")

    def get_queryset(self):
        suppressions = Suppression.objects.select_related("created_by")
        if self.action == "list" and (q := self.request.query_params.get("q", "").strip()):
            suppressions = suppressions.filter(phone_number__contains=q)
        return suppressions

    def create(self, request, *args, **kwargs):
        body = self.get_serializer(data=request.data)
        body.is_valid(raise_exception=True)
        suppression = suppression_add(
            phone_number=body.validated_data["phone_number"],
            source=Suppression.Source.STAFF,
            reason=body.validated_data.get("reason", ""),
            actor=request.user,
        )
        return Response(self.get_serializer(suppression).data, status=status.HTTP_201_CREATED)

    def destroy(self, request, *args, **kwargs):
        suppression_remove(phone_number=self.get_object().phone_number)
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Uploads (imports) -------------------------------------------------------------------------------


class UploadSerializer(serializers.ModelSerializer):
    progress = serializers.SerializerMethodField(help_text="While processing: rows done of total, and the phase.")
    rejected_rows_url = serializers.SerializerMethodField()

    class Meta:
        model = Upload
        fields = [
            "id",
            "dataset",
            "filename",
            "file_size",
            "file_type",
            "status",
            "rows_detected",
            "rows_imported",
            "errors",
            "headers",
            "column_mapping",
            "summary",
            "progress",
            "rejected_rows_url",
            "queued_at",
            "started_at",
            "completed_at",
            "processing_time",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "object",
            "nullable": True,
            "properties": {
                "done": {"type": "integer"},
                "total": {"type": "integer", "nullable": True},
                "phase": {"type": "string"},
            },
        }
    )
    def get_progress(self, upload: Upload) -> dict | None:
        if upload.status != Upload.Status.PROCESSING:
            return None
        return progress_get(upload.pk) or {"done": 0, "total": upload.rows_detected, "phase": "queued"}

    @extend_schema_field({"type": "string", "format": "uri", "nullable": True})
    def get_rejected_rows_url(self, upload: Upload) -> str | None:
        if not (upload.summary or {}).get("rejected_file"):
            return None
        request = self.context.get("request")
        path = f"/api/uploads/{upload.pk}/rejected/"
        return request.build_absolute_uri(path) if request else path


class UploadStartSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="CSV (any delimiter, UTF-8 or Windows encoding) or Excel .xlsx.")
    dataset = serializers.UUIDField(required=False, allow_null=True, help_text="Import into this dataset…")
    new_dataset_name = serializers.CharField(required=False, allow_blank=True, help_text="…or into a new one.")
    mapping = serializers.CharField(
        required=False,
        allow_blank=True,
        help_text='JSON: column name → lead field ({"Mobile": "phone_number"}); the guess when left out.',
    )


UPLOAD_EXAMPLE = {
    "id": "3f2b9a1c-4d5e-4f60-8a7b-9c0d1e2f3a4b",
    "dataset": DATASET_ID,
    "filename": "enquiries.csv",
    "file_size": 48213,
    "file_type": "text/csv",
    "status": "processing",
    "rows_detected": None,
    "rows_imported": None,
    "errors": None,
    "headers": ["First name", "Mobile", "Postcode"],
    "column_mapping": {"First name": "first_name", "Mobile": "phone_number", "Postcode": "postcode"},
    "summary": None,
    "progress": {"done": 1200, "total": 5000, "phase": "reading"},
    "rejected_rows_url": None,
    "queued_at": "2026-11-30T10:00:00Z",
    "started_at": "2026-11-30T10:00:01Z",
    "completed_at": None,
    "processing_time": None,
    "created_at": "2026-11-30T10:00:00Z",
}


@extend_schema_view(
    list=extend_schema(
        summary="Uploads (imports) into the datasets you can see",
        examples=[OpenApiExample("Importing", value=UPLOAD_EXAMPLE, response_only=True)],
    ),
    retrieve=extend_schema(
        summary="One upload: poll it for the import's progress and result",
        examples=[OpenApiExample("Importing", value=UPLOAD_EXAMPLE, response_only=True)],
    ),
)
class UploadViewSet(UuidLookup, viewsets.ReadOnlyModelViewSet):
    queryset = Upload.objects.none()  # names the model for the schema; get_queryset applies access
    serializer_class = UploadSerializer
    keyset_ordering = [Key("created_at", descending=True)]

    def get_queryset(self):
        return Upload.objects.filter(dataset__in=datasets_visible_to(self.request.user)).select_related("dataset")

    def get_object(self):
        uuid_param(str(self.kwargs["pk"]), name="id")
        return upload_for(self.request.user, self.kwargs["pk"])

    @extend_schema(
        summary="Start an import from a file (the import wizard in one call)",
        description=(
            "Receives the file, checks it as the wizard does, applies the mapping (or the guess) and hands the "
            "import to a worker. Poll the upload for progress. A file that cannot be read is refused (400) and "
            "kept as a failed upload."
        ),
        request={"multipart/form-data": UploadStartSerializer},
        responses={202: UploadSerializer, 503: OpenApiResponse(description="The background worker is unavailable.")},
        parameters=[IDEMPOTENCY_PARAMETER],
        examples=[OpenApiExample("Queued", value=UPLOAD_EXAMPLE, response_only=True, status_codes=["202"])],
    )
    @action(detail=False, methods=["post"], url_path="start", parser_classes=[MultiPartParser])
    def start(self, request):
        if not can(request.user, Action.IMPORT_LEADS):
            raise PermissionDenied("Your role does not allow importing leads.")
        return idempotent(request, lambda: self._start(request))

    def _start(self, request) -> Response:
        body = UploadStartSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        datasets = datasets_visible_to(request.user).filter(archived=False)
        dataset_id = body.validated_data.get("dataset")
        form = UploadForm(
            {"dataset": str(dataset_id or ""), "new_dataset_name": body.validated_data.get("new_dataset_name", "")},
            {"file": body.validated_data["file"]},
            datasets=datasets,
        )
        if not form.is_valid():
            raise ValidationError({name: list(errors) for name, errors in form.errors.items()})
        mapping = self._mapping(body.validated_data.get("mapping"))
        file = form.cleaned_data["file"]
        upload = upload_start(
            fileobj=file,
            filename=file.name,
            uploaded_by=request.user,
            dataset=form.cleaned_data["dataset"],
            new_dataset_name=form.cleaned_data["new_dataset_name"],
        )
        if upload.status == Upload.Status.FAILED:
            raise ValidationError({"file": [upload.errors["file"]]})
        upload_mapping_set(upload=upload, mapping=mapping if mapping is not None else upload_mapping(upload))
        problems = validate_mapping(upload_mapping(upload), upload.headers)
        if problems:
            # The file is kept: the import can be finished in the dashboard's wizard, or sent again.
            problems.append(f"The file is kept as upload {upload.pk}, waiting for its mapping.")
            raise ValidationError({"mapping": problems})
        if not upload_import_queue(upload=upload, at=timezone.now(), actor_id=str(request.user.pk)):
            return error_response(
                status.HTTP_503_SERVICE_UNAVAILABLE,
                "worker_unavailable",
                "The background worker is unavailable, so the import has not started. Try again.",
                headers={"Retry-After": "30"},
            )
        upload.refresh_from_db()
        return Response(UploadSerializer(upload, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)

    @staticmethod
    def _mapping(raw: str | None) -> dict[str, str] | None:
        if not raw:
            return None
        try:
            mapping = json.loads(raw)
        except ValueError:
            mapping = None
        if not isinstance(mapping, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in mapping.items()
        ):
            raise ValidationError(
                {"mapping": ['Send a JSON object of column name → lead field, like {"Mobile": "phone_number"}.']}
            )
        return mapping

    @extend_schema(
        summary="The rows the import rejected, with the reason for each (CSV)",
        responses={(200, "text/csv"): OpenApiTypes.STR},
    )
    @action(detail=True, methods=["get"])
    def rejected(self, request, pk=None):
        upload = self.get_object()
        path = (upload.summary or {}).get("rejected_file")
        if not path:
            raise NotFound("This import rejected no rows (or has not finished).")
        storage = bucket_storage("exports")
        if not storage.exists(path):
            raise NotFound("The rejected rows were deleted by the retention period.")
        return FileResponse(
            storage.open(path, "rb"),
            as_attachment=True,
            filename=f"rejected-rows-{upload.pk}.csv",
            content_type="text/csv; charset=utf-8",
        )


# --- Exports -----------------------------------------------------------------------------------------


class ExportSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="32 hexadecimal characters.")
    name = serializers.CharField()
    kind = serializers.ChoiceField(
        choices=["export", "rejected_rows"], help_text="A lead export, or an import's rejected rows."
    )
    size = serializers.IntegerField(help_text="Bytes.")
    created_at = serializers.DateTimeField()
    made_by = serializers.UUIDField(allow_null=True, help_text="Who made the export (null for rejected rows).")
    upload = serializers.UUIDField(allow_null=True, help_text="The import whose rejected rows these are.")
    download_url = serializers.URLField()


EXPORT_EXAMPLE = {
    "id": "4be1c0a2d97f4e5c8a1b2c3d4e5f6a7b",
    "name": "leads-20261130-101500.csv",
    "kind": "export",
    "size": 183204,
    "created_at": "2026-11-30T10:15:07Z",
    "made_by": "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b",
    "upload": None,
    "download_url": "https://acme.example.com/api/exports/4be1c0a2d97f4e5c8a1b2c3d4e5f6a7b/download/",
}


class ExportViewSet(viewsets.GenericViewSet):
    """The client's exports bucket as the dashboard serves it (leads/files.py): a lead export to its maker and
    the client's admins, an import's rejected rows to who may read the import. Files, not rows: a list reads
    the bucket, and the cursor is the last file's (created_at, id)."""

    serializer_class = ExportSerializer
    lookup_value_regex = "[^/]+"  # a malformed id is a 400 of its own, not a 404 of the router

    def _exports(self, request):
        return exports_readable_by(request.user, request.tenant.schema_name)

    def _item(self, request, export, storage) -> dict:
        return {
            "id": export.id,
            "name": export.name,
            "kind": export.kind,
            "size": storage.size(export.path),
            "created_at": storage.get_modified_time(export.path),
            "made_by": export.made_by,
            "upload": export.upload.pk if export.upload else None,
            "download_url": request.build_absolute_uri(f"/api/exports/{export.id}/download/"),
        }

    def _one(self, request, pk: str):
        if not EXPORT_ID.fullmatch(pk or ""):
            raise ValidationError({"id": ["An export id is 32 hexadecimal characters, as the list gives it."]})
        found = next((export for export in self._exports(request) if export.id == pk), None)
        if found is None:
            raise NotFound("Not found, or not visible to you.")
        return found

    @extend_schema(
        summary="Export files you may download: your lead exports (admins: everyone's) and imports' rejected rows",
        parameters=[OpenApiParameter("kind", str, enum=["export", "rejected_rows"], description="Only this kind.")],
        examples=[OpenApiExample("A lead export", value=EXPORT_EXAMPLE, response_only=True)],
    )
    def list(self, request):
        limit = self.paginator._limit(request)
        kind = choice_param(request, "kind", ["export", "rejected_rows"])
        after = self._cursor(request.query_params.get("cursor"))
        storage = bucket_storage("exports")
        items = [self._item(request, e, storage) for e in self._exports(request) if not kind or e.kind == kind]
        items.sort(key=lambda item: (item["created_at"], item["id"]), reverse=True)  # newest first
        if after is not None:
            items = [item for item in items if (item["created_at"], item["id"]) < after]
        page = items[:limit]
        next_url = None
        if len(items) > limit:
            last = page[-1]
            cursor = KeysetPagination._encode([last["created_at"], last["id"]])
            next_url = replace_query_param(request.build_absolute_uri(), "cursor", cursor)
        return Response({"next": next_url, "results": ExportSerializer(page, many=True).data})

    @staticmethod
    def _cursor(raw: str | None):
        if not raw:
            return None
        try:
            when, pk = json.loads(base64.urlsafe_b64decode(raw.encode() + b"=" * (-len(raw) % 4)))
            moment = datetime.fromisoformat(when)
            if moment.tzinfo is None or not EXPORT_ID.fullmatch(pk):
                raise ValueError
            return moment, pk
        except (ValueError, TypeError, UnicodeError, binascii.Error):
            raise ValidationError(
                {"cursor": ["This cursor is not valid: use the `next` link of the previous page as it is."]}
            ) from None

    @extend_schema(
        summary="One export file's details",
        responses=ExportSerializer,
        parameters=[OpenApiParameter("id", str, OpenApiParameter.PATH, pattern="^[0-9a-f]{32}$")],
        examples=[OpenApiExample("A lead export", value=EXPORT_EXAMPLE)],
    )
    def retrieve(self, request, pk=None):
        return Response(ExportSerializer(self._item(request, self._one(request, pk), bucket_storage("exports"))).data)

    @extend_schema(
        summary="Download an export file (CSV, streamed)",
        responses={(200, "text/csv"): OpenApiTypes.STR},
        parameters=[OpenApiParameter("id", str, OpenApiParameter.PATH, pattern="^[0-9a-f]{32}$")],
    )
    @action(detail=True, methods=["get"])
    def download(self, request, pk=None):
        export = self._one(request, pk)
        storage = bucket_storage("exports")
        if not storage.exists(export.path):  # deleted by retention meanwhile
            raise NotFound("Not found, or not visible to you.")
        return FileResponse(
            storage.open(export.path, "rb"),
            as_attachment=True,
            filename=export.name,
            content_type="text/csv; charset=utf-8",
        )


# (prefix, viewset, basename): registered with every other app's routes in dbr/api.py's one router.
ROUTES = [
    ("datasets", DatasetViewSet, "dataset"),
    ("leads", LeadViewSet, "lead"),
    ("suppressions", SuppressionViewSet, "suppression"),
    ("uploads", UploadViewSet, "upload"),
    ("exports", ExportViewSet, "export"),
]
