"""Which column fills which lead field: header synonyms, the guess and its checks."""

import pytest

from leads.importing.mapping import FIELDS, HEADER_SYNONYMS, guess_mapping, validate_mapping
from leads.importing.reading import ImportFileError
from leads.importing.rows import RowValidator
from tests.leads.import_files import HEADER, MAPPING


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
