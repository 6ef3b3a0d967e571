"""Message text (campaigns.content): merge fields, GSM-7 normalisation, segments, PECR checks."""

from datetime import date, datetime
from types import SimpleNamespace

import pytest

from campaigns.content import (
    MERGE_FIELDS,
    OPT_OUT_LINE,
    Segments,
    cadence_problems,
    has_opt_out,
    merge_fields_in,
    names_sender,
    render,
    segments,
    to_gsm7,
    unknown_merge_fields,
    with_opt_out,
)
from leads.models import Lead

M1 = "Hi {first_name}, it's {agent_name} at {company_name}. Still interested? Reply STOP to opt out."


def _lead(**values) -> SimpleNamespace:
    fields = {
        "first_name": "Sarah",
        "last_name": "Jones",
        "postcode": "BS1 4DJ",
        "inquiry_date": date(2024, 4, 17),
        "custom_fields": {},
    }
    return SimpleNamespace(**fields | values)


# Merge fields.


def test_it_renders_every_merge_field():
    template = " | ".join(f"{{{name}}}" for name in MERGE_FIELDS)

    text = render(
        template, lead=_lead(), company_name="Alpha Solar Ltd", agent_name="Tom", booking_link="https://cal.com/x"
    )

    assert text == "Sarah | Jones | Alpha Solar Ltd | Tom | https://cal.com/x | April 2024 | BS1 4DJ"


def test_it_falls_back_when_lead_values_are_missing():
    lead = _lead(first_name="  ", last_name=None, postcode=None, inquiry_date=None)

    text = render(
        "Hi {first_name} {last_name}, {agent_name} here. You asked in {enquiry_month}.{postcode}{booking_link}",
        lead=lead,
        company_name="Alpha Solar Ltd",
        agent_name="",
    )

    assert text == "Hi there, Sophie here. You asked in the past."


@pytest.mark.parametrize(
    "inquiry_date",
    [date(2024, 4, 17), datetime(2024, 4, 30, 23, 0), "2024-04-01"],
)
def test_it_names_the_enquiry_month(inquiry_date):
    assert render("{enquiry_month}", lead=_lead(inquiry_date=inquiry_date), company_name="A") == "April 2024"


def test_it_falls_back_for_an_unreadable_enquiry_date():
    assert render("{enquiry_month}", lead=_lead(inquiry_date="spring"), company_name="A") == "the past"


def test_it_drops_the_space_before_an_empty_field():
    lead = _lead(last_name="", postcode=None)

    assert render("Hi {first_name} {last_name} ({postcode}) {booking_link}", lead=lead, company_name="A") == (
        "Hi Sarah ()"
    )
    assert render("{last_name} {first_name} {last_name}.", lead=lead, company_name="A") == " Sarah."


def test_it_renders_custom_fields_from_the_imported_columns():
    lead = _lead(custom_fields={"Roof": "south-facing", "System size": 4, "Empty": None})

    text = render(
        "{custom.Roof}/{custom.roof}/{custom.system  size}/{custom.Empty}/{custom.Missing}/",
        lead=lead,
        company_name="A",
    )

    assert text == "south-facing/south-facing/4///"


def test_it_renders_an_unsaved_lead_model():
    lead = Lead(first_name="Dave", postcode="LS1 1AA", custom_fields={"Roof": "flat"})

    assert render("{first_name} {postcode} {custom.Roof} {enquiry_month}", lead=lead, company_name="A") == (
        "Dave LS1 1AA flat the past"
    )


def test_it_leaves_unknown_fields_and_literal_braces_as_typed():
    text = render("Hi {firstname} {} {:-)} {first_name}", lead=_lead(), company_name="A")

    assert text == "Hi {firstname} {} {:-)} Sarah"


def test_it_accepts_spaces_and_double_braces_around_a_field():
    assert render("{ first_name }/{{first_name}}/{{ company_name }}", lead=_lead(), company_name="A") == "Sarah/Sarah/A"


def test_it_lists_merge_fields_in_order_of_first_use():
    template = "{first_name} {custom.Roof} {first_name} {Postcode} {} {company_name}"

    assert merge_fields_in(template) == ["first_name", "custom.Roof", "Postcode", "company_name"]
    assert unknown_merge_fields(template) == ["Postcode"]


def test_it_counts_anything_with_letters_in_braces_as_a_field():
    template = "{first name} {custom.} {custom.Roof type} {:)} {123}"

    assert merge_fields_in(template) == ["first name", "custom.", "custom.Roof type"]
    assert unknown_merge_fields(template) == ["first name", "custom."]


