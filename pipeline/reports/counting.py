"""What the annual report counts, and the words and tables every format shares.

What counts is the database's own rule, the view `topic_decisions`: an (article, topic) pair
whose newest classification is `cited` or whose newest staff verdict is `confirmed`, and whose
newest verdict is not `rejected`; `probable` pairs that nobody rejected are added only when
asked (`include_probable`). Items without a publication date belong to no period and are never
in a report.

    items = counted_items("pressmon.db", year=2026, topic="all")
    meta = report_meta(year=2026, topic="all")
    write_report("xlsx", items, "bao-cao-2026.xlsx", meta)      # pressmon.pipeline.reports

Summed over its rows, the CSV long form gives the same numbers as the Datasette canned query
`coverage_by_document` for the period.
"""

from __future__ import annotations

import os
from collections import Counter, defaultdict
from datetime import date, timedelta

from pressmon.crawlers.dates import now, parse_day, vn_date
from pressmon.crawlers.registry import outlet_kinds
from pressmon.nlp.documents import DOCUMENT_LABELS, TIER_LABELS, TOPICS, VERDICT_LABELS
from pressmon.pipeline.store import read_only

NO_COMMUNE = "(không nêu xã, phường)"
# Who a report says wrote it (DOCX and XLSX properties), unless --author or $PRESSMON_AUTHOR.
DEFAULT_AUTHOR = "Sở Văn hóa, Thể thao và Du lịch tỉnh Gia Lai"


# Selecting --------------------------------------------------------------------------------

def topics_of(topic: str) -> tuple[str, ...]:
    if topic in (None, "all"):
        return TOPICS
    if topic not in TOPICS:
        raise ValueError(f"topic must be {', '.join(TOPICS)} or all, not {topic!r}")
    return (topic,)


def period_bounds(year: int | None = None, date_from: date | str | None = None,
                  date_to: date | str | None = None) -> tuple[date | None, date | None]:
    """The first and last day of the period (inclusive); either may be None (open)."""
    start = _as_date(date_from)
    end = _as_date(date_to)
    if year is not None:
        year_start, year_end = date(year, 1, 1), date(year, 12, 31)
        for label, day in (("from", start), ("to", end)):
            if day is not None and not year_start <= day <= year_end:
                raise ValueError(f"--{label} {day.isoformat()} is outside --year {year}")
        start = start or year_start
        end = end or year_end
    if start and end and start > end:
        raise ValueError(f"--from {start.isoformat()} is after --to {end.isoformat()}")
    return start, end


def _as_date(value) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return parse_day(value)


def counted_items(db_path, year: int | None = None, date_from=None, date_to=None,
                  topic: str = "all", include_probable: bool = False) -> list[dict]:
    """One dict per counted (article, topic) in the period, oldest first."""
    topics = topics_of(topic)
    start, end = period_bounds(year, date_from, date_to)
    where = [f"d.topic IN ({', '.join('?' for _ in topics)})", "d.published_at IS NOT NULL"]
    params: list = list(topics)
    if include_probable:
        where.append("(d.counted = 1 OR (d.tier = 'probable' "
                     "AND coalesce(d.verdict, '') <> 'rejected'))")
    else:
        where.append("d.counted = 1")
    # Plain comparisons of the ISO text, so that the index on published_at finds the period:
    # every date of a day sorts between "YYYY-MM-DD" and the next day's.
    if start:
        where.append("d.published_at >= ?")
        params.append(start.isoformat())
    if end:
        where.append("d.published_at < ?")
        params.append((end + timedelta(days=1)).isoformat())
    sql = f"""
        SELECT d.article_id, d.published_at, d.published_month AS month, d.outlet_id,
               o.name AS outlet_name, coalesce(o.kind, d.outlet_kind) AS outlet_kind,
               d.topic, d.title, d.url, d.tier, d.verdict, d.evidence, a.content_sha256
        FROM topic_decisions d
        JOIN outlets o ON o.id = d.outlet_id
        JOIN articles a ON a.id = d.article_id
        WHERE {' AND '.join(where)}
        ORDER BY d.published_at, d.outlet_id, d.article_id, d.topic"""
    conn = read_only(db_path)
    try:
        rows = [dict(row) for row in conn.execute(sql, params)]
        places: dict[int, list[str]] = defaultdict(list)
        ids = sorted({row["article_id"] for row in rows})
        for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
            for article_id, name in conn.execute(
                "SELECT DISTINCT article_id, commune_name FROM article_places "
                f"WHERE article_id IN ({', '.join('?' for _ in chunk)}) "
                "ORDER BY article_id, commune_name", chunk):
                places[article_id].append(name)
    finally:
        conn.close()
    for row in rows:
        row["month"] = row["month"] or row["published_at"][:7]
        row["communes"] = places.get(row["article_id"], [])
    return rows


# Summaries --------------------------------------------------------------------------------

