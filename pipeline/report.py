"""The annual report (issue 4, items 5 and 6): counted coverage as CSV, XLSX and DOCX.

What counts is the database's own rule, the view `topic_decisions`: an (article, topic) pair
whose newest classification is `cited` or whose newest staff verdict is `confirmed`, and whose
newest verdict is not `rejected`; `probable` pairs that nobody rejected are added only when
asked (`include_probable`). Items without a publication date belong to no period and are never
in a report.

    from pipeline.report import counted_items, summaries, write_csv, write_xlsx, write_docx
    items = counted_items("data/pressmon.db", year=2026, topic="all")
    meta = report_meta(year=2026, topic="all")
    write_xlsx(items, "bao-cao-2026.xlsx", meta)

The CSV is the long form `outlet_id,outlet_kind,month,topic,items`; summed over its rows it
gives the same numbers as the Datasette canned query `coverage_by_document` for the period.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
from collections import Counter, defaultdict
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import click

VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")

TOPICS = ("qd1894", "ct20")
TOPIC_LABELS = {"qd1894": "Quyết định số 1894/QĐ-TTg", "ct20": "Chỉ thị số 20/CT-TTg"}
TOPIC_SHORT = {"qd1894": "QĐ 1894/QĐ-TTg", "ct20": "CT 20/CT-TTg"}
KIND_LABELS = {
    "newspaper": "Báo",
    "broadcaster": "Phát thanh – truyền hình",
    "government_portal": "Cổng thông tin điện tử",
    "commune_portal": "Cổng thông tin xã, phường",
}
TIER_LABELS = {"cited": "trích dẫn", "probable": "có khả năng", "none": "không"}
VERDICT_LABELS = {"confirmed": "đã xác nhận", "rejected": "bác bỏ", None: ""}
NO_COMMUNE = "(không nêu xã, phường)"

CSV_HEADER = ("outlet_id", "outlet_kind", "month", "topic", "items")

SHEET_OUTLET_MONTH = "Theo nguồn tin và tháng"
SHEET_KIND = "Theo loại nguồn tin"
SHEET_COMMUNE = "Theo xã phường"
SHEET_ANNEX = "Phụ lục"
TOTAL_LABEL = "Tổng cộng"
COMMUNE_NOTE = "Ghi chú: một tin, bài nêu nhiều xã, phường được đếm ở mỗi xã, phường."


# Selecting --------------------------------------------------------------------------------

def _connect_ro(db_path) -> sqlite3.Connection:
    path = Path(db_path)
    if not path.is_file():
        raise FileNotFoundError(f"no database at {path}")
    conn = sqlite3.connect(path.resolve().as_uri() + "?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    return conn


def _topics(topic: str) -> tuple[str, ...]:
    if topic in (None, "all"):
        return TOPICS
    if topic not in TOPICS:
        raise ValueError(f"topic must be qd1894, ct20 or all, not {topic!r}")
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
    return parse_date(value)


def parse_date(text: str) -> date:
    """YYYY-MM-DD, or the Vietnamese day-first D/M/YYYY (also with - or .)."""
    text = text.strip()
    try:
        if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", text):
            year, month, day = map(int, text.split("-"))
            return date(year, month, day)
        match = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})", text)
        if match:
            day, month, year = map(int, match.groups())
            return date(year, month, day)
    except ValueError as exc:
        raise ValueError(f"invalid date {text!r}: {exc}") from None
    raise ValueError(f"invalid date {text!r}: write YYYY-MM-DD or DD/MM/YYYY")


def counted_items(db_path, year: int | None = None, date_from=None, date_to=None,
                  topic: str = "all", include_probable: bool = False) -> list[dict]:
    """One dict per counted (article, topic) in the period, oldest first."""
    topics = _topics(topic)
    start, end = period_bounds(year, date_from, date_to)
    where = [f"d.topic IN ({', '.join('?' for _ in topics)})", "d.published_at IS NOT NULL"]
    params: list = list(topics)
    if include_probable:
        where.append("(d.counted = 1 OR (d.tier = 'probable' "
                     "AND coalesce(d.verdict, '') <> 'rejected'))")
    else:
        where.append("d.counted = 1")
    if start:
        where.append("substr(d.published_at, 1, 10) >= ?")
        params.append(start.isoformat())
    if end:
        where.append("substr(d.published_at, 1, 10) <= ?")
        params.append(end.isoformat())
    sql = f"""
        SELECT d.article_id, d.published_at, d.published_month AS month, d.outlet_id,
               o.name AS outlet_name, coalesce(o.kind, d.outlet_kind) AS outlet_kind,
               d.topic, d.title, d.url, d.tier, d.verdict, d.evidence, a.content_sha256
        FROM topic_decisions d
        JOIN outlets o ON o.id = d.outlet_id
        JOIN articles a ON a.id = d.article_id
        WHERE {' AND '.join(where)}
        ORDER BY d.published_at, d.outlet_id, d.article_id, d.topic"""
    conn = _connect_ro(db_path)
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
    kinds = list(KIND_LABELS)
    return (kinds.index(kind) if kind in kinds else len(kinds), kind or "")


def _pivot(rows: list[dict], keys: tuple[str, ...], topics: tuple[str, ...]) -> list[tuple[tuple, list[int]]]:
    """Rows keyed by `keys`, one count column per topic (order of first appearance)."""
    table: dict[tuple, Counter] = {}
    for row in rows:
        table.setdefault(tuple(row[k] for k in keys), Counter())[row["topic"]] += row["items"]
    return [(key, [counts[t] for t in topics]) for key, counts in table.items()]


# Labels -----------------------------------------------------------------------------------

def report_meta(year: int | None = None, date_from=None, date_to=None, topic: str = "all",
                include_probable: bool = False) -> dict:
    start, end = period_bounds(year, date_from, date_to)
    return {"year": year, "date_from": start, "date_to": end, "topic": topic or "all",
            "include_probable": include_probable,
            "generated_at": datetime.now(VIETNAM).isoformat(timespec="seconds")}


def _meta(meta: dict | None) -> dict:
    meta = dict(meta or {})
    meta.setdefault("topic", "all")
    meta.setdefault("include_probable", False)
    for key in ("date_from", "date_to"):
        meta[key] = _as_date(meta.get(key))
    return meta


def _vn_date(day: date) -> str:
    return day.strftime("%d/%m/%Y")


def period_label(meta: dict) -> str:
    """"năm 2026", or "từ ngày 01/03/2026 đến ngày 30/06/2026" for a range within a year."""
    meta = _meta(meta)
    year, start, end = meta.get("year"), meta["date_from"], meta["date_to"]
    if year and (start in (None, date(year, 1, 1))) and (end in (None, date(year, 12, 31))):
        return f"năm {year}"
    if start and end:
        return f"từ ngày {_vn_date(start)} đến ngày {_vn_date(end)}"
    if start:
        return f"từ ngày {_vn_date(start)}"
    if end:
        return f"đến ngày {_vn_date(end)}"
    return "toàn bộ thời gian"


def report_title(meta: dict) -> str:
    topics = _topics(_meta(meta)["topic"])
    documents = " và ".join(TOPIC_LABELS[t] for t in topics)
    return f"Báo cáo kết quả tuyên truyền {documents} {period_label(meta)}"


def empty_sentence(meta: dict) -> str:
    return f"Không có tin, bài nào được tính vào báo cáo {period_label(meta)}."


def summary_sentence(items: list[dict], meta: dict) -> str:
    if not items:
        return empty_sentence(meta)
    totals = summaries(items)["totals"]
    topics = _topics(_meta(meta)["topic"])
    parts = "; ".join(f"{TOPIC_LABELS[t]}: {totals['by_topic'].get(t, 0)} tin, bài" for t in topics)
    period = period_label(meta)
    return (f"{period[0].upper()}{period[1:]}, {totals['outlets']} nguồn tin đã đăng "
            f"{totals['articles']} tin, bài tuyên truyền, tổng cộng {totals['items']} lượt "
            f"tin, bài được tính ({parts}).")


def _criteria_sentence(meta: dict) -> str:
    text = ("Được tính: tin, bài trích dẫn văn bản (mức “trích dẫn”) hoặc đã được cán bộ "
            "xác nhận, trừ tin, bài đã bị bác bỏ")
    if _meta(meta)["include_probable"]:
        text += "; có cả tin, bài mức “có khả năng” chưa được cán bộ xem xét"
    return text + ". Một tin, bài liên quan cả hai văn bản được tính ở mỗi văn bản."


def _months(items: list[dict], meta: dict) -> list[str]:
    meta = _meta(meta)
    start, end = meta["date_from"], meta["date_to"]
    if start and end:
        months, y, m = [], start.year, start.month
        while (y, m) <= (end.year, end.month):
            months.append(f"{y:04d}-{m:02d}")
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        return months
    return sorted({item["month"] for item in items})


def _vn_month(month: str) -> str:
    return f"{month[5:7]}/{month[:4]}"


def _vn_datetime(published_at: str) -> str:
    return f"{published_at[8:10]}/{published_at[5:7]}/{published_at[:4]}"


# CSV --------------------------------------------------------------------------------------

def write_csv(items: list[dict], path) -> None:
    """The long form: one row per outlet, month and topic with at least one item."""
    with open(path, "w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        for row in summaries(items)["by_outlet_month"]:
            writer.writerow([row["outlet_id"], row["outlet_kind"] or "", row["month"],
                             row["topic"], row["items"]])


# XLSX -------------------------------------------------------------------------------------

def _view_tables(items: list[dict], meta: dict) -> dict[str, tuple[list[str], list[list]]]:
    """Header and body rows (without totals) of the three count views."""
    topics = _topics(_meta(meta)["topic"])
    views = summaries(items)
    topic_headers = [TOPIC_LABELS[t] for t in topics]
    outlet_month = [
        [outlet_id, name, KIND_LABELS.get(kind, kind or ""), _vn_month(month), *counts, sum(counts)]
        for (outlet_id, name, kind, month), counts in _pivot(
            views["by_outlet_month"], ("outlet_id", "outlet_name", "outlet_kind", "month"), topics)
    ]
    by_kind = [[KIND_LABELS.get(kind, kind or ""), *counts, sum(counts)]
               for (kind,), counts in _pivot(views["by_kind"], ("outlet_kind",), topics)]
    by_commune = [[commune, *counts, sum(counts)]
                  for (commune,), counts in _pivot(views["by_commune"], ("commune",), topics)]
    return {
        SHEET_OUTLET_MONTH: (["Mã nguồn tin", "Tên nguồn tin", "Loại nguồn tin", "Tháng",
                              *topic_headers, TOTAL_LABEL], outlet_month),
        SHEET_KIND: (["Loại nguồn tin", *topic_headers, TOTAL_LABEL], by_kind),
        SHEET_COMMUNE: (["Xã, phường", *topic_headers, TOTAL_LABEL], by_commune),
    }


ANNEX_HEADER = ["STT", "Ngày đăng", "Nguồn tin", "Tiêu đề", "Đường dẫn", "Văn bản", "Mức",
                "Kết luận của cán bộ", "Dấu vân tay nội dung (SHA-256)"]


def _annex_rows(items: list[dict]) -> list[list]:
    return [[n, _vn_datetime(item["published_at"]), item["outlet_name"], item["title"], item["url"],
             TOPIC_LABELS.get(item["topic"], item["topic"]), TIER_LABELS.get(item["tier"], item["tier"]),
             VERDICT_LABELS.get(item["verdict"], item["verdict"]), item["content_sha256"]]
            for n, item in enumerate(items, start=1)]


def write_xlsx(items: list[dict], path, meta: dict | None = None) -> None:
    """One sheet per view, header frozen, integer counts, a totals row under each table."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    meta = _meta(meta)
    bold = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    workbook = Workbook()
    workbook.remove(workbook.active)

    def sheet(title: str, header: list[str], rows: list[list], count_from: int | None,
              note: str | None = None, widths: dict[int, int] | None = None):
        ws = workbook.create_sheet(title)
        ws.append(header)
        for cell in ws[1]:
            cell.font = bold
            cell.fill = header_fill
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        for row in rows:
            ws.append(row)
        if not rows:
            ws.append([empty_sentence(meta)])
        if count_from is not None:
            total = [TOTAL_LABEL] + [None] * (count_from - 1)
            total += [sum(row[i] for row in rows) for i in range(count_from, len(header))]
            ws.append(total)
            for cell in ws[ws.max_row]:
                cell.font = bold
        if note:
            ws.append([note])
        ws.freeze_panes = "A2"
        for index, name in enumerate(header, start=1):
            values = [name] + [row[index - 1] for row in rows]
            width = max(len(str(v)) for v in values if v is not None) + 2
            ws.column_dimensions[get_column_letter(index)].width = (widths or {}).get(index, min(max(width, 8), 60))
        return ws

    for title, (header, rows) in _view_tables(items, meta).items():
        count_from = header.index(TOTAL_LABEL) - len(_topics(meta["topic"]))
        sheet(title, header, rows, count_from, COMMUNE_NOTE if title == SHEET_COMMUNE and rows else None)
    annex = sheet(SHEET_ANNEX, ANNEX_HEADER, _annex_rows(items), None,
                  widths={4: 60, 5: 50, 9: 66})
    for row in annex.iter_rows(min_row=2, min_col=5, max_col=5):
        cell = row[0]
        if isinstance(cell.value, str) and cell.value.startswith(("http://", "https://")):
            cell.hyperlink = cell.value
            cell.style = "Hyperlink"
    workbook.properties.title = report_title(meta)
    workbook.save(path)


