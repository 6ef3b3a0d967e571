import csv
import datetime
import io
import os
import pickle
import tempfile
import zipfile

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads.importing.mapping import FIELDS, HEADER_SYNONYMS, guess_mapping, validate_mapping
from leads.importing.reading import ImportFileError, open_table
from leads.importing.rows import UNPARSED_DATE_KEY, RowValidator, iter_results, normalise_postcode, parse_date

HEADER = ["First Name", "Surname", "Mobile", "Email", "Postcode", "Enquiry Date", "Notes"]
MAPPING = {
    "First Name": "first_name",
    "Surname": "last_name",
    "Mobile": "phone_number",
    "Email": "email",
    "Postcode": "postcode",
    "Enquiry Date": "inquiry_date",
    "Notes": "notes",
}


def write(tmp_path, content: bytes | str, name: str = "leads.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode(encoding))
    return path


def csv_text(rows: list[list[str]], delimiter: str = ",") -> str:
    out = io.StringIO()
    csv.writer(out, delimiter=delimiter).writerows(rows)
    return out.getvalue()


def validator(headers=HEADER, mapping=None, required=("first_name", "phone_number"), **options) -> RowValidator:
    return RowValidator(headers=headers, mapping=mapping or MAPPING, required_fields=list(required), **options)


def rows_of(table) -> list[list[str]]:
    return list(table.rows())


# --- reading files -----------------------------------------------------------------------------------


def test_it_reads_a_plain_utf8_csv(tmp_path):
    path = write(tmp_path, csv_text([HEADER, ["Bob", "Smith", "07911 123456", "", "", "", ""]]))

    table = open_table(path)

    assert (table.kind, table.encoding, table.delimiter) == ("csv", "utf-8", ",")
    assert table.headers == HEADER
    assert rows_of(table) == [["Bob", "Smith", "07911 123456", "", "", "", ""]]
    assert table.count_rows() == 1


def test_it_reads_utf8_with_a_bom_without_keeping_the_bom_in_the_header(tmp_path):
    path = write(tmp_path, csv_text([HEADER, ["Zoë", "Ŵyn", "07911123456", "", "", "", ""]]), encoding="utf-8-sig")

    table = open_table(path)

    assert table.encoding == "utf-8-sig"
    assert table.headers[0] == "First Name"
    assert rows_of(table)[0][:2] == ["Zoë", "Ŵyn"]


def test_it_reads_cp1252_with_accents_and_pound_signs(tmp_path):
    text = csv_text([["First Name", "Mobile", "Notes"], ["Renée", "07911123456", "Quoted £4,500 — café roof"]])
    path = write(tmp_path, text, encoding="cp1252")

    table = open_table(path)

    assert table.encoding == "cp1252"
    assert rows_of(table) == [["Renée", "07911123456", "Quoted £4,500 — café roof"]]


def test_it_keeps_a_stray_cp1252_byte_in_an_otherwise_utf8_file(tmp_path):
    # The encoding is decided on the first megabyte; a £ typed in cp1252 further down must not fail.
    rows = [["First Name", "Mobile", "Notes"]] + [["Ann", f"0791112{i:04d}", "ok"] for i in range(60000)]
    data = csv_text(rows).encode("utf-8")
    assert len(data) > 1024 * 1024
    data += "Siân,07911123456,£100\r\n".encode("cp1252")
    path = write(tmp_path, data)

    table = open_table(path)

    assert table.encoding == "utf-8"
    assert list(table.rows())[-1] == ["Siân", "07911123456", "£100"]


def test_it_reads_mostly_utf8_with_one_cp1252_byte_as_utf8(tmp_path):
    data = "Name,Mobile,Notes\r\nSiân,07911123456,Zoë\r\nGwŷn,07911123457,".encode() + "£5\r\n".encode("cp1252")

    table = open_table(write(tmp_path, data))

    assert table.encoding == "utf-8"
    assert rows_of(table) == [["Siân", "07911123456", "Zoë"], ["Gwŷn", "07911123457", "£5"]]


@pytest.mark.parametrize("delimiter", [";", "\t", "|"])
def test_it_detects_the_delimiter(tmp_path, delimiter):
    rows = [HEADER, ["Bob", "Smith", "07911 123456", "bob@example.com", "LS6 2AB", "03/04/2024", "a, b"]]
    path = write(tmp_path, csv_text(rows, delimiter=delimiter))

    table = open_table(path)

    assert table.delimiter == delimiter
    assert table.headers == HEADER
    assert rows_of(table) == rows[1:]


def test_it_honours_an_excel_sep_line(tmp_path):
    table = open_table(write(tmp_path, "sep=;\r\nName;Mobile\r\nBob;07911123456\r\n"))

    assert (table.delimiter, table.headers) == (";", ["Name", "Mobile"])
    assert list(table.numbered_rows()) == [(2, ["Bob", "07911123456"])]


def test_it_takes_the_header_line_over_commas_inside_data(tmp_path):
    text = "Name;Mobile;Notes\nBob;07911123456;likes, commas, lots, of, them\nAl;07911123457;more, commas, here\n"
    path = write(tmp_path, text)

    assert open_table(path).delimiter == ";"


def test_it_reads_quoted_fields_with_commas_quotes_and_newlines(tmp_path):
    notes = 'Called back, wants a quote\nfor a 4kW "south" roof'
    path = write(tmp_path, csv_text([HEADER, ["Bob", "Smith", "07911123456", "", "", "", notes], ["Al"] + [""] * 6]))

    table = open_table(path)

    assert rows_of(table)[0][6] == notes
    assert [number for number, _ in table.numbered_rows()] == [2, 3]


def test_it_reads_excel_unicode_text_exports(tmp_path):
    text = "First Name\tMobile\r\nSiân\t07911123456\r\n"
    path = write(tmp_path, text.encode("utf-16"))

    table = open_table(path)

    assert (table.encoding, table.delimiter) == ("utf-16", "\t")
    assert rows_of(table) == [["Siân", "07911123456"]]


def test_it_reads_utf16_full_of_chinese_names(tmp_path):
    text = "名\t手机\r\n" + "".join(f"王小明{i}\t0791112{i:04d}\r\n" for i in range(50))
    path = write(tmp_path, text.encode("utf-16"))

    assert open_table(path).count_rows() == 50


def test_it_reads_xlsx_by_content_even_when_named_csv(tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["First Name", "Mobile", "Enquiry Date", "Score"])
    sheet.append(["Bob", 447911123456.0, datetime.date(2024, 4, 3), 4.5])
    sheet.append([None, None, None, None])
    sheet.append(["Al", 7911123457, 45385, True])
    sheet.append(["Cy", "07911 123458", datetime.datetime(2024, 4, 3, 10, 30), None])
    path = tmp_path / "leads.csv"
    workbook.save(path)

    table = open_table(path, filename="leads.csv")

    assert (table.kind, table.encoding, table.delimiter) == ("xlsx", None, None)
    assert table.headers == ["First Name", "Mobile", "Enquiry Date", "Score"]
    assert list(table.numbered_rows()) == [
        (2, ["Bob", "447911123456", "2024-04-03", "4.5"]),
        (4, ["Al", "7911123457", "45385", "TRUE"]),
        (5, ["Cy", "07911 123458", "2024-04-03 10:30:00"]),  # as read: openpyxl stops at the last cell
    ]
    assert table.count_rows() == 3
    mapping = guess_mapping(table.headers)
    results = list(iter_results(table, validator(table.headers, mapping)))
    assert [r.values["phone_number"] for r in results] == ["+447911123456", "+447911123457", "+447911123458"]
    assert {r.values["inquiry_date"] for r in results} == {datetime.date(2024, 4, 3)}


def test_it_refuses_an_empty_file(tmp_path):
    for content in [b"", b"   \r\n\r\n", b"\xef\xbb\xbf"]:
        with pytest.raises(ImportFileError, match="^The file is empty.$"):
            open_table(write(tmp_path, content))


def test_it_refuses_a_file_of_empty_rows(tmp_path):
    with pytest.raises(ImportFileError, match="^The file is empty.$"):
        open_table(write(tmp_path, ",,,\r\n , ,\r\n"))


def test_it_refuses_a_header_without_leads(tmp_path):
    for content in ["First Name,Mobile\r\n", "First Name,Mobile\r\n\r\n,\r\n"]:
        with pytest.raises(ImportFileError, match="^The file has a header row but no leads.$"):
            open_table(write(tmp_path, content))


def test_it_refuses_an_empty_xlsx(tmp_path):
    path = tmp_path / "empty.xlsx"
    openpyxl.Workbook().save(path)

    with pytest.raises(ImportFileError, match="^The file is empty.$"):
        open_table(path)


@pytest.mark.parametrize(
    "content, looks_like",
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "a PDF document"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG image"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "a JPEG image"),
        (b"GIF89a\x01\x00", "a GIF image"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "an old Excel .xls file"),
        (b"<!DOCTYPE html><html><table><tr><td>Bob</td></tr></table>", "a web page (HTML)"),
    ],
)
def test_it_names_what_a_file_that_is_not_a_spreadsheet_looks_like(tmp_path, content, looks_like):
    with pytest.raises(ImportFileError) as caught:
        open_table(write(tmp_path, content, name="leads.csv"), filename="leads.csv")

    assert f"'leads.csv' looks like {looks_like}" in str(caught.value)
    assert "Export your leads as CSV or Excel (.xlsx) and upload that." in str(caught.value)


