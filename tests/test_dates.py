import pytest

from pressmon.crawlers.dates import parse_date


@pytest.mark.parametrize("raw, expected", [
    ("2025-09-04T14:30:00+07:00", "2025-09-04T14:30:00+07:00"),
    ("2025-09-04T07:30:00Z", "2025-09-04T14:30:00+07:00"),
    ("2025-09-04T14:30:00", "2025-09-04T14:30:00+07:00"),
    ("2025-09-04", "2025-09-04T00:00:00+07:00"),
    ("04/09/2025 14:30", "2025-09-04T14:30:00+07:00"),
    ("Thứ Năm, 04/09/2025 14:30", "2025-09-04T14:30:00+07:00"),
    ("Thứ Hai, 01/09/2025 - 08:15 (GMT+7)", "2025-09-01T08:15:00+07:00"),
    ("14:30 04/09/2025", "2025-09-04T14:30:00+07:00"),
    ("4/9/2025", "2025-09-04T00:00:00+07:00"),
    ("22/6/2018", "2018-06-22T00:00:00+07:00"),
    ("Thu, 04 Sep 2025 14:30:00 +0700", "2025-09-04T14:30:00+07:00"),
])
def test_formats_outlets_use(raw, expected):
    assert parse_date(raw) == expected


@pytest.mark.parametrize("raw", [
    None, "", "hôm qua", "31/02/2025", "2025-13-01",
    # prose dates are not publication dates: two of them, or no year, are refused
    "ngày 1-7-2025 và 2-7-2025", "chiều 27-1", "Cập nhật 10:15 và 11:20 ngày 4/9/2025",
])
def test_unreadable_dates_give_none_not_a_guess(raw):
    assert parse_date(raw) is None
