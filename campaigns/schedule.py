"""Sending windows, quiet hours and cadence delays (docs/architecture.md §4): pure, clock-free time math.

Time is always a parameter. Every datetime passed in must be timezone-aware (naive ones raise
ValueError); every datetime returned is aware and in UTC, whatever zone the input was in.

Wall-clock rules (window hours, quiet hours, bank holidays) are read in local time, so a
09:00–17:00 window is 09:00–17:00 local on both DST switch days. Elapsed time (real-hours
delays, business hours, validity periods) is measured in absolute seconds, so "48 hours" across
a switch is 48 real hours.

Why UTC out rather than local time: Python adds a timedelta to an aware datetime on its wall
clock (24 h after Saturday noon would be Sunday noon, 23 real hours, on the spring switch day),
and, by PEP 495, a local datetime in the repeated hour of the autumn switch never compares
equal to the same instant in another zone. In UTC neither can bite; convert for display only.
"""

import functools
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

QUIET_START = time(21, 0)  # platform floor (DMA code): no texts at antisocial times
QUIET_END = time(8, 0)
REPLY_VALIDITY_SECONDS = 30 * 60  # an answer sent in quiet hours: stale, and too late at night, after this
MAX_VALIDITY_SECONDS = 36_000  # Twilio's ValidityPeriod ceiling

STEPS = ("M1", "M2", "M3")
REAL_HOURS = "real_hours"
BUSINESS_HOURS = "business_hours"
DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Region code -> `holidays.UnitedKingdom` subdivision. Wales shares England's bank holidays.
BANK_HOLIDAY_REGIONS = {"": None, "ENG": "ENG", "SCT": "SCT", "NIR": "NIR"}

# Longer than any run of closed days (a one-day-a-week window over Christmas and New Year):
# a window with no opening within this many days has none at all.
_SEARCH_DAYS = 400


@dataclass(frozen=True)
class Window:
    """When a campaign may send: `days` × [`start`, `end`) local time in `tz`, bank holidays skipped.

    Quiet hours (21:00–08:00 in `tz`) always win over the window. `start`/`end` None means the
    sending hours are not set: the window never opens.
    """

    days: frozenset[int]  # weekday numbers, Monday = 0
    start: time | None
    end: time | None
    tz: ZoneInfo
    bank_holiday_region: str = ""  # "", "ENG" (England & Wales), "SCT", "NIR"

    def __post_init__(self) -> None:
        object.__setattr__(self, "days", frozenset(self.days))
        if any(not isinstance(day, int) or not 0 <= day <= 6 for day in self.days):
            raise ValueError(f"Sending days are weekday numbers 0 (Monday) to 6 (Sunday), not {set(self.days)!r}.")
        if not isinstance(self.tz, tzinfo):
            raise ValueError(f"The window's time zone must be a tzinfo, not {self.tz!r}.")
        if self.bank_holiday_region not in BANK_HOLIDAY_REGIONS:
            raise ValueError(
                f"Unknown bank-holiday region {self.bank_holiday_region!r}; use one of "
                f"{', '.join(repr(r) for r in BANK_HOLIDAY_REGIONS)}."
            )
        for bound in (self.start, self.end):
            if bound is not None and bound.tzinfo is not None:
                raise ValueError("Sending hours are local wall-clock times: give them without a time zone.")
        if self.start is not None and self.end is not None and self.start >= self.end:
            raise ValueError(
                f"Sending hours must start before they end (a window cannot cross midnight): "
                f"{self.start:%H:%M} to {self.end:%H:%M}."
            )


def window_from_settings(settings) -> Window:
    """The window of a CampaignSettings (saved or not); ValueError says what is wrong with it.

    Sending hours with only one end set count as not set (the window never opens).
    """
    name = settings.sending_timezone
    try:
        tz = ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        raise ValueError(f"Unknown time zone {name!r}; use an IANA name such as 'Europe/London'.")
    start, end = _as_time(settings.sending_hours_start), _as_time(settings.sending_hours_end)
    if start is None or end is None:
        start = end = None
    days = frozenset(_day_number(day) for day in settings.sending_days or [])
    return Window(days=days, start=start, end=end, tz=tz, bank_holiday_region=settings.bank_holiday_region or "")