def test_it_uses_the_brief_message_for_a_pdf_without_a_filename(tmp_path):
    with pytest.raises(ImportFileError) as caught:
        open_table(write(tmp_path, b"%PDF-1.4\n"))

    assert str(caught.value) == (
        "This looks like a PDF document, not a spreadsheet. Export your leads as CSV or Excel (.xlsx) and upload that."
    )


def test_it_refuses_zip_archives_that_are_not_workbooks(tmp_path):
    path = tmp_path / "leads.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")

    with pytest.raises(ImportFileError, match="looks like a Word document"):
        open_table(path)

    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("leads.csv", "First Name,Mobile\nBob,07911123456\n")

    with pytest.raises(ImportFileError, match="looks like a ZIP archive"):
        open_table(path)


def test_it_refuses_binary_garbage(tmp_path):
    garbage = bytes((i * 7919 + 13) % 256 for i in range(20000))

    with pytest.raises(ImportFileError, match="binary data"):
        open_table(write(tmp_path, garbage))


def test_it_refuses_control_character_garbage_without_nul_bytes(tmp_path):
    garbage = bytes((i * 31 + 1) % 32 or 1 for i in range(5000))

    with pytest.raises(ImportFileError, match="binary data"):
        open_table(write(tmp_path, garbage))


def test_it_makes_duplicate_and_empty_header_names_unique(tmp_path):
    path = write(tmp_path, "Phone,Name,Phone,,Phone (2),Phone,,\r\n07911123456,Bob,x,y,z,w,,\r\n")

    table = open_table(path)

    assert table.headers == ["Phone", "Name", "Phone (2)", "Column 4", "Phone (2) (2)", "Phone (3)"]


