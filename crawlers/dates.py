"""Vietnam time, for the whole of pressmon: the zone, reading dates as pages and people write
them, stamping now, and writing dates the Vietnamese way.

Every stored time is ISO 8601 with the +07:00 offset (Asia/Ho_Chi_Minh has had no daylight
saving since 1975). It lives here, beside the page-date parser, because the crawler is where
dates enter the system and the store, reports and site all depend on the crawler package,
never the other way round.

Only the date markup of a page is parsed (meta tags, the page's time element, JSON-LD):
dates in the prose ("ngày 1-7-2025", "chiều 27-1") are never publication dates, and a text
that cannot be read returns None rather than a guess.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone

TIMEZONE_NAME = "Asia/Ho_Chi_Minh"
VIETNAM = timezone(timedelta(hours=7), "+07")

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")
# "Thứ Năm, 04/09/2025 14:30", "04/09/2025 - 14:30", "4/9/2025", "14:30 04/09/2025",
# "Thứ Hai, 01/09/2025 - 08:15 (GMT+7)"
_DMY = re.compile(r"(?<!\d)(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?!\d)")
_HM = re.compile(r"(?<![\d/])(\d{1,2})[:hg](\d{2})(?::(\d{2}))?(?![\d/])")
_RFC822 = "%a, %d %b %Y %H:%M:%S %z"
_ISO_DAY = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")


def now() -> str:
    """The current time in Vietnam, ISO 8601 to the second: 2025-09-04T14:30:00+07:00."""
    return datetime.now(VIETNAM).isoformat(timespec="seconds")


def parse_date(raw: str | None) -> str | None:
    """ISO 8601 with +07:00 for a date the page's markup gives, or None."""
    if not raw:
        return None
    text = " ".join(raw.split())
    try:
        if _ISO.match(text):
            return _iso(datetime.fromisoformat(text.replace("Z", "+00:00")))
        if re.match(r"^[A-Z][a-z]{2}, \d", text):
            return _iso(datetime.strptime(text, _RFC822))
    except ValueError:
        return None
    dates = _DMY.findall(text)
    if len(dates) != 1:
        return None
    day, month, year = (int(x) for x in dates[0])
    rest = _DMY.sub(" ", text)
    times = _HM.findall(rest)
    hour = minute = second = 0
    if len(times) == 1:
        hour, minute = int(times[0][0]), int(times[0][1])
        second = int(times[0][2] or 0)
    elif len(times) > 1:
        return None
    try:
        return _iso(datetime(year, month, day, hour, minute, second))
    except ValueError:
        return None


def parse_day(text: str) -> date:
    """A day a person typed: YYYY-MM-DD, or the Vietnamese day-first DD/MM/YYYY (also with
    - or .). Raises ValueError with a message fit to show them."""
    text = text.strip()
    iso = _ISO_DAY.fullmatch(text)
    dmy = _DMY.fullmatch(text)
    try:
        if iso:
            return date(*map(int, iso.groups()))
        if dmy:
            day, month, year = map(int, dmy.groups())
            return date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"{text!r} is not a valid day: {exc}") from None
    raise ValueError(f"{text!r} is not a day: write YYYY-MM-DD or DD/MM/YYYY")


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VIETNAM)
    return moment.astimezone(VIETNAM).replace(microsecond=0).isoformat()


# Written the Vietnamese way ------------------------------------------------------------------

def vn_date(day: date | str) -> str:
    """date(2026, 3, 1) or "2026-03-01T…" → "01/03/2026"."""
    if isinstance(day, str):
        day = date.fromisoformat(day[:10])
    return day.strftime("%d/%m/%Y")


def vn_month(month: str) -> str:
    """"2026-03" → "03/2026"."""
    return f"{month[5:7]}/{month[:4]}"


def vn_datetime(value: str | None) -> str | None:
    """"2025-09-04T14:30:00+07:00" → "14:30 04/09/2025"; a date alone → "04/09/2025";
    anything else is returned as it is."""
    if not value:
        return None
    match = re.match(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2}))?", value)
    if not match:
        return value
    year, month, day, hour, minute = match.groups()
    return f"{hour}:{minute} {day}/{month}/{year}" if hour is not None else f"{day}/{month}/{year}"
