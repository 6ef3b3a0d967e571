import random

import phonenumbers
import pytest

from leads.phones import PhoneResult, normalise_phone

MOBILE = PhoneResult("+447911123456", True, "")


@pytest.mark.parametrize(
    "raw",
    [
        "07911 123456",
        "07911123456",
        "+44 (0)7911-123456",
        "+44(0)7911 123456",
        "+447911123456",
        "+44 7911 123456",
        "447911123456",
        "7911123456",
        "4.47911123456E+11",
        "4.47911123456e11",
        "447911123456.0",
        "7911123456.0",
        "00447911123456",
        "0044 7911 123456",
        "'07911123456",
        " 07911-123-456 ",
        "(07911) 123456",
        "07911.123.456",
        "+44 07911 123456",
        '="07911123456"',
        "\u202d07911 123456\u202c",
    ],
)
def test_it_accepts_every_everyday_form_of_a_uk_mobile(raw):
    assert normalise_phone(raw) == MOBILE


def test_it_accepts_crown_dependency_mobiles_as_uk():
    # Jersey, Guernsey, Isle of Man share +44
    for raw, e164 in [
        ("07797 123456", "+447797123456"),
        ("07781 123456", "+447781123456"),
        ("07624 123456", "+447624123456"),
    ]:
        assert normalise_phone(raw) == PhoneResult(e164, True, "")


def test_it_accepts_a_landline_that_cannot_receive_sms():
    result = normalise_phone("020 7946 0123")

    assert result.e164 == "+442079460123"
    assert result.sms_capable is False
    assert result.reason == "Landline (fixed line) — cannot receive SMS"


@pytest.mark.parametrize(
    "raw, reason",
    [
        ("0800 123 4567", "Freephone number — cannot receive SMS"),
        ("0909 879 0000", "Premium-rate number — cannot receive SMS"),
        ("0330 123 4567", "Non-geographic (UAN) number — cannot receive SMS"),
        ("056 0123 4567", "VoIP (internet phone) number — cannot receive SMS"),
        ("070 1234 5678", "Personal (follow-me) number — cannot receive SMS"),
    ],
)
def test_it_keeps_other_non_mobile_numbers_as_not_sms_capable(raw, reason):
    result = normalise_phone(raw)

    assert result.e164 is not None
    assert (result.sms_capable, result.reason) == (False, reason)


def test_it_refuses_international_numbers_by_default():
    assert normalise_phone("+33 6 12 34 56 78") == PhoneResult(
        None, False, "International number (+33) not allowed by this dataset's settings"
    )


def test_it_accepts_international_numbers_when_allowed():
    assert normalise_phone("+33 6 12 34 56 78", allow_international=True) == PhoneResult("+33612345678", True, "")
    assert normalise_phone("0033 612345678", allow_international=True).e164 == "+33612345678"


def test_it_rejects_an_invalid_international_number_even_when_allowed():
    result = normalise_phone("+33 1 23", allow_international=True)

    assert result.e164 is None
    assert result.reason == "Not a valid phone number: '+33 1 23' (too short)"


def test_it_rejects_a_mobile_that_is_too_short():
    assert normalise_phone("07911 12345") == PhoneResult(
        None, False, "Not a valid UK phone number: '07911 12345' (too short)"
    )


def test_it_rejects_a_number_that_is_too_long():
    assert normalise_phone("079111234567").reason == "Not a valid UK phone number: '079111234567' (too long)"


def test_it_rejects_a_number_in_an_unused_range():
    assert normalise_phone("01000 000000").reason.startswith("Not a valid UK phone number: '01000 000000'")


def test_it_rejects_an_empty_number():
    assert normalise_phone("") == PhoneResult(None, False, "No phone number")
    assert normalise_phone("   ") == PhoneResult(None, False, "No phone number")


def test_it_rejects_text_that_is_no_phone_number():
    assert normalise_phone("call me").e164 is None
    assert normalise_phone("()").e164 is None


def test_it_rejects_a_float_that_excel_rounded():
    result = normalise_phone("4.47911E+11")

    assert result.e164 is None
    assert "Excel scientific notation lost the last digits" in result.reason


def test_it_accepts_ofcom_drama_numbers_only_with_the_fiction_flag():
    assert normalise_phone("07700 900123").e164 is None
    assert "fictional" in normalise_phone("07700 900123").reason

    assert normalise_phone("07700 900123", allow_fiction=True) == PhoneResult("+447700900123", True, "")
    assert normalise_phone("+447700900999", allow_fiction=True).sms_capable is True


@pytest.mark.parametrize("raw", ["01632 960000", "0113 496 0999", "0161 496 0500", "028 9649 6123", "029 2018 0001"])
def test_it_accepts_drama_landlines_with_the_fiction_flag_as_not_sms_capable(raw):
    result = normalise_phone(raw, allow_fiction=True)

    assert result.e164 is not None
    assert result.sms_capable is False
    assert "Ofcom drama range" in result.reason


def test_it_does_not_stretch_the_drama_range_beyond_its_thousand_numbers():
    assert normalise_phone("07700 901000", allow_fiction=True).e164 is None


def test_it_only_takes_unambiguous_forms_without_auto_normalisation():
    assert normalise_phone("07911 123456", auto_normalize_uk=False) == MOBILE
    assert normalise_phone("+44 (0)7911-123456", auto_normalize_uk=False) == MOBILE
    assert normalise_phone("00447911123456", auto_normalize_uk=False) == MOBILE

    for raw in ["447911123456", "7911123456", "4.47911123456E+11"]:
        result = normalise_phone(raw, auto_normalize_uk=False)
        assert result.e164 is None
        assert "automatic UK number correction is off" in result.reason


def test_it_agrees_with_phonenumbers_on_random_uk_numbers():
    # The fast path builds the number itself; phonenumbers.parse + is_valid_number must agree.
    rng = random.Random(7)
    for _ in range(5000):
        digits = "".join(rng.choice("0123456789") for _ in range(rng.choice([8, 9, 10])))
        raw = rng.choice(["0", "+44", "07", "+447"]) + digits
        try:
            parsed = phonenumbers.parse(raw, "GB")
        except phonenumbers.NumberParseException:
            assert normalise_phone(raw).e164 is None
            continue
        valid = phonenumbers.is_valid_number(parsed)

        result = normalise_phone(raw, allow_international=True)  # "00…" may dial abroad

        assert (result.e164 is not None) == valid, raw
        if valid:
            assert result.e164 == phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
            expected_sms = phonenumbers.number_type(parsed) in (
                phonenumbers.PhoneNumberType.MOBILE,
                phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE,
            )
            assert result.sms_capable == expected_sms, raw
