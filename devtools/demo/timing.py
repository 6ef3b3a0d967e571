"""When things happen: the cadence's weekday window, quiet hours and call slots, in London time."""

import random
from datetime import date, datetime, time, timedelta

from devtools.demo.greenstar import LONDON, QUIET_END, QUIET_START


def london_at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), LONDON)


def send_slots(start: datetime, end: datetime, per_hour: int):
    """Every instant the cadence could send between start and end: weekdays 09:00-17:00 London."""
    step = timedelta(seconds=3600 // per_hour)
    day = start.astimezone(LONDON).date()
    while london_at(day, 0) < end:
        if day.weekday() < 5:
            slot, close = london_at(day, 9), london_at(day, 17)
            while slot < close:
                if start <= slot < end:
                    yield slot
                slot += step
        day += timedelta(days=1)


def outside_quiet_hours(moment: datetime, rng: random.Random) -> datetime:
    local = moment.astimezone(LONDON)
    if QUIET_END <= local.time() < QUIET_START:
        return moment
    day = local.date() if local.time() < QUIET_END else local.date() + timedelta(days=1)
    return london_at(day, 8) + timedelta(seconds=rng.randint(30, 900))


def next_month(now: datetime, month: int) -> date:
    year = now.year if month > now.month else now.year + 1
    return date(year, month, 1)


def call_slot(now: datetime, index: int) -> datetime:
    day, found = now.astimezone(LONDON).date(), 0
    while True:
        day += timedelta(days=1)
        if day.weekday() < 5:
            found += 1
            if found == index + 1:
                hour, minute = [(10, 0), (14, 30), (11, 30), (15, 0)][index % 4]
                return london_at(day, hour, minute)