def in_quiet_hours(at: datetime, tz: ZoneInfo) -> bool:
    clock = _local(at, tz).time()
    return clock >= QUIET_START or clock < QUIET_END


def is_open(window: Window, at: datetime) -> bool:
    """Inside [start, end) on an allowed day in window.tz, not a bank holiday, not in quiet hours."""
    local = _local(at, window.tz)
    hours = _open_hours(window)
    return (
        hours is not None
        and local.weekday() in window.days
        and hours[0] <= local.time() < hours[1]
        and local.date() not in bank_holidays(window.bank_holiday_region, local.year)
    )


def next_opening(window: Window, at: datetime) -> datetime | None:
    """`at` if the window is open then, else the next instant it opens; None if it never opens."""
    local = _local(at, window.tz)
    if _open_hours(window) is None:
        return None
    for offset in range(_SEARCH_DAYS):
        period = _period_on(window, local.date() + timedelta(days=offset))
        if period is not None and _utc(at) < period[1]:
            return max(_utc(at), period[0])
    return None


def open_until(window: Window, at: datetime) -> datetime | None:
    """When the open period containing `at` ends (window end or quiet hours, the earlier); None if shut."""
    if not is_open(window, at):
        return None
    return _period_on(window, _local(at, window.tz).date())[1]


def validity_period(window: Window, at: datetime) -> int:
    """Seconds a message sent at `at` may wait in Twilio's queue: 1 to MAX_VALIDITY_SECONDS.

    Until the window closes or quiet hours begin, whichever is first. Outside the window (an
    M2/M3 sent without `delay_respect_sending_hours`) only quiet hours bound it. Twilio's
    minimum is 1 s, so in the last second of a period the bound is overshot by under a second;
    in quiet hours, where nothing is sent, the answer is 1.
    """
    until = open_until(window, at)
    if until is None:
        if in_quiet_hours(at, window.tz):
            return 1
        until = _wall(_local(at, window.tz).date(), QUIET_START, window.tz)
    seconds = int((until - _utc(at)).total_seconds())
    return max(1, min(MAX_VALIDITY_SECONDS, seconds))


def reply_validity_period(at: datetime, tz: ZoneInfo) -> int:
    """Seconds an answer to a lead (staff, Sophie, the opt-out confirmation) may wait in Twilio's queue.

    Answers keep to quiet hours, not to the campaign's window: until quiet hours begin. One sent in
    quiet hours (it answers the lead's own text within minutes) gets REPLY_VALIDITY_SECONDS: later
    than that it is no longer an answer, and it must not arrive in the middle of the night.
    """
    if in_quiet_hours(at, tz):
        return REPLY_VALIDITY_SECONDS
    until = _wall(_local(at, tz).date(), QUIET_START, tz)
    return max(1, min(MAX_VALIDITY_SECONDS, int((until - _utc(at)).total_seconds())))


def quiet_hours_end(at: datetime, tz: ZoneInfo) -> datetime:
    """The next 08:00 local if `at` is in quiet hours, else `at` itself."""
    local = _local(at, tz)
    if not in_quiet_hours(local, tz):
        return _utc(at)
    day = local.date() + timedelta(days=1) if local.time() >= QUIET_START else local.date()
    return _wall(day, QUIET_END, tz)


def may_send(window: Window, at: datetime, *, step: str, respect_sending_hours: bool) -> bool:
    """M1 only inside the window; M2/M3 inside it too, or merely outside quiet hours when not respecting it."""
    _check_step(step)
    if step == "M1" or respect_sending_hours:
        return is_open(window, at)
    return not in_quiet_hours(at, window.tz)


def next_send_time(window: Window, due: datetime, *, step: str, respect_sending_hours: bool) -> datetime | None:
    """The earliest instant ≥ `due` at which `may_send` holds; None if there is none (window never opens)."""
    _check_step(step)
    if step == "M1" or respect_sending_hours:
        return next_opening(window, due)
    return quiet_hours_end(due, window.tz)


