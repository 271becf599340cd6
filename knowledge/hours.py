"""Opening hours of contacts: is the team open now, and how to say when it is."""
from __future__ import annotations

import datetime as dt
from typing import Any, List, Optional, Tuple
from zoneinfo import ZoneInfo

from knowledge.content import DAYS, Contact

LONDON = ZoneInfo("Europe/London")
_DAY_NAMES = {"mon": "Mon", "tue": "Tue", "wed": "Wed", "thu": "Thu", "fri": "Fri", "sat": "Sat", "sun": "Sun"}


def span_times(text: str) -> Tuple[dt.time, dt.time]:
    """"09:00-17:00" as (start, end); "24:00" is the last second of the day."""
    start, end = text.split("-")
    end_time = dt.time(23, 59, 59) if end == "24:00" else dt.time.fromisoformat(end)
    return dt.time.fromisoformat(start), end_time


def is_open(contact: Optional[Contact], now: Optional[dt.datetime] = None) -> bool:
    """True when the contact is open at `now` (UK time; naive datetimes are taken as UTC)."""
    if contact is None or contact.hours is None:
        return False
    if contact.hours == "always":
        return True
    now = now or dt.datetime.now(dt.timezone.utc)
    if now.tzinfo is None:
        now = now.replace(tzinfo=dt.timezone.utc)
    local = now.astimezone(LONDON)
    span = contact.hours.get(DAYS[local.weekday()])
    if not span:
        return False
    start, end = span_times(span)
    return start <= local.time() < end


def clock(time: dt.time) -> str:
    """9am, 4:30pm: how the replies say a time."""
    hour = time.hour % 12 or 12
    suffix = "am" if time.hour < 12 else "pm"
    return f"{hour}{suffix}" if time.minute == 0 else f"{hour}:{time.minute:02d}{suffix}"


def describe_hours(hours: Any) -> str:
    """'Mon to Thu 9am to 5pm, Fri 9am to 4:30pm' / 'any time, day or night' / ''."""
    if hours == "always":
        return "any time, day or night"
    if not hours:
        return ""
    groups: List[Tuple[List[str], str]] = []
    for day in DAYS:
        if day not in hours:
            continue
        start, end = span_times(hours[day])
        text = f"{clock(start)} to {clock(end)}"
        if groups and groups[-1][1] == text and DAYS.index(groups[-1][0][-1]) == DAYS.index(day) - 1:
            groups[-1][0].append(day)
        else:
            groups.append(([day], text))
    parts = []
    for days, text in groups:
        label = _DAY_NAMES[days[0]] if len(days) == 1 else f"{_DAY_NAMES[days[0]]} to {_DAY_NAMES[days[-1]]}"
        parts.append(f"{label} {text}")
    return ", ".join(parts)
