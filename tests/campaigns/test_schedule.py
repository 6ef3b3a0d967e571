"""Sending windows, quiet hours and delays (campaigns.schedule) — docs/architecture.md §4 definitions.

The property tests check the module against an oracle written straight from docs/architecture.md §4
(wall clock in the campaign's zone, the `holidays` library called directly), over random
windows and instants in 2025–2028 with the days around Europe/London's DST switches sampled
on purpose.
"""

import functools
from datetime import UTC, date, datetime, time, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.schedule import (
    MAX_VALIDITY_SECONDS,
    Window,
    bank_holidays,
    due_after,
    in_quiet_hours,
    is_open,
    may_send,
    next_opening,
    next_send_time,
    open_until,
    quiet_hours_end,
    validity_period,
    window_from_settings,
)
from leads.models import CampaignSettings

LONDON = ZoneInfo("Europe/London")
TIME_ZONES = ["Europe/London", "Europe/Dublin", "America/New_York", "Asia/Kolkata"]
REGIONS = ["", "ENG", "SCT", "NIR"]
STEPS = ["M1", "M2", "M3"]
WEEKDAYS = frozenset(range(5))
# Europe/London's switches: clocks forward (last Sunday of March), back (last Sunday of October).
SWITCH_DAYS = [
    date(2025, 3, 30),
    date(2025, 10, 26),
    date(2026, 3, 29),
    date(2026, 10, 25),
    date(2027, 3, 28),
    date(2027, 10, 31),
    date(2028, 3, 26),
    date(2028, 10, 29),
]
SCAN_MINUTES = 3 * 24 * 60
QUARTER = timedelta(minutes=15)
TINY = timedelta(microseconds=1)


# The oracle: docs/architecture.md §4 read literally, independent of the module's helpers.


@functools.cache
def _holidays(region: str, year: int) -> set[date]:
    return set(holidays.UnitedKingdom(subdiv=region, years=year)) if region else set()


def _in_window(window: Window, at: datetime) -> bool:
    local = at.astimezone(window.tz)
    return (
        window.start is not None
        and window.end is not None
        and local.weekday() in window.days
        and window.start <= local.time() < window.end
        and local.date() not in _holidays(window.bank_holiday_region, local.year)
    )


def _quiet(at: datetime, tz: ZoneInfo) -> bool:
    return not time(8) <= at.astimezone(tz).time() < time(21)


def _allowed(window: Window, at: datetime, step: str, respect: bool) -> bool:
    if _quiet(at, window.tz):
        return False
    return _in_window(window, at) if step == "M1" or respect else True


def _local(day: date, clock: time, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


def _london(*args) -> datetime:
    return datetime(*args, tzinfo=LONDON)


def _window(start="09:00", end="17:00", days=WEEKDAYS, tz=LONDON, region="") -> Window:
    return Window(days=frozenset(days), start=time.fromisoformat(start), end=time.fromisoformat(end), tz=tz,
                  bank_holiday_region=region)  # fmt: skip


# Strategies.


def _slot_time(slot: int) -> time:
    return time(slot // 4, slot % 4 * 15)


@st.composite
def windows(draw) -> Window:
    days = frozenset() if draw(st.integers(0, 19)) == 0 else draw(st.frozensets(st.integers(0, 6), min_size=1))
    if draw(st.integers(0, 19)) == 0:
        start = end = None
    else:
        first, second = sorted(draw(st.lists(st.integers(0, 95), min_size=2, max_size=2, unique=True)))
        start, end = _slot_time(first), _slot_time(second)
    tz = ZoneInfo(draw(st.sampled_from(TIME_ZONES)))
    return Window(days=days, start=start, end=end, tz=tz, bank_holiday_region=draw(st.sampled_from(REGIONS)))


def instants(tz: ZoneInfo) -> st.SearchStrategy[datetime]:
    """Random UTC instants, instants around the London switches, and local 15-minute grid points."""
    anywhere = st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC))
    near_switch = st.builds(
        lambda day, seconds: datetime.combine(day, time(1), tzinfo=UTC) + timedelta(seconds=seconds),
        st.sampled_from(SWITCH_DAYS),
        st.integers(-3 * 86_400, 3 * 86_400),
    )
    days = st.one_of(st.dates(date(2025, 1, 1), date(2028, 12, 31)), st.sampled_from(SWITCH_DAYS))
    on_grid = st.builds(lambda day, slot: _local(day, _slot_time(slot), tz), days, st.integers(0, 95))
    return st.one_of(anywhere, near_switch, on_grid)