def due_after(window: Window, previous_sent_at: datetime, *, delay_hours: int, delay_type: str) -> datetime:
    """When the next step is due, `delay_hours` after the previous one was sent.

    real_hours: elapsed clock time. business_hours: only time inside the window counts (open
    periods: quiet hours and bank holidays never count), starting from `previous_sent_at`; a
    count that ends exactly at a closing time gives that closing time. A delay of 0 is due at
    once, whatever the type (the window then applies through `next_send_time`). Raises
    ValueError for a negative delay, an unknown type, or business hours on a window that never
    opens (check `next_opening(window, at) is None` first if that can happen).
    """
    _local(previous_sent_at, window.tz)
    if delay_hours < 0:
        raise ValueError(f"A delay cannot be negative ({delay_hours} hours).")
    remaining = timedelta(hours=delay_hours)
    if delay_type not in (REAL_HOURS, BUSINESS_HOURS):
        raise ValueError(f"Unknown delay type {delay_type!r}; use {REAL_HOURS!r} or {BUSINESS_HOURS!r}.")
    if delay_type == REAL_HOURS or not remaining:
        return _utc(previous_sent_at) + remaining
    at = previous_sent_at
    while True:
        opening = next_opening(window, at)
        if opening is None:
            raise ValueError("A business-hours delay needs a sending window that opens (days and hours set).")
        closing = open_until(window, opening)
        span = closing - opening
        if remaining <= span:
            return opening + remaining
        remaining -= span
        at = closing


@functools.cache
def bank_holidays(region: str, year: int) -> frozenset[date]:
    """The bank holidays of a UK region ("" = none skipped) in `year`, from the `holidays` library.

    Includes the holiday itself when it falls on a weekend as well as its substitute weekday.
    """
    if region not in BANK_HOLIDAY_REGIONS:
        raise ValueError(f"Unknown bank-holiday region {region!r}.")
    subdivision = BANK_HOLIDAY_REGIONS[region]
    if subdivision is None:
        return frozenset()
    return frozenset(holidays.UnitedKingdom(subdiv=subdivision, years=year))


def _open_hours(window: Window) -> tuple[time, time] | None:
    """The daily open hours once quiet hours are taken out; None if the window never opens."""
    if window.start is None or window.end is None or not window.days:
        return None
    start, end = max(window.start, QUIET_END), min(window.end, QUIET_START)
    return (start, end) if start < end else None


def _period_on(window: Window, day: date) -> tuple[datetime, datetime] | None:
    hours = _open_hours(window)
    if hours is None or day.weekday() not in window.days:
        return None
    if day in bank_holidays(window.bank_holiday_region, day.year):
        return None
    return _wall(day, hours[0], window.tz), _wall(day, hours[1], window.tz)


def _wall(day: date, clock: time, tz: tzinfo) -> datetime:
    """The instant (in UTC) a local wall time names.

    An ambiguous time (clocks going back) is its first occurrence; a time skipped by clocks going
    forward maps to the same distance past the gap (zoneinfo's fold=0 reading). Neither happens
    inside 08:00–21:00 in the UK or Ireland.
    """
    return datetime.combine(day, clock, tzinfo=tz).astimezone(UTC)


def _local(at: datetime, tz: tzinfo) -> datetime:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"Naive datetime {at.isoformat()}: schedule math needs timezone-aware datetimes.")
    return at.astimezone(tz)


def _utc(at: datetime) -> datetime:
    return at.astimezone(UTC)


def _check_step(step: str) -> None:
    if step not in STEPS:
        raise ValueError(f"Unknown cadence step {step!r}; use one of {', '.join(STEPS)}.")


def _day_number(day) -> int:
    name = str(day).strip().lower()
    for number, full in enumerate(DAY_NAMES):
        if name in (full, full[:3]):
            return number
    raise ValueError(f"Unknown sending day {day!r}; use day names such as 'monday'.")


def _as_time(value) -> time | None:
    if value is None or value == "":
        return None
    if isinstance(value, time):
        return value
    try:
        return time.fromisoformat(str(value))
    except ValueError:
        raise ValueError(f"Sending hours must be times such as '09:00', not {value!r}.")
