"""Publication dates as Vietnamese outlets write them, to ISO 8601 with the +07:00 offset.

Only the date markup of a page is parsed (meta tags, the page's time element, JSON-LD):
dates in the prose ("ngày 1-7-2025", "chiều 27-1") are never publication dates, and a text
that cannot be read returns None rather than a guess.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

VIETNAM = timezone(timedelta(hours=7))

_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$")
# "Thứ Năm, 04/09/2025 14:30", "04/09/2025 - 14:30", "4/9/2025", "14:30 04/09/2025",
# "Thứ Hai, 01/09/2025 - 08:15 (GMT+7)"
_DMY = re.compile(r"(?<!\d)(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})(?!\d)")
_HM = re.compile(r"(?<![\d/])(\d{1,2})[:hg](\d{2})(?::(\d{2}))?(?![\d/])")
_RFC822 = "%a, %d %b %Y %H:%M:%S %z"


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


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=VIETNAM)
    return moment.astimezone(VIETNAM).replace(microsecond=0).isoformat()