def test_it_normalises_the_rendered_text_to_gsm7():
    lead = _lead(first_name="Sarah\u2019s", custom_fields={"Note": "roof \u2013 south"})

    assert (
        render("\u201c{first_name}\u201d {custom.Note}\u2026", lead=lead, company_name="A")
        == '"Sarah\'s" roof - south...'
    )


# GSM-7 normalisation.


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        ("it\u2019s \u2018fine\u2019 \u201aok\u201b", "it's 'fine' 'ok'"),
        ("\u201chello\u201d \u201elow\u201f \u00abfr\u00bb", '"hello" "low" "fr"'),
        ("a\u2013b\u2014c\u2212d\u2011e", "a-b-c-d-e"),
        ("wait\u2026", "wait..."),
        ("a\u00a0b\u2009c\u202fd\u2007e", "a b c d e"),
        ("don\u00b4t don`t don\u02bct", "don't don't don't"),
        ("zero\u200bwidth\u2060 \ufeffbom\u200d\u200c", "zerowidth bom"),
        ("cafe\u0301", "caf\u00e9"),
    ],
)
def test_it_replaces_look_alikes_with_gsm7(typed, sent):
    assert to_gsm7(typed) == sent
    assert segments(to_gsm7(typed)).encoding == "GSM-7"


def test_it_leaves_real_non_gsm_characters_alone():
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"

    assert to_gsm7("Thanks \U0001f642 \u4f60\u597d") == "Thanks \U0001f642 \u4f60\u597d"
    assert to_gsm7(f"{family}!") == f"{family}!"
    assert to_gsm7("Siobh\u00e1n") == "Siobh\u00e1n"


def test_it_keeps_a_smart_quoted_160_character_message_in_one_segment():
    text = "It\u2019s Sophie at Alpha Solar. " + "x" * 129 + " ok"
    assert len(text) == 160
    assert segments(text) == Segments("UCS-2", 160, 3)

    assert segments(to_gsm7(text)) == Segments("GSM-7", 160, 1)


# Segments.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", Segments("GSM-7", 0, 0)),
        ("a" * 160, Segments("GSM-7", 160, 1)),
        ("a" * 161, Segments("GSM-7", 161, 2)),
        ("a" * 306, Segments("GSM-7", 306, 2)),
        ("a" * 307, Segments("GSM-7", 307, 3)),
        ("\u0142" * 70, Segments("UCS-2", 70, 1)),
        ("\u0142" * 71, Segments("UCS-2", 71, 2)),
        ("\u0142" * 134, Segments("UCS-2", 134, 2)),
        ("\u0142" * 135, Segments("UCS-2", 135, 3)),
    ],
)
def test_it_splits_at_the_multipart_boundaries(text, expected):
    assert segments(text) == expected


def test_it_counts_extended_characters_twice():
    assert segments("^{}\\[~]|\u20ac") == Segments("GSM-7", 18, 1)
    assert segments("a" * 79 + "\u20ac" * 40) == Segments("GSM-7", 159, 1)
    assert segments("a" * 80 + "\u20ac" * 40) == Segments("GSM-7", 160, 1)
    assert segments("a" * 81 + "\u20ac" * 40) == Segments("GSM-7", 161, 2)


def test_it_never_splits_an_extended_character_across_parts():
    # 306 septets would fit two parts, but the euro sign cannot straddle the first boundary.
    assert segments("a" * 152 + "\u20ac" + "a" * 152) == Segments("GSM-7", 306, 3)


def test_it_counts_emoji_as_two_utf16_units():
    assert segments("Hi \U0001f600") == Segments("UCS-2", 5, 1)
    assert segments("a" * 68 + "\U0001f600") == Segments("UCS-2", 70, 1)
    assert segments("a" * 69 + "\U0001f600") == Segments("UCS-2", 71, 2)
    assert segments("\u0142" * 66 + "\U0001f600" + "\u0142" * 66) == Segments("UCS-2", 134, 3)


def test_it_counts_gsm7_accented_letters_as_gsm7():
    assert segments("\u00e9\u00e8\u00e0\u00fc\u00c7\u00a3\u20ac").encoding == "GSM-7"
    assert segments("\u00e1").encoding == "UCS-2"  # á has no GSM-7 code