PROPERTY = settings(max_examples=300, deadline=None)


# Properties.


@PROPERTY
@given(window=windows(), data=st.data(), step=st.sampled_from(STEPS), respect=st.booleans())
def test_it_allows_exactly_what_the_design_allows(window, data, step, respect):
    at = data.draw(instants(window.tz))

    allowed = may_send(window, at, step=step, respect_sending_hours=respect)

    assert allowed == _allowed(window, at, step, respect)
    assert is_open(window, at) == (_in_window(window, at) and not _quiet(at, window.tz))
    assert in_quiet_hours(at, window.tz) == _quiet(at, window.tz)
    if allowed:
        assert not _quiet(at, window.tz)
        if respect or step == "M1":
            assert _in_window(window, at)


@PROPERTY
@given(window=windows(), data=st.data(), step=st.sampled_from(STEPS), respect=st.booleans())
def test_it_sends_at_the_earliest_allowed_instant(window, data, step, respect):
    due = data.draw(instants(window.tz))

    when = next_send_time(window, due, step=step, respect_sending_hours=respect)

    if when is None:
        assert not any(_allowed(window, due + timedelta(minutes=m), step, respect) for m in range(0, 8 * 1440, 15))
        return
    assert when >= due
    assert when.tzinfo is UTC
    assert may_send(window, when, step=step, respect_sending_hours=respect)
    assert _allowed(window, when, step, respect)
    if when > due:
        assert not _allowed(window, when - TINY, step, respect)
    minutes = min(SCAN_MINUTES, int((when - due).total_seconds() // 60))
    earlier = (due + timedelta(minutes=m) for m in range(minutes))
    assert not any(_allowed(window, at, step, respect) for at in earlier if at < when)


@PROPERTY
@given(window=windows(), data=st.data())
def test_it_knows_when_an_open_period_ends(window, data):
    at = data.draw(instants(window.tz))

    opening, until = next_opening(window, at), open_until(window, at)

    if opening is not None:
        assert opening >= at and _allowed(window, opening, "M1", True)
        assert opening == at or not _allowed(window, opening - TINY, "M1", True)
    if until is None:
        assert not is_open(window, at)
        return
    assert opening == at and until > at
    assert _allowed(window, until - TINY, "M1", True)
    assert not _allowed(window, until, "M1", True)


@PROPERTY
@given(window=windows(), data=st.data())
def test_it_keeps_the_validity_period_inside_the_open_time(window, data):
    at = data.draw(instants(window.tz))

    seconds = validity_period(window, at)

    assert 1 <= seconds <= MAX_VALIDITY_SECONDS
    until = open_until(window, at)
    if until is not None:
        assert seconds == max(1, min(MAX_VALIDITY_SECONDS, int((until - at).total_seconds())))
        assert at + timedelta(seconds=seconds) <= until or seconds == 1
    elif not _quiet(at, window.tz):
        assert not _quiet(at + timedelta(seconds=seconds) - TINY, window.tz)
        assert seconds == MAX_VALIDITY_SECONDS or _quiet(at + timedelta(seconds=seconds + 1), window.tz)


@PROPERTY
@given(
    window=windows(),
    data=st.data(),
    delay_hours=st.integers(0, 96),
    delay_type=st.sampled_from(["real_hours", "business_hours"]),
    step=st.sampled_from(["M2", "M3"]),
    respect=st.booleans(),
)
def test_it_never_sends_a_step_before_its_delay(window, data, delay_hours, delay_type, step, respect):
    previous = data.draw(instants(window.tz))
    real_due = previous + timedelta(hours=delay_hours)
    if delay_type == "business_hours" and delay_hours and next_opening(window, previous) is None:
        with pytest.raises(ValueError, match="window that opens"):
            due_after(window, previous, delay_hours=delay_hours, delay_type=delay_type)
        return

    due = due_after(window, previous, delay_hours=delay_hours, delay_type=delay_type)

    assert due >= real_due
    if delay_type == "real_hours":
        assert due == real_due
    sent = next_send_time(window, due, step=step, respect_sending_hours=respect)
    assert sent is None or sent >= real_due


@PROPERTY
@given(window=windows(), data=st.data(), delay_hours=st.integers(1, 12))
def test_it_counts_business_hours_inside_the_window_only(window, data, delay_hours):
    # given a send on the window's own 15-minute grid, so every boundary is a grid point
    day = data.draw(st.one_of(st.dates(date(2025, 1, 1), date(2028, 12, 31)), st.sampled_from(SWITCH_DAYS)))
    previous = _local(day, _slot_time(data.draw(st.integers(0, 95))), window.tz)
    if next_opening(window, previous) is None:
        return

    # when
    due = due_after(window, previous, delay_hours=delay_hours, delay_type="business_hours")

    # then the open quarter-hours between the two add up to the delay (checked when close enough)
    steps = int((due - previous) / QUARTER)
    if steps <= 10 * 96:
        open_quarters = sum(_allowed(window, previous + QUARTER * i, "M1", True) for i in range(steps))
        assert open_quarters == delay_hours * 4
        assert _allowed(window, due - TINY, "M1", True)


# Examples: the window.


def test_it_closes_at_the_end_of_the_window_and_reopens_on_monday():
    window = _window()
    friday = _london(2026, 6, 5, 16, 59)

    assert is_open(window, friday)
    assert not is_open(window, _london(2026, 6, 5, 17, 0))
    assert next_opening(window, _london(2026, 6, 5, 17, 0)) == _london(2026, 6, 8, 9, 0)
    assert open_until(window, friday) == _london(2026, 6, 5, 17, 0)
    assert validity_period(window, friday) == 60


def test_it_returns_the_instant_itself_in_utc_when_already_open():
    window = _window()
    at = datetime(2026, 6, 3, 10, 30, 15, tzinfo=UTC)

    opening = next_opening(window, at)

    assert opening == at
    assert opening.tzinfo is UTC


def test_it_never_opens_without_days_or_hours():
    no_days = _window(days=())
    no_hours = Window(days=WEEKDAYS, start=None, end=None, tz=LONDON)
    all_quiet = _window(start="21:00", end="23:30")
    at = _london(2026, 6, 3, 10)

    for window in (no_days, no_hours, all_quiet):
        assert not is_open(window, at)
        assert next_opening(window, at) is None
        assert next_send_time(window, at, step="M1", respect_sending_hours=False) is None
        assert next_send_time(window, at, step="M2", respect_sending_hours=True) is None


def test_it_lets_quiet_hours_win_over_a_wide_window():
    window = _window(start="06:00", end="23:00", days=range(7))

    assert not is_open(window, _london(2026, 6, 3, 7, 59))
    assert is_open(window, _london(2026, 6, 3, 8, 0))
    assert is_open(window, _london(2026, 6, 3, 20, 59))
    assert not is_open(window, _london(2026, 6, 3, 21, 0))
    assert open_until(window, _london(2026, 6, 3, 20, 0)) == _london(2026, 6, 3, 21, 0)
    assert next_opening(window, _london(2026, 6, 3, 22, 0)) == _london(2026, 6, 4, 8, 0)


def test_it_reads_quiet_hours_in_the_campaigns_time_zone():
    new_york = ZoneInfo("America/New_York")
    at = datetime(2026, 6, 3, 22, 30, tzinfo=UTC)  # 18:30 in New York

    assert in_quiet_hours(at, LONDON)
    assert not in_quiet_hours(at, new_york)
    assert quiet_hours_end(at, LONDON) == _london(2026, 6, 4, 8, 0)
    assert quiet_hours_end(_london(2026, 6, 4, 2, 0), LONDON) == _london(2026, 6, 4, 8, 0)
    assert quiet_hours_end(at, new_york) == at


# Examples: bank holidays.


def test_it_skips_christmas_and_the_boxing_day_substitute():
    window = _window(region="ENG")

    assert not is_open(window, _london(2026, 12, 25, 10))
    assert next_opening(window, _london(2026, 12, 24, 17)) == _london(2026, 12, 29, 9)


def test_it_skips_the_summer_bank_holiday_of_the_region():
    england, scotland, nowhere = _window(region="ENG"), _window(region="SCT"), _window()
    english_holiday, scottish_holiday = _london(2026, 8, 31, 10), _london(2026, 8, 3, 10)

    assert not is_open(england, english_holiday) and is_open(england, scottish_holiday)
    assert is_open(scotland, english_holiday) and not is_open(scotland, scottish_holiday)
    assert is_open(nowhere, english_holiday) and is_open(nowhere, scottish_holiday)
    assert next_opening(england, _london(2026, 8, 28, 18)) == _london(2026, 9, 1, 9)


def test_it_lists_bank_holidays_by_region():
    assert date(2026, 3, 17) in bank_holidays("NIR", 2026)
    assert date(2026, 3, 17) not in bank_holidays("ENG", 2026)
    assert date(2026, 11, 30) in bank_holidays("SCT", 2026)
    assert bank_holidays("", 2026) == frozenset()
    with pytest.raises(ValueError, match="bank-holiday region"):
        bank_holidays("WAL", 2026)


# Examples: delays.


def test_it_waits_real_hours_on_the_clock():
    window = _window()
    sent = _london(2026, 6, 5, 16, 30)  # Friday

    due = due_after(window, sent, delay_hours=48, delay_type="real_hours")

    assert due == _london(2026, 6, 7, 16, 30)  # Sunday
    assert next_send_time(window, due, step="M2", respect_sending_hours=True) == _london(2026, 6, 8, 9)
    assert next_send_time(window, due, step="M2", respect_sending_hours=False) == due
    assert next_send_time(window, due, step="M1", respect_sending_hours=False) == _london(2026, 6, 8, 9)


def test_it_holds_a_step_due_in_quiet_hours_until_eight():
    window = _window()
    due = _london(2026, 6, 5, 22, 15)

    assert next_send_time(window, due, step="M3", respect_sending_hours=False) == _london(2026, 6, 6, 8)
    assert not may_send(window, due, step="M3", respect_sending_hours=False)
    assert may_send(window, _london(2026, 6, 6, 8), step="M3", respect_sending_hours=False)


def test_it_counts_business_hours_over_a_weekend_and_bank_holiday():
    window = _window(region="ENG")
    sent = _london(2026, 8, 28, 15)  # Friday before the late-summer bank holiday

    due = due_after(window, sent, delay_hours=4, delay_type="business_hours")

    assert due == _london(2026, 9, 1, 11)  # 2 h on Friday, Monday off, 2 h on Tuesday


def test_it_starts_counting_business_hours_at_the_next_opening():
    window = _window()
    sent = _london(2026, 6, 5, 19)  # Friday evening, window shut

    assert due_after(window, sent, delay_hours=8, delay_type="business_hours") == _london(2026, 6, 8, 17)
    assert due_after(window, sent, delay_hours=9, delay_type="business_hours") == _london(2026, 6, 9, 10)
    assert due_after(window, sent, delay_hours=0, delay_type="business_hours") == sent


def test_it_refuses_bad_delays():
    window = _window()
    sent = _london(2026, 6, 5, 12)

    with pytest.raises(ValueError, match="negative"):
        due_after(window, sent, delay_hours=-1, delay_type="real_hours")
    with pytest.raises(ValueError, match="delay type"):
        due_after(window, sent, delay_hours=1, delay_type="hours")
    with pytest.raises(ValueError, match="window that opens"):
        due_after(_window(days=()), sent, delay_hours=1, delay_type="business_hours")


# Examples: the DST switches of Europe/London.


def test_it_keeps_local_hours_on_the_day_the_clocks_go_forward():
    window = _window(days=range(7))

    assert next_opening(window, _london(2026, 3, 29, 0, 30)) == datetime(2026, 3, 29, 8, tzinfo=UTC)  # 09:00 BST
    assert not is_open(window, datetime(2026, 3, 29, 7, 59, tzinfo=UTC))
    assert open_until(window, datetime(2026, 3, 29, 8, tzinfo=UTC)) == datetime(2026, 3, 29, 16, tzinfo=UTC)
    assert next_opening(window, _london(2026, 3, 28, 17)) == datetime(2026, 3, 29, 8, tzinfo=UTC)
    assert next_opening(window, _london(2026, 3, 27, 17)) == datetime(2026, 3, 28, 9, tzinfo=UTC)  # 09:00 GMT


def test_it_keeps_local_hours_on_the_day_the_clocks_go_back():
    window = _window(days=range(7))

    assert next_opening(window, _london(2026, 10, 25, 1, 30)) == datetime(2026, 10, 25, 9, tzinfo=UTC)  # 09:00 GMT
    assert open_until(window, datetime(2026, 10, 25, 9, tzinfo=UTC)) == datetime(2026, 10, 25, 17, tzinfo=UTC)
    assert next_opening(window, _london(2026, 10, 24, 17)) == datetime(2026, 10, 25, 9, tzinfo=UTC)
    assert next_opening(window, _london(2026, 10, 23, 17)) == datetime(2026, 10, 24, 8, tzinfo=UTC)  # 09:00 BST


def test_it_measures_delays_across_a_switch_in_real_hours():
    window = _window(days=range(7))
    saturday_noon = _london(2026, 3, 28, 12)  # GMT

    due = due_after(window, saturday_noon, delay_hours=24, delay_type="real_hours")

    assert due == datetime(2026, 3, 29, 12, tzinfo=UTC)
    assert due.astimezone(LONDON).hour == 13  # 13:00 BST: 24 real hours, not 24 wall-clock hours
    autumn = due_after(window, _london(2026, 10, 24, 12), delay_hours=24, delay_type="real_hours")
    assert autumn.astimezone(LONDON).hour == 11


def test_it_counts_business_hours_across_a_switch():
    window = _window(days=range(7))

    due = due_after(window, _london(2026, 3, 28, 16), delay_hours=2, delay_type="business_hours")

    assert due == _london(2026, 3, 29, 10)
    assert due == datetime(2026, 3, 29, 9, tzinfo=UTC)


def test_it_keeps_quiet_hours_on_local_time_across_switches():
    assert not in_quiet_hours(datetime(2026, 3, 29, 7, 0, tzinfo=UTC), LONDON)  # 08:00 BST
    assert in_quiet_hours(datetime(2026, 3, 28, 7, 59, tzinfo=UTC), LONDON)  # 07:59 GMT
    assert in_quiet_hours(datetime(2026, 10, 25, 1, 30, tzinfo=UTC), LONDON)  # the repeated hour
    assert quiet_hours_end(datetime(2026, 10, 25, 1, 30, tzinfo=UTC), LONDON) == datetime(2026, 10, 25, 8, tzinfo=UTC)
    assert quiet_hours_end(datetime(2026, 3, 29, 1, 30, tzinfo=UTC), LONDON) == datetime(2026, 3, 29, 7, tzinfo=UTC)


# Examples: validity period.


def test_it_caps_the_validity_period_at_ten_hours():
    window = _window(start="08:00", end="20:00")

    assert validity_period(window, _london(2026, 6, 3, 8)) == MAX_VALIDITY_SECONDS
    assert validity_period(window, _london(2026, 6, 3, 19, 30)) == 1800


def test_it_bounds_the_validity_period_by_quiet_hours_outside_the_window():
    window = _window()

    assert validity_period(window, _london(2026, 6, 6, 20)) == 3600  # Saturday, M2 without the window
    assert validity_period(window, _london(2026, 6, 6, 23)) == 1
    assert validity_period(window, _london(2026, 6, 5, 16, 59, 59, 500_000)) == 1


# Examples: settings and bad input.


def test_it_builds_a_window_from_campaign_settings():
    settings = CampaignSettings(
        sending_days=["Monday", "wednesday", "fri"],
        sending_hours_start=time(10),
        sending_hours_end=time(16, 30),
        sending_timezone="Europe/Dublin",
        bank_holiday_region="NIR",
    )

    window = window_from_settings(settings)

    assert window == Window(
        days=frozenset({0, 2, 4}),
        start=time(10),
        end=time(16, 30),
        tz=ZoneInfo("Europe/Dublin"),
        bank_holiday_region="NIR",
    )


def test_it_treats_unset_hours_as_a_window_that_never_opens():
    window = window_from_settings(CampaignSettings(sending_hours_start=time(9)))

    assert (window.start, window.end) == (None, None)
    assert window.days == WEEKDAYS
    assert next_opening(window, _london(2026, 6, 3, 10)) is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"sending_hours_start": time(17), "sending_hours_end": time(9)}, "start before they end"),
        ({"sending_hours_start": time(9), "sending_hours_end": time(9)}, "start before they end"),
        ({"sending_timezone": "Europe/Londn"}, "Unknown time zone"),
        ({"sending_days": ["monday", "funday"]}, "Unknown sending day"),
        ({"bank_holiday_region": "WLS"}, "bank-holiday region"),
        ({"sending_hours_start": "nine"}, "times such as"),
    ],
)
def test_it_refuses_invalid_settings_with_the_reason(changes, message):
    valid = {
        "sending_days": ["monday"],
        "sending_hours_start": time(9),
        "sending_hours_end": time(17),
        "sending_timezone": "Europe/London",
        "bank_holiday_region": "",
    }
    settings = SimpleNamespace(**valid | changes)

    with pytest.raises(ValueError, match=message):
        window_from_settings(settings)