# Chart ------------------------------------------------------------------------------------

def chart_png(items: list[dict], meta: dict | None = None) -> bytes:
    """Bar chart: items per month per document, Vietnamese labels, as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    meta = _meta(meta)
    topics = _topics(meta["topic"])
    months = _months(items, meta)
    by_month = summaries(items)["totals"]["by_month"]
    figure = Figure(figsize=(8, 3.8), dpi=150)
    axes = figure.subplots()
    width = 0.8 / len(topics)
    for n, topic in enumerate(topics):
        xs = [i + (n - (len(topics) - 1) / 2) * width for i in range(len(months))]
        axes.bar(xs, [by_month.get(m, {}).get(topic, 0) for m in months], width,
                 label=TOPIC_LABELS[topic])
    axes.set_xticks(range(len(months)), [_vn_month(m) for m in months],
                    rotation=45 if len(months) > 6 else 0, ha="right" if len(months) > 6 else "center")
    axes.set_xlabel("Tháng")
    axes.set_ylabel("Số tin, bài")
    axes.set_title(f"Số tin, bài tuyên truyền theo tháng và văn bản, {period_label(meta)}")
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.legend()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


# DOCX -------------------------------------------------------------------------------------

def write_docx(items: list[dict], path, meta: dict | None = None) -> None:
    """A Vietnamese report: heading, summary sentence, the count tables, chart, annex."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    meta = _meta(meta)
    document = Document()
    normal = document.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(13)
    for name in ("Title", "Heading 1"):
        style = document.styles[name]
        style.font.name = "Times New Roman"
        style.font.size = Pt(16 if name == "Title" else 14)
        style.font.bold = True
    section = document.sections[0]
    section.left_margin = section.right_margin = Cm(2)

    heading = document.add_heading(report_title(meta), level=0)
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    generated = meta.get("generated_at") or datetime.now(VIETNAM).isoformat(timespec="seconds")
    note = document.add_paragraph(
        f"Số liệu lập ngày {_vn_datetime(generated)} từ hệ thống giám sát báo chí pressmon.")
    note.alignment = WD_ALIGN_PARAGRAPH.CENTER

    document.add_heading("1. Kết quả chung", level=1)
    document.add_paragraph(summary_sentence(items, meta))
    document.add_paragraph(_criteria_sentence(meta))

    def table(header: list[str], rows: list[list], count_from: int | None, font_size: int = 11):
        t = document.add_table(rows=1, cols=len(header))
        t.style = "Table Grid"
        for cell, text in zip(t.rows[0].cells, header):
            cell.text = ""
            run = cell.paragraphs[0].add_run(str(text))
            run.bold = True
        for row in rows:
            cells = t.add_row().cells
            for cell, value in zip(cells, row):
                cell.text = "" if value is None else str(value)
        if count_from is not None and rows:
            cells = t.add_row().cells
            cells[0].text = ""
            cells[0].paragraphs[0].add_run(TOTAL_LABEL).bold = True
            for i in range(count_from, len(header)):
                cells[i].text = ""
                cells[i].paragraphs[0].add_run(str(sum(row[i] for row in rows))).bold = True
        for row in t.rows:
            for cell in row.cells:
                for paragraph in cell.paragraphs:
                    for run in paragraph.runs:
                        run.font.size = Pt(font_size)
        return t

    topics = _topics(meta["topic"])
    views = _view_tables(items, meta)
    numbered = [(SHEET_OUTLET_MONTH, "2. Số tin, bài theo nguồn tin và tháng"),
                (SHEET_KIND, "3. Số tin, bài theo loại nguồn tin"),
                (SHEET_COMMUNE, "4. Số tin, bài theo xã, phường được nêu")]
    for key, title in numbered:
        document.add_heading(title, level=1)
        header, rows = views[key]
        if key == SHEET_OUTLET_MONTH:  # the outlet id is for machines; the name is enough here
            header, rows = header[1:], [row[1:] for row in rows]
        if not rows:
            document.add_paragraph(empty_sentence(meta))
            continue
        table(header, rows, len(header) - 1 - len(topics))
        if key == SHEET_COMMUNE:
            document.add_paragraph(COMMUNE_NOTE)

    document.add_heading("5. Biểu đồ số tin, bài theo tháng", level=1)
    if items:
        document.add_picture(io.BytesIO(chart_png(items, meta)), width=Cm(16.5))
    else:
        document.add_paragraph(empty_sentence(meta))

    annex = document.add_section()
    annex.orientation = WD_ORIENT.LANDSCAPE
    annex.page_width, annex.page_height = section.page_height, section.page_width
    annex.left_margin = annex.right_margin = Cm(1.5)
    document.add_heading("Phụ lục: Danh sách tin, bài được tính", level=1)
    if items:
        table(ANNEX_HEADER, _annex_rows(items), None, font_size=9)
    else:
        document.add_paragraph(empty_sentence(meta))
    document.save(path)