def summaries(items: list[dict]) -> dict:
    """Counts of items (article × topic pairs) per view.

    by_outlet_month: [{outlet_id, outlet_name, outlet_kind, month, topic, items}]
    by_kind:         [{outlet_kind, topic, items}]
    by_commune:      [{commune, topic, items}] — an item naming two communes counts in both;
                     items naming none are under NO_COMMUNE
    totals:          {items, articles, outlets, by_topic: {topic: n}, by_month: {month: {topic: n}}}
    """
    outlet_month: Counter = Counter()
    names: dict[str, tuple[str, str]] = {}
    kind: Counter = Counter()
    commune: Counter = Counter()
    by_topic: Counter = Counter()
    by_month: dict[str, Counter] = defaultdict(Counter)
    for item in items:
        outlet_month[(item["outlet_id"], item["month"], item["topic"])] += 1
        names[item["outlet_id"]] = (item["outlet_name"], item["outlet_kind"])
        kind[(item["outlet_kind"] or "", item["topic"])] += 1
        for name in item["communes"] or [NO_COMMUNE]:
            commune[(name, item["topic"])] += 1
        by_topic[item["topic"]] += 1
        by_month[item["month"]][item["topic"]] += 1
    return {
        "by_outlet_month": [
            {"outlet_id": o, "outlet_name": names[o][0], "outlet_kind": names[o][1],
             "month": m, "topic": t, "items": n}
            for (o, m, t), n in sorted(outlet_month.items(), key=lambda kv: (kv[0][0], kv[0][1], _topic_order(kv[0][2])))
        ],
        "by_kind": [{"outlet_kind": k or None, "topic": t, "items": n}
                    for (k, t), n in sorted(kind.items(), key=lambda kv: (_kind_order(kv[0][0]), _topic_order(kv[0][1])))],
        "by_commune": [{"commune": c, "topic": t, "items": n}
                       for (c, t), n in sorted(commune.items(), key=lambda kv: (kv[0][0] == NO_COMMUNE, kv[0][0], _topic_order(kv[0][1])))],
        "totals": {
            "items": len(items),
            "articles": len({item["article_id"] for item in items}),
            "outlets": len(names),
            "by_topic": {t: by_topic[t] for t in TOPICS if by_topic[t]},
            "by_month": {m: dict(c) for m, c in sorted(by_month.items())},
        },
    }


def _topic_order(topic: str) -> int:
    return TOPICS.index(topic) if topic in TOPICS else len(TOPICS)


def _kind_order(kind: str) -> tuple[int, str]:
    kinds = list(outlet_kinds())
    return (kinds.index(kind) if kind in kinds else len(kinds), kind or "")


def _pivot(rows: list[dict], keys: tuple[str, ...], topics: tuple[str, ...]) -> list[tuple[tuple, list[int]]]:
    """Rows keyed by `keys`, one count column per topic (order of first appearance)."""
    table: dict[tuple, Counter] = {}
    for row in rows:
        table.setdefault(tuple(row[k] for k in keys), Counter())[row["topic"]] += row["items"]
    return [(key, [counts[t] for t in topics]) for key, counts in table.items()]


# Labels -----------------------------------------------------------------------------------

def report_meta(year: int | None = None, date_from=None, date_to=None, topic: str = "all",
                include_probable: bool = False, author: str | None = None) -> dict:
    start, end = period_bounds(year, date_from, date_to)
    return {"year": year, "date_from": start, "date_to": end, "topic": topic or "all",
            "include_probable": include_probable, "generated_at": now(),
            "author": author or os.environ.get("PRESSMON_AUTHOR") or DEFAULT_AUTHOR}


def full_meta(meta: dict | None) -> dict:
    """`meta` with every key a writer reads, filled in as report_meta would."""
    meta = dict(meta or {})
    meta.setdefault("topic", "all")
    meta.setdefault("include_probable", False)
    meta.setdefault("generated_at", now())
    meta.setdefault("author", os.environ.get("PRESSMON_AUTHOR") or DEFAULT_AUTHOR)
    for key in ("date_from", "date_to"):
        meta[key] = _as_date(meta.get(key))
    return meta


def period_label(meta: dict) -> str:
    """"năm 2026", or "từ ngày 01/03/2026 đến ngày 30/06/2026" for a range within a year."""
    meta = full_meta(meta)
    year, start, end = meta.get("year"), meta["date_from"], meta["date_to"]
    if year and (start in (None, date(year, 1, 1))) and (end in (None, date(year, 12, 31))):
        return f"năm {year}"
    if start and end:
        return f"từ ngày {vn_date(start)} đến ngày {vn_date(end)}"
    if start:
        return f"từ ngày {vn_date(start)}"
    if end:
        return f"đến ngày {vn_date(end)}"
    return "toàn bộ thời gian"