def test_it_refuses_naive_datetimes():
    window = _window()
    naive = datetime(2026, 6, 3, 10)

    for call in (
        lambda: is_open(window, naive),
        lambda: next_opening(window, naive),
        lambda: in_quiet_hours(naive, LONDON),
        lambda: validity_period(window, naive),
        lambda: next_send_time(window, naive, step="M2", respect_sending_hours=False),
        lambda: due_after(window, naive, delay_hours=1, delay_type="real_hours"),
    ):
        with pytest.raises(ValueError, match="Naive datetime"):
            call()


def test_it_refuses_unknown_steps():
    with pytest.raises(ValueError, match="cadence step"):
        may_send(_window(), _london(2026, 6, 3, 10), step="M4", respect_sending_hours=True)


def test_an_answer_keeps_to_quiet_hours_not_to_the_window():
    from campaigns.schedule import REPLY_VALIDITY_SECONDS, reply_validity_period

    london = ZoneInfo("Europe/London")
    # 19:00 on a winter evening: two hours until quiet hours begin, whatever the campaign's window
    assert reply_validity_period(datetime(2026, 12, 1, 19, 0, tzinfo=london), london) == 2 * 3600
    # 21:10, answering the lead's own text under the 30-minute exception: half an hour, never 1 s
    assert reply_validity_period(datetime(2026, 12, 1, 21, 10, tzinfo=london), london) == REPLY_VALIDITY_SECONDS