def test_it_reads_a_field_of_ten_thousand_characters(tmp_path):
    notes = "sunny " * 2000 + "end"
    path = write(tmp_path, csv_text([HEADER, ["Bob", "", "07911123456", "", "", "", notes]]))

    [result] = iter_results(open_table(path), validator())

    assert result.values["notes"] == notes


def test_it_keeps_chinese_welsh_and_emoji_names(tmp_path):
    rows = [["王", "小明", "07911123456"], ["Dafydd", "Ŵyn ap Ŷr", "07911123457"], ["Bob 😀", "🌞", "07911123458"]]
    path = write(tmp_path, csv_text([["First Name", "Surname", "Mobile"], *rows]))
    table = open_table(path)

    results = list(iter_results(table, validator(table.headers, guess_mapping(table.headers))))

    assert [(r.values["first_name"], r.values["last_name"]) for r in results] == [tuple(row[:2]) for row in rows]


def test_it_skips_empty_rows_but_keeps_spreadsheet_row_numbers(tmp_path):
    text = "\r\nFirst Name,Mobile\r\nBob,07911123456\r\n,\r\n   ,  \r\nAl,07911123457\r\n\r\n"
    table = open_table(write(tmp_path, text))

    assert list(table.numbered_rows()) == [(3, ["Bob", "07911123456"]), (6, ["Al", "07911123457"])]
    assert table.count_rows() == 2
    assert rows_of(table) == rows_of(table)  # can be read again


def test_it_reports_a_quote_that_swallows_the_file_as_a_file_error(tmp_path):
    text = 'First Name,Mobile,Notes\r\nBob,07911123456,"never closed\r\n' + "Al,07911123457,x\r\n" * 10
    limit = csv.field_size_limit(50)  # stands in for the 10 MB limit
    try:
        with pytest.raises(ImportFileError, match=r"^Row 2 of the file could not be read .* never closed"):
            open_table(write(tmp_path, text)).count_rows()
    finally:
        csv.field_size_limit(limit)


