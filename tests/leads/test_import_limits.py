"""Upload limits (docs/security.md §2): an XLSX bomb is refused from its ZIP directory and declared
dimensions before any XML is parsed, and rows past the limits are refused while streaming."""

import os
import subprocess
import sys
import time
import zipfile
from urllib.parse import quote

import pytest
from django.db import connection

from leads.importing.reading import ImportFileError, open_table
from leads.models import Dataset
from tests.leads.import_files import write

WORKBOOK = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.'
        'spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml" '
        'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
    ),
    "_rels/.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
    ),
    "xl/workbook.xml": (
        '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/'
        'main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
        '<sheet name="Leads" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.'
        'openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>"
    ),
}
SHEET_START = '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'


def _row(n: int) -> str:
    cells = f'<c r="A{n}" t="inlineStr"><is><t>Ann</t></is></c><c r="B{n}"><v>7700900{n % 1000:03d}</v></c>'
    return f'<row r="{n}">{cells}</row>'


def _xlsx(path, *, rows: int, dimension: str | None = None, shared_mb: int = 0):
    """A workbook of `rows` rows (header first); `shared_mb` MB of repeated shared strings make it a bomb."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in WORKBOOK.items():
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(SHEET_START.encode())
            if dimension:
                sheet.write(f'<dimension ref="{dimension}"/>'.encode())
            sheet.write(b'<sheetData><row r="1"><c r="A1" t="inlineStr"><is><t>First Name</t></is></c>')
            sheet.write(b'<c r="B1" t="inlineStr"><is><t>Mobile</t></is></c></row>')
            chunk = []
            for n in range(2, rows + 1):
                chunk.append(_row(n))
                if len(chunk) == 10_000:
                    sheet.write("".join(chunk).encode())
                    chunk = []
            sheet.write(("".join(chunk) + "</sheetData></worksheet>").encode())
        with archive.open("xl/sharedStrings.xml", "w", force_zip64=True) as shared:
            shared.write(b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">')
            block = b"<si><t>" + b"A" * 1000 + b"</t></si>"
            for _ in range(shared_mb * 1024):
                shared.write(block)
            shared.write(b"</sst>")
    return path


@pytest.fixture(scope="module")
def bomb(tmp_path_factory):
    """A 1 MB file whose shared strings inflate to 400 MB (built once: it takes seconds)."""
    return _xlsx(tmp_path_factory.mktemp("bomb") / "bomb.xlsx", rows=3, shared_mb=400)


def test_a_normal_workbook_reads(tmp_path):
    table = open_table(_xlsx(tmp_path / "fine.xlsx", rows=50, dimension="A1:B50"))

    assert table.headers == ["First Name", "Mobile"] and table.count_rows() == 49


def test_it_refuses_a_shared_strings_bomb_before_parsing(bomb):
    path = bomb
    assert os.path.getsize(path) < 2 * 1024 * 1024

    with pytest.raises(ImportFileError, match="too big to import: its part xl/sharedStrings.xml unpacks"):
        open_table(path, filename="bomb.xlsx")


def test_it_refuses_declared_dimensions_past_the_limits(tmp_path, settings):
    with pytest.raises(ImportFileError, match="more than 2,000,000 rows"):
        open_table(_xlsx(tmp_path / "tall.xlsx", rows=10, dimension="A1:B3000000"))
    with pytest.raises(ImportFileError, match="more than 1,000 columns"):
        open_table(_xlsx(tmp_path / "wide.xlsx", rows=10, dimension="A1:ZZZ10"))


def test_it_counts_rows_and_columns_while_streaming_whatever_was_declared(tmp_path, settings):
    settings.DBR_IMPORT_MAX_ROWS = 100
    table = open_table(_xlsx(tmp_path / "liar.xlsx", rows=500, dimension="A1:B10"))
    with pytest.raises(ImportFileError, match="more than 100 rows"):
        table.count_rows()

    settings.DBR_IMPORT_MAX_COLUMNS = 3
    with pytest.raises(ImportFileError, match="more than 3 columns"):
        open_table(write(tmp_path, "a,b,c,d,e\n1,2,3,4,5\n"))


@pytest.mark.slow
def test_import_leads_refuses_a_bomb_in_one_line_within_seconds_and_300_mb(tenants, committed_db, bomb, tmp_path):
    path = bomb
    db = connection.settings_dict
    host = quote(db["HOST"] or "127.0.0.1", safe="")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "dbr.settings_test",
        "DATABASE_URL": f"postgres://{db['USER']}@{host}:{db['PORT'] or 5432}/{db['NAME']}",
    }
    # The process's own peak (VmHWM, which starts afresh at exec; rusage's maxrss would count the forked
    # copy of this test process), written when it exits.
    peak_file = tmp_path / "peak"
    report_peak = (
        "import atexit, os, runpy, sys\n"
        "def peak():\n"
        "    line = next(l for l in open('/proc/self/status') if l.startswith('VmHWM'))\n"
        "    open(os.environ['PEAK_FILE'], 'w').write(line.split()[1])\n"
        "atexit.register(peak)\n"
        "sys.argv = sys.argv[1:]\n"
        "runpy.run_path('manage.py', run_name='__main__')\n"
    )
    command = [sys.executable, "-c", report_peak, "manage.py", "import_leads", "--client", "alpha", "--dataset", "Bomb",
               str(path)]  # fmt: skip
    started = time.monotonic()
    env["PEAK_FILE"] = str(peak_file)
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    took = time.monotonic() - started

    assert done.returncode == 1
    assert done.stdout == "" and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "too big to import" in done.stderr
    assert took < 20
    assert int(peak_file.read_text()) < 300 * 1024  # KB
    connection.set_tenant(tenants["alpha"])
    assert not Dataset.objects.filter(name="Bomb").exists()


def test_the_web_request_leaves_counting_rows_to_the_worker(alpha, owner, client, django_capture_on_commit_callbacks):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from leads.models import Upload
    from leads.tasks import count_upload_rows

    client.force_login(owner)
    content = b"First Name,Mobile\n" + b"".join(b"Ann,077009%05d\n" % n for n in range(300))

    with django_capture_on_commit_callbacks(execute=False) as queued:
        client.post(
            "/datasets/import/",
            {"new_dataset_name": "Counted", "file": SimpleUploadedFile("l.csv", content)},
            HTTP_HOST="alpha.localhost",
        )
    upload = Upload.objects.get()

    assert upload.status == "mapping" and upload.rows_detected is None and len(queued) == 1
    count_upload_rows(str(upload.pk))
    upload.refresh_from_db()
    assert upload.rows_detected == 300