def report_title(meta: dict) -> str:
    topics = topics_of(full_meta(meta)["topic"])
    documents = " và ".join(DOCUMENT_LABELS[t] for t in topics)
    return f"Báo cáo kết quả tuyên truyền {documents} {period_label(meta)}"


def empty_sentence(meta: dict) -> str:
    return f"Không có tin, bài nào được tính vào báo cáo {period_label(meta)}."


def summary_sentence(items: list[dict], meta: dict) -> str:
    if not items:
        return empty_sentence(meta)
    totals = summaries(items)["totals"]
    topics = topics_of(full_meta(meta)["topic"])
    parts = "; ".join(f"{DOCUMENT_LABELS[t]}: {totals['by_topic'].get(t, 0)} tin, bài" for t in topics)
    period = period_label(meta)
    return (f"{period[0].upper()}{period[1:]}, {totals['outlets']} nguồn tin đã đăng "
            f"{totals['articles']} tin, bài tuyên truyền, tổng cộng {totals['items']} lượt "
            f"tin, bài được tính ({parts}).")


def criteria_sentence(meta: dict) -> str:
    text = ("Được tính: tin, bài trích dẫn văn bản (mức “trích dẫn”) hoặc đã được cán bộ "
            "xác nhận, trừ tin, bài đã bị bác bỏ")
    if full_meta(meta)["include_probable"]:
        text += "; có cả tin, bài mức “có khả năng” chưa được cán bộ xem xét"
    return text + ". Một tin, bài liên quan cả hai văn bản được tính ở mỗi văn bản."


def months(items: list[dict], meta: dict) -> list[str]:
    meta = full_meta(meta)
    start, end = meta["date_from"], meta["date_to"]
    if start and end:
        months, y, m = [], start.year, start.month
        while (y, m) <= (end.year, end.month):
            months.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return months
    return sorted({item["month"] for item in items})


# The tables every format shows ----------------------------------------------------------------

SHEET_OUTLET_MONTH = "Theo nguồn tin và tháng"
SHEET_KIND = "Theo loại nguồn tin"
SHEET_COMMUNE = "Theo xã phường"
SHEET_ANNEX = "Phụ lục"
TOTAL_LABEL = "Tổng cộng"
COMMUNE_NOTE = "Ghi chú: một tin, bài nêu nhiều xã, phường được đếm ở mỗi xã, phường."
# The columns that hold a month or a day: a date object, which each writer shows its own way.
MONTH_COLUMN = "Tháng"
DAY_COLUMN = "Ngày đăng"
ANNEX_HEADER = ["STT", DAY_COLUMN, "Nguồn tin", "Tiêu đề", "Đường dẫn", "Văn bản", "Mức",
                "Kết luận của cán bộ", "Dấu vân tay nội dung (SHA-256)"]


def month_start(month: str) -> date:
    """"2026-03" → date(2026, 3, 1): a month as a value a spreadsheet can sort and format."""
    return date(int(month[:4]), int(month[5:7]), 1)


def view_tables(items: list[dict], meta: dict) -> dict[str, tuple[list[str], list[list]]]:
    """Header and body rows (without totals) of the three count views; months as the date of
    their first day."""
    topics = topics_of(full_meta(meta)["topic"])
    views = summaries(items)
    kinds = outlet_kinds()
    topic_headers = [DOCUMENT_LABELS[t] for t in topics]
    outlet_month = [
        [outlet_id, name, kinds.get(kind, kind or ""), month_start(month), *counts, sum(counts)]
        for (outlet_id, name, kind, month), counts in _pivot(
            views["by_outlet_month"], ("outlet_id", "outlet_name", "outlet_kind", "month"), topics)
    ]
    by_kind = [[kinds.get(kind, kind or ""), *counts, sum(counts)]
               for (kind,), counts in _pivot(views["by_kind"], ("outlet_kind",), topics)]
    by_commune = [[commune, *counts, sum(counts)]
                  for (commune,), counts in _pivot(views["by_commune"], ("commune",), topics)]
    return {
        SHEET_OUTLET_MONTH: (["Mã nguồn tin", "Tên nguồn tin", "Loại nguồn tin", MONTH_COLUMN,
                              *topic_headers, TOTAL_LABEL], outlet_month),
        SHEET_KIND: (["Loại nguồn tin", *topic_headers, TOTAL_LABEL], by_kind),
        SHEET_COMMUNE: (["Xã, phường", *topic_headers, TOTAL_LABEL], by_commune),
    }


def annex_rows(items: list[dict]) -> list[list]:
    """One row per counted item, ANNEX_HEADER's columns; the day as a date."""
    return [[n, date.fromisoformat(item["published_at"][:10]), item["outlet_name"], item["title"], item["url"],
             DOCUMENT_LABELS.get(item["topic"], item["topic"]), TIER_LABELS.get(item["tier"], item["tier"]),
             VERDICT_LABELS.get(item["verdict"], item["verdict"] or ""), item["content_sha256"]]
            for n, item in enumerate(items, start=1)]
