"""Reading a lead file: what it is (CSV in any encoding and delimiter, XLSX), its header and rows, refusals."""

import csv
import datetime
import zipfile

import openpyxl
import pytest

from leads.importing.mapping import guess_mapping
from leads.importing.reading import ImportFileError, open_table
from leads.importing.rows import iter_results
from tests.leads.import_files import HEADER, csv_text, rows_of, validator, write


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
