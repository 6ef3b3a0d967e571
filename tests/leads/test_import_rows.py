"""Judging rows: a Lead's fields or the reason to reject, and whole tables on worker processes."""

import datetime
import os
import pickle
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from leads.importing.reading import ImportFileError, open_table
from leads.importing.rows import UNPARSED_DATE_KEY, iter_results, normalise_postcode, parse_date
from tests.leads.import_files import HEADER, csv_text, validator, write


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


def test_it_fails_instead_of_waiting_forever_when_a_worker_process_dies(tmp_path):
    from concurrent.futures.process import BrokenProcessPool

    rows = [HEADER] + [[f"Lead{i}", "", f"0791{i:07d}", "", "", "", ""] for i in range(1000)]
    table = open_table(write(tmp_path, csv_text(rows)))
    dying = validator()
    judge = dying.validate

    def validate(number, cells):
        if number == 500:
            os._exit(1)  # the parser process is killed mid-import
        return judge(number, cells)

    dying.validate = validate

    with pytest.raises(BrokenProcessPool):
        list(iter_results(table, dying, workers=2, chunk_size=100))


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