# --- mapping -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header, target",
    [
        ("First Name", "first_name"),
        ("Forename", "first_name"),
        ("first_name", "first_name"),
        ("FirstName", "first_name"),
        ("Given name", "first_name"),
        ("Last Name", "last_name"),
        ("SURNAME", "last_name"),
        ("last_name", "last_name"),
        ("Family name", "last_name"),
        ("Mobile", "phone_number"),
        ("Phone", "phone_number"),
        ("Tel", "phone_number"),
        ("Telephone", "phone_number"),
        ("Phone Number", "phone_number"),
        ("Mobile Number", "phone_number"),
        ("Contact Number", "phone_number"),
        ("Mobile Phone", "phone_number"),
        ("Tel. No.", "phone_number"),
        ("Phone No", "phone_number"),
        ("Telephone number", "phone_number"),
        ("Cell", "phone_number"),
        ("Email", "email"),
        ("Email Address", "email"),
        ("E-mail", "email"),
        ("Postcode", "postcode"),
        ("Post Code", "postcode"),
        ("Zip", "postcode"),
        ("Zip code", "postcode"),
        ("Postal code", "postcode"),
        ("Enquiry Date", "inquiry_date"),
        ("Inquiry Date", "inquiry_date"),
        ("Date of Enquiry", "inquiry_date"),
        ("Date", "inquiry_date"),
        ("Notes", "notes"),
        ("Comments", "notes"),
        ("comment", "notes"),
        ("  Contact Phone ", "phone_number"),
        ("Customer Email", "email"),
    ],
)
def test_it_recognises_header_synonyms(header, target):
    assert guess_mapping([header]) == {header: target}


def test_it_leaves_unknown_headers_unmapped_and_maps_each_field_once():
    headers = ["Name", "Mobile", "Phone", "Roof Type", "Email", "E-mail"]

    assert guess_mapping(headers) == {"Mobile": "phone_number", "Email": "email"}


def test_it_knows_only_lead_fields():
    assert set(HEADER_SYNONYMS.values()) == set(FIELDS)


def test_it_finds_nothing_wrong_with_a_good_mapping():
    assert validate_mapping(MAPPING, HEADER) == []


def test_it_reports_a_mapped_column_that_is_not_in_the_file():
    problems = validate_mapping({"Mobile": "phone_number", "Tel": "email"}, ["Mobile", "Name"])

    assert problems == ["The mapping names a column 'Tel' that is not in the file (columns: 'Mobile', 'Name')"]


def test_it_reports_unknown_fields_and_fields_mapped_twice():
    problems = validate_mapping({"A": "phone_number", "B": "phone_number", "C": "shoe_size"}, ["A", "B", "C"])

    assert problems[0].startswith("The mapping sends column 'C' to 'shoe_size', which is not a lead field")
    assert problems[1] == "2 columns are mapped to phone_number: 'A', 'B'. Map only one."


def test_it_reports_that_no_column_is_the_phone_number():
    assert validate_mapping({"Name": "first_name"}, ["Name", "Roof"]) == [
        "No column could be the phone number: map one of 'Name', 'Roof'"
    ]


def test_it_treats_an_empty_target_as_not_mapped():
    assert validate_mapping({"Mobile": "phone_number", "Roof": ""}, ["Mobile", "Roof"]) == []


def test_it_refuses_a_validator_for_an_invalid_mapping():
    with pytest.raises(ImportFileError, match="No column could be the phone number"):
        RowValidator(headers=["Name"], mapping={}, required_fields=[])


# --- judging rows ------------------------------------------------------------------------------------


def test_it_turns_a_good_row_into_lead_fields():
    row = ["  Bob ", "Smith", "+44 (0)7911-123456", "Bob@Example.COM", "ls6  2ab", "03/04/2024", "Wants a quote"]

    result = validator().validate(2, row)

    assert result.error is None
    assert result.raw is row
    assert result.values == {
        "first_name": "Bob",
        "last_name": "Smith",
        "phone_number": "+447911123456",
        "email": "bob@example.com",
        "postcode": "LS6 2AB",
        "inquiry_date": datetime.date(2024, 4, 3),
        "notes": "Wants a quote",
        "sms_capable": True,
        "sms_capable_reason": "",
        "custom_fields": {},
    }


def test_it_flags_a_landline_but_keeps_the_lead():
    result = validator().validate(2, ["Bob", "", "020 7946 0123", "", "", "", ""])

    assert result.values["phone_number"] == "+442079460123"
    assert (result.values["sms_capable"], result.values["sms_capable_reason"]) == (
        False,
        "Landline (fixed line) — cannot receive SMS",
    )


