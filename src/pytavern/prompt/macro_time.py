"""SillyTavern's time macros: ``{{time}}``, ``{{datetimeformat ...}}``, ``{{timeDiff::a::b}}``...

SillyTavern formats with moment.js; :func:`format_moment` implements the common moment.js
format tokens and :func:`parse_moment` the date strings ``moment(text)`` reads (ISO 8601,
RFC 2822 and what ``{{date}}``/``{{time}}`` print), so the macros need no JavaScript.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo
from email.utils import parsedate_to_datetime

_I = re.IGNORECASE
INVALID_DATE = "Invalid date"
"""What moment.js prints for an unreadable date (``timeDiff`` of a date it cannot parse)."""


def substitute_time(text: str, now: datetime, idle_since: datetime | None) -> str:
    """The time macros of ``text`` replaced, in SillyTavern's order, at the clock ``now``."""
    hour = now.hour % 12 or 12
    values = {
        "time": f"{hour}:{now.minute:02d} {'AM' if now.hour < 12 else 'PM'}",
        "date": f"{now:%B} {now.day}, {now.year}",
        "weekday": f"{now:%A}",
        "isotime": f"{now:%H:%M}",
        "isodate": f"{now:%Y-%m-%d}",
    }
    for name, value in values.items():
        text = re.sub("{{" + name + "}}", value, text, flags=_I)
    text = re.sub(
        r"{{datetimeformat +([^}]*)}}", lambda m: format_moment(now, m[1]), text, flags=_I
    )
    idle = humanize(now - idle_since) if idle_since else "just now"
    text = re.sub(r"{{idle_duration}}", lambda _m: idle, text, flags=_I)

    def utc(m: re.Match[str]) -> str:
        return format_moment(now.astimezone(UTC) + timedelta(hours=int(m[1])), "h:mm A")

    text = re.sub(r"{{time_UTC([-+]\d+)}}", utc, text, flags=_I)
    zone = now.tzinfo or UTC
    return re.sub(
        r"{{timeDiff::(.*?)::(.*?)}}", lambda m: time_diff(m[1], m[2], zone), text, flags=_I
    )


_TOKEN = re.compile(
    r"\[([^\]]*)\]|YYYY|YY|MMMM|MMM|MM|M|Do|DDDD|DDD|DD|D|dddd|ddd|HH|H|hh|h|mm|m|ss|s|A|a"
)


def _ordinal(n: int) -> str:
    if n % 100 in (11, 12, 13):
        return f"{n}th"
    return f"{n}{ {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th') }"


def _token_values(t: datetime) -> dict[str, str]:
    h12 = t.hour % 12 or 12
    day_of_year = t.timetuple().tm_yday
    return {
        "YYYY": f"{t.year:04d}",
        "YY": f"{t.year % 100:02d}",
        "MMMM": f"{t:%B}",
        "MMM": f"{t:%b}",
        "MM": f"{t.month:02d}",
        "M": str(t.month),
        "Do": _ordinal(t.day),
        "DDDD": f"{day_of_year:03d}",
        "DDD": str(day_of_year),
        "DD": f"{t.day:02d}",
        "D": str(t.day),
        "dddd": f"{t:%A}",
        "ddd": f"{t:%a}",
        "HH": f"{t.hour:02d}",
        "H": str(t.hour),
        "hh": f"{h12:02d}",
        "h": str(h12),
        "mm": f"{t.minute:02d}",
        "m": str(t.minute),
        "ss": f"{t.second:02d}",
        "s": str(t.second),
        "A": "AM" if t.hour < 12 else "PM",
        "a": "am" if t.hour < 12 else "pm",
    }


def format_moment(t: datetime, fmt: str) -> str:
    """``t`` formatted like moment.js ``format(fmt)`` (English locale).

    Supported tokens: ``YYYY YY MMMM MMM MM M Do DDDD DDD DD D dddd ddd HH H hh h mm m ss s
    A a``; ``[text]`` is printed as is; any other character is kept.
    """
    values = _token_values(t)
    return _TOKEN.sub(lambda m: m[1] if m[1] is not None else values[m[0]], fmt)


_US_DATE = re.compile(
    r"([A-Za-z]+)\.? +(\d{1,2}),? +(\d{4})(?:,? +(\d{1,2}):(\d\d)(?::(\d\d))? *([AaPp][Mm])?)?"
)


_MONTHS = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)


def _month(word: str) -> int | None:
    """The month number of an English month name or its abbreviation (3 letters or more)."""
    word = word.lower()
    if len(word) < 3:
        return None
    return next((i for i, name in enumerate(_MONTHS, 1) if name.startswith(word)), None)


def _us_date(text: str) -> datetime | None:
    """``September 28, 2024`` or ``September 28, 2024 3:05 PM`` (``{{date}} {{time}}``)."""
    m = _US_DATE.fullmatch(text)
    if m is None:
        return None
    month = _month(m[1])
    if month is None:
        return None
    hour = int(m[4] or 0)
    if m[7]:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if m[7].lower() == "pm" else 0)
    try:
        return datetime(int(m[3]), month, int(m[2]), hour, int(m[5] or 0), int(m[6] or 0))
    except ValueError:
        return None


def parse_moment(text: str, zone: tzinfo = UTC) -> datetime | None:
    """The date ``moment(text)`` reads, or ``None``; dates without a zone are in ``zone``."""
    text = text.strip()
    if not text:
        return None
    parsed: datetime | None = None
    try:
        parsed = datetime.fromisoformat(text + "-01" if re.fullmatch(r"\d{4}-\d\d", text) else text)
    except ValueError:
        parsed = _us_date(text)
        if parsed is None:
            try:
                parsed = parsedate_to_datetime(text)
            except (TypeError, ValueError):
                return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=zone)


def time_diff(first: str, second: str, zone: tzinfo = UTC) -> str:
    """``{{timeDiff::first::second}}``: moment's ``duration(first - second).humanize(true)``
    ("in 2 days", "3 hours ago"; "Invalid date" when either date cannot be read)."""
    a, b = parse_moment(first, zone), parse_moment(second, zone)
    if a is None or b is None:
        return INVALID_DATE
    delta = a - b
    words = humanize(delta)
    return f"in {words}" if delta > timedelta(0) else f"{words} ago"


def humanize(delta: timedelta) -> str:
    """Describe a duration the way moment.js ``humanize()`` does ("5 minutes", "a day")."""
    s = abs(delta.total_seconds())
    m, h, d = s / 60, s / 3600, s / 86400
    steps: list[tuple[bool, str, float]] = [
        (s < 45, "a few seconds", 0),
        (s < 90, "a minute", 0),
        (m < 45, "{} minutes", m),
        (m < 90, "an hour", 0),
        (h < 22, "{} hours", h),
        (h < 36, "a day", 0),
        (d < 26, "{} days", d),
        (d < 45, "a month", 0),
        (d < 320, "{} months", d / 30.4),
        (d < 548, "a year", 0),
    ]
    for cond, words, n in steps:
        if cond:
            return words.format(round(n))
    return f"{round(d / 365)} years"