# CLI --------------------------------------------------------------------------------------

WRITERS = {"csv": lambda items, path, meta: write_csv(items, path), "xlsx": write_xlsx, "docx": write_docx}


@click.command("report")
@click.option("--db", "db_path", required=True, type=click.Path(exists=True, dir_okay=False),
              help="SQLite file to report from.")
@click.option("--year", type=click.IntRange(2000, 2100), metavar="YYYY",
              help="Calendar year of publication (Asia/Ho_Chi_Minh dates).")
@click.option("--topic", type=click.Choice(["qd1894", "ct20", "all"]), default="all", show_default=True,
              help="Document: qd1894 (Quyết định 1894/QĐ-TTg), ct20 (Chỉ thị 20/CT-TTg) or both.")
@click.option("--from", "date_from", metavar="DATE",
              help="First publication day, YYYY-MM-DD or DD/MM/YYYY (inclusive; within --year if given).")
@click.option("--to", "date_to", metavar="DATE",
              help="Last publication day, YYYY-MM-DD or DD/MM/YYYY (inclusive; within --year if given).")
@click.option("--include-probable", is_flag=True,
              help="Also count 'probable' items that no reviewer has rejected.")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "docx", "csv"]), default=None,
              help="Output format (default: from the extension of -o).")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, writable=True),
              help="File to write.")