def test_it_passes_the_dataset_phone_settings_on():
    row = ["Bob", "", "+33 6 12 34 56 78", "", "", "", ""]

    assert validator().validate(2, row).error == "International number (+33) not allowed by this dataset's settings"
    assert validator(allow_international=True).validate(2, row).values["phone_number"] == "+33612345678"
    assert validator(auto_normalize_uk=False).validate(2, ["Bob", "", "7911123456"]).error is not None
    assert validator(allow_fiction=True).validate(2, ["Bob", "", "07700 900123"]).error is None


def test_it_rejects_a_row_without_a_phone_number_even_when_phone_is_not_required():
    assert validator(required=()).validate(2, ["Bob", "", "", "", "", "", ""]).error == "No phone number"
    assert validator(required=()).validate(2, ["Bob", "", "N/A", "", "", "", ""]).error == "No phone number"


def test_it_lists_every_missing_required_field():
    result = validator(required=["first_name", "last_name", "phone_number", "email"]).validate(
        7, ["", "-", "", "null", "", "", ""]
    )

    assert result.values is None
    assert result.error == "Missing required fields: first name, last name, phone number, email"


def test_it_names_a_single_missing_field():
    result = validator(required=["email", "phone_number"]).validate(2, ["Bob", "", "07911123456", " ", "", "", ""])

    assert result.error == "Missing required field: email"


def test_it_stores_an_empty_first_name_when_it_is_not_required():
    result = validator(required=["phone_number"]).validate(2, ["", "", "07911123456", "", "", "", ""])

    assert result.values["first_name"] == ""
    assert result.values["last_name"] is None


def test_it_rejects_an_invalid_email_and_reports_every_problem():
    result = validator().validate(2, ["Bob", "", "07911 12345", "bob@", "", "", ""])

    assert result.error == "Not a valid UK phone number: '07911 12345' (too short); Invalid email address 'bob@'"


def test_it_treats_placeholder_cells_as_empty():
    for empty in ["", "  ", "N/A", "n/a", "-", "null", "NULL", "none", "None"]:
        result = validator(required=["phone_number"]).validate(2, [empty, empty, "07911123456", empty, empty, empty])
        assert result.values["first_name"] == ""
        assert result.values["email"] is None
        assert result.values["custom_fields"] == {}


def test_it_pads_short_rows_and_rejects_long_ones():
    v = validator()

    assert v.validate(2, ["Bob", "", "07911123456"]).values["phone_number"] == "+447911123456"
    assert v.validate(3, ["Bob", "", "07911123456", "", "", "", "", "", ""]).error is None
    assert (
        v.validate(4, ["Bob", "", "07911123456", "", "", "", "", "", "spill"]).error
        == "Row has 9 cells but the header has 7 columns"
    )


def test_it_keeps_unmapped_columns_as_custom_fields():
    headers = ["Name", "Mobile", "Roof Type", "Source", "Notes"]
    v = validator(headers, {"Name": "first_name", "Mobile": "phone_number"})

    result = v.validate(2, ["Bob", "07911123456", " slate ", "", "Met at show"])

    assert result.values["custom_fields"] == {"Roof Type": "slate", "Notes": "Met at show"}


def test_it_keeps_an_unparseable_date_unless_the_date_is_required():
    row = ["Bob", "", "07911123456", "", "", "next Tuesday", ""]

    optional = validator().validate(2, row)
    required = validator(required=["phone_number", "inquiry_date"]).validate(2, row)

    assert optional.values["inquiry_date"] is None
    assert optional.values["custom_fields"] == {UNPARSED_DATE_KEY: "next Tuesday"}
    assert required.error.startswith("Unrecognised inquiry date 'next Tuesday'")


def test_it_keeps_an_unrecognised_postcode_as_typed():
    result = validator().validate(2, ["Bob", "", "07911123456", "", "  not known ", "", ""])

    assert result.values["postcode"] == "not known"