# Opt-out, sender, auto-append.


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Reply STOP to opt out.", True),
        ("reply stop to opt out", True),
        ("Text Stop.", True),
        ("Reply 'STOP' to opt out", True),
        ("STOP", True),
        ("Reply S\u200bTOP to opt out", True),
        ("We stopped by your street", False),
        ("Non-stop savings", False),
        ("Nonstop", False),
        ("Unstoppable", False),
        ("STOPS", False),
        ("Reply NO to opt out", False),
    ],
)
def test_it_finds_the_word_stop_only_as_a_word(text, expected):
    assert has_opt_out(text) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hi, it's {company_name}.", True),
        ("Hi, it's {{ company_name }}.", True),
        ("Hi, it's alpha solar LTD.", True),
        ("Hi, it's Alpha  Solar\u00a0Ltd.", True),
        ("Hi, it's Alpha Solar.", False),
        ("Hi, it's {company}.", False),
    ],
)
def test_it_checks_the_message_names_the_sender(text, expected):
    assert names_sender(text, "Alpha Solar Ltd") is expected


def test_it_matches_a_company_name_with_smart_quotes():
    assert names_sender("It's O'Brien Solar here", "O\u2019Brien Solar")
    assert not names_sender("Hi there", "")


def test_it_appends_the_opt_out_line_only_when_needed():
    assert with_opt_out("Hi Sarah.  ", auto_append=True) == f"Hi Sarah. {OPT_OUT_LINE}"
    assert with_opt_out("Hi Sarah.", auto_append=False) == "Hi Sarah."
    assert with_opt_out("Hi. Text stop to end.", auto_append=True) == "Hi. Text stop to end."
    assert with_opt_out("", auto_append=True) == OPT_OUT_LINE


# Cadence problems.


def _problems(m1=M1, m2=None, m3=None, auto=False) -> list[str]:
    return cadence_problems(m1=m1, m2=m2, m3=m3, company_name="Alpha Solar Ltd", auto_append_opt_out=auto)


def test_it_finds_no_problem_in_a_good_cadence():
    assert _problems(m2="{first_name}, {company_name} again. STOP to opt out.", m3="") == []


def test_it_refuses_a_cadence_without_m1():
    assert _problems(m1="", m2=M1) == ["M1 is missing: a campaign needs at least its first message."]
    assert _problems(m1="   \n") == ["M1 is missing: a campaign needs at least its first message."]


def test_it_names_each_unknown_merge_field():
    problems = _problems(m2="Hi {First_Name} from {company_name}, {custom.Roof} {discount}. STOP to opt out")

    assert problems == [
        "M2 uses an unknown merge field {First_Name} (did you mean {first_name}?).",
        "M2 uses an unknown merge field {discount}.",
    ]


def test_it_names_a_custom_field_the_imported_files_do_not_have():
    m2 = "{company_name}: your {custom.system_size_kw} kW and {custom.Roof}? STOP to opt out"

    problems = cadence_problems(
        m1=M1, m2=m2, m3=None, company_name="A", auto_append_opt_out=False, custom_columns=["roof", "System size"]
    )

    assert problems == [
        "M2 uses an unknown merge field {custom.system_size_kw}: the imported files have no column"
        " 'system_size_kw' (did you mean {custom.System size}?)."
    ]
    assert unknown_merge_fields("{custom.Roof}", custom_columns=None) == []  # nothing imported to judge by


def test_it_refuses_a_message_that_does_not_name_the_sender():
    problems = _problems(m3="Last message from us. Reply STOP to opt out.")

    assert problems == ["M3 does not name the sender: include {company_name} or 'Alpha Solar Ltd' (PECR)."]


def test_it_refuses_a_message_without_opt_out_unless_auto_appended():
    m2 = "{company_name} here again."

    assert _problems(m2=m2) == [
        "M2 has no opt-out instruction (the word STOP) and the opt-out line is not appended automatically (PECR)."
    ]
    assert _problems(m2=m2, auto=True) == []


def test_it_lists_every_problem_of_every_message():
    problems = _problems(m1="Hi {firstname}", m2="Hello", m3="{company_name}: STOP")

    assert problems == [
        "M1 uses an unknown merge field {firstname}.",
        "M1 does not name the sender: include {company_name} or 'Alpha Solar Ltd' (PECR).",
        "M1 has no opt-out instruction (the word STOP) and the opt-out line is not appended automatically (PECR).",
        "M2 does not name the sender: include {company_name} or 'Alpha Solar Ltd' (PECR).",
        "M2 has no opt-out instruction (the word STOP) and the opt-out line is not appended automatically (PECR).",
    ]