def report(db_path, year, topic, date_from, date_to, include_probable, fmt, output):
    """Write the coverage report (counts per outlet × month × document, per outlet kind, per
    commune, and an annex of every counted item) as XLSX, DOCX or CSV.

    Counted: items that cite the document or that a reviewer confirmed, never rejected ones;
    add --include-probable to count unreviewed 'probable' items too.

    \b
    Example:
      pressmon report --db data/pressmon.db --year 2026 --format docx -o bao-cao-2026.docx
      pressmon report --db data/pressmon.db --year 2026 --topic ct20 \\
          --from 2026-01-01 --to 2026-06-30 --format xlsx -o ct20-6-thang.xlsx
    """
    if fmt is None:
        fmt = Path(output).suffix.lower().lstrip(".")
        if fmt not in WRITERS:
            raise click.UsageError("pass --format xlsx|docx|csv (cannot tell it from the file name)")
    if year is None and date_from is None and date_to is None:
        raise click.UsageError("pass --year YYYY, or --from DATE and/or --to DATE")
    try:
        start = parse_date(date_from) if date_from else None
        end = parse_date(date_to) if date_to else None
        meta = report_meta(year, start, end, topic, include_probable)
    except ValueError as exc:
        raise click.ClickException(str(exc)) from exc
    try:
        items = counted_items(db_path, year, start, end, topic, include_probable)
    except sqlite3.DatabaseError as exc:
        raise click.ClickException(f"{db_path}: {exc}") from exc
    WRITERS[fmt](items, output, meta)
    if items:
        click.echo(summary_sentence(items, meta))
    else:
        click.echo(empty_sentence(meta))
    click.echo(f"{output}: {fmt}")


report_command = report