def test_it_can_be_pickled_for_worker_processes():
    v = validator(allow_fiction=True)
    copy = pickle.loads(pickle.dumps(v))
    row = ["Bob", "", "07700 900123", "", "sw1a1aa", "", ""]

    assert copy.validate(2, row) == v.validate(2, row)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("03/04/2024", datetime.date(2024, 4, 3)),
        ("3/4/24", datetime.date(2024, 4, 3)),
        ("03-04-2024", datetime.date(2024, 4, 3)),
        ("03.04.2024", datetime.date(2024, 4, 3)),
        ("03/04/2024 14:30", datetime.date(2024, 4, 3)),
        ("2024-04-03", datetime.date(2024, 4, 3)),
        ("2024-04-03T10:00:00", datetime.date(2024, 4, 3)),
        ("2024-04-03 10:00", datetime.date(2024, 4, 3)),
        ("2024-04-03T10:00:00+01:00", datetime.date(2024, 4, 3)),
        ("45385", datetime.date(2024, 4, 3)),
        ("45385.75", datetime.date(2024, 4, 3)),
        ("3 April 2024", datetime.date(2024, 4, 3)),
        ("3rd Apr 2024", datetime.date(2024, 4, 3)),
        ("03-Apr-24", datetime.date(2024, 4, 3)),
        ("Wednesday 3 April 2024", datetime.date(2024, 4, 3)),
        ("April 3, 2024", datetime.date(2024, 4, 3)),
        ("April 2024", datetime.date(2024, 4, 1)),
        ("Sept 2023", datetime.date(2023, 9, 1)),
        ("04/23/2024", datetime.date(2024, 4, 23)),  # day-first impossible: month-first
        ("12/11/2024", datetime.date(2024, 11, 12)),  # both possible: day-first
        ("1/2/99", datetime.date(1999, 2, 1)),
        ("31/02/2024", None),
        ("13/13/2024", None),
        ("next Tuesday", None),
        ("12345", None),
        ("April", None),
        ("", None),
    ],
)
def test_it_parses_dates_day_first(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text, expected",
    [
        ("sw1a1aa", "SW1A 1AA"),
        ("ls6  2ab", "LS6 2AB"),
        ("M1 1AE", "M1 1AE"),
        ("b338th", "B33 8TH"),
        ("cr26xh", "CR2 6XH"),
        ("dn551pt", "DN55 1PT"),
        ("W1A 0AX", "W1A 0AX"),
        ("ec1a1bb", "EC1A 1BB"),
        ("je2 3ab", "JE2 3AB"),
        ("gir0aa", "GIR 0AA"),
        ("bfpo 801", "BFPO 801"),
        (" Leeds ", "Leeds"),
        ("12345", "12345"),
    ],
)
def test_it_normalises_uk_postcodes(text, expected):
    assert normalise_postcode(text) == expected


# --- running a whole table ---------------------------------------------------------------------------


def test_it_gives_the_same_results_in_order_with_worker_processes(tmp_path):
    rows = [HEADER] + [
        [f"Lead{i}", "", f"0791{i:07d}" if i % 13 else "bad", "", "sw1a1aa", "03/04/2024", ""] for i in range(5000)
    ]
    table = open_table(write(tmp_path, csv_text(rows)))

    single = list(iter_results(table, validator()))
    pooled = list(iter_results(table, validator(), workers=2, chunk_size=300))

    assert pooled == single
    assert [r.row_number for r in single] == list(range(2, 5002))
    assert sum(1 for r in single if r.error) == len([i for i in range(5000) if i % 13 == 0])


CELLS = st.one_of(
    st.sampled_from(
        ["07911 123456", "+44 (0)7911-123456", "447911123456", "4.47911123456E+11", "020 7946 0123", "07911 12345"]
    ),
    st.sampled_from(["bob@example.com", "bob@", "N/A", "-", "", "  ", "sw1a1aa", "03/04/2024", "31/02/2024"]),
    st.text(alphabet=st.sampled_from(list("ab ,\"'\n;王ŵ😀£é0123456789+")), max_size=12),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.lists(CELLS, min_size=0, max_size=9), min_size=1, max_size=40))
def test_it_judges_every_data_row_exactly_once(rows):
    # given a file whose rows are any mix of good, bad, short and long cells
    data = csv_text([HEADER, *rows])
    written = [number for number, row in enumerate(rows, 2) if any(cell.strip() for cell in row)]
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "leads.csv")
        with open(path, "w", encoding="utf-8", newline="") as handle:
            handle.write(data)
        try:
            table = open_table(path)
        except ImportFileError as exc:
            assert not written
            assert str(exc) == "The file has a header row but no leads."
            return

        # when
        results = list(iter_results(table, validator()))
        pooled = list(iter_results(table, validator(), workers=2, chunk_size=7))

    # then
    assert [r.row_number for r in results] == written
    assert all((r.values is None) != (r.error is None) for r in results)
    assert pooled == results
