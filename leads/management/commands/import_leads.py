import json
import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django_tenants.utils import schema_context

from clients.management.lookup import client_by_slug
from leads.importing.mapping import guess_mapping
from leads.importing.reading import ImportFileError
from leads.importing.receive import upload_receive
from leads.importing.run import lead_import
from leads.models import Dataset, Upload
from leads.services import dataset_create


class Command(BaseCommand):
    help = "Imports a CSV or XLSX file of leads into a client's dataset (created when the name is new)."

    def add_arguments(self, parser):
        parser.add_argument("--client", required=True, help="Client slug")
        parser.add_argument("--dataset", required=True, help="Dataset name; created when new")
        parser.add_argument("file", help="CSV or XLSX file")
        parser.add_argument("--mapping", help='JSON {"File header": "field"} or a path to a JSON file')

    def handle(self, *args, client, dataset, file, mapping, **options):
        target = client_by_slug(client)
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"No such file: {file}")
        explicit = _load_mapping(mapping) if mapping else None
        with schema_context(target.schema_name):
            self._import(dataset, path, explicit)

    def _import(self, name: str, path: Path, explicit: dict | None) -> None:
        # The file is judged first: a refused file creates no dataset.
        with path.open("rb") as handle:
            upload = upload_receive(fileobj=handle, filename=path.name, uploaded_by=None)
        if upload.status == Upload.Status.FAILED:
            raise CommandError(f"Import failed: {upload.errors['file']}")
        found = Dataset.objects.filter(name=name).first()
        target = found or dataset_create(name=name, source="import_leads")
        if not found:
            self.stdout.write(f"Created dataset {name!r} with a copy of the default campaign settings.")
        upload.dataset = target
        upload.save(update_fields=["dataset"])
        mapping = explicit or guess_mapping(upload.headers)
        if not explicit:
            self.stdout.write("Column mapping (guessed from the headers):")
            for header, field in mapping.items():
                self.stdout.write(f"  {header!r} -> {field}")
        try:
            summary = lead_import(upload=upload, dataset=target, mapping=mapping, on_progress=self._bar)
        except ImportFileError as exc:
            raise CommandError(f"Import failed: {exc}") from None
        self.stderr.write("")
        self._summary(summary, target)

    def _bar(self, done: int, total: int) -> None:
        width = 30
        filled = int(width * done / total) if total else width
        self.stderr.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done:,}/{total:,} rows", ending="")
        sys.stderr.flush()

    def _summary(self, summary, dataset: Dataset) -> None:
        dataset.refresh_from_db()
        self.stdout.write(
            self.style.SUCCESS(
                f"Imported {summary.rows:,} rows: {summary.created:,} created, {summary.merged:,} merged, "
                f"{summary.skipped:,} skipped, {summary.rejected:,} rejected."
            )
        )
        self.stdout.write(
            f"Among the created: {summary.flagged_duplicates:,} flagged as duplicates, "
            f"{summary.not_sms_capable:,} cannot receive SMS, {summary.suppressed:,} suppressed."
        )
        for kind in ("rejected", "skipped"):
            for item in summary.details[kind][:10]:
                self.stdout.write(f"  row {item['row']}: {kind} — {item['reason']}")
        if summary.rejected_file:
            self.stdout.write(f"Rejected rows with reasons: exports/{summary.rejected_file}")
        self.stdout.write(f"Dataset {dataset.name!r} now has {dataset.total_leads:,} leads.")


def _load_mapping(raw: str) -> dict:
    text = Path(raw).read_text() if Path(raw).is_file() else raw
    try:
        mapping = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CommandError(f"--mapping is neither JSON nor a path to a JSON file: {exc}") from None
    if not isinstance(mapping, dict) or not all(isinstance(v, str) for v in mapping.values()):
        raise CommandError('--mapping must be a JSON object like {"Mobile": "phone_number"}')
    return mapping
