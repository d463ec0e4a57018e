"""The annual report (pipeline/reports/): counted items, the CSV long form, XLSX, DOCX and the
`report` command agree with a hand-computed expectation and with Datasette's canned query; the
office files are A4, Vietnamese, the department's, with real dates."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from pressmon.pipeline.cli.reports import report
from pressmon.pipeline.reports.counting import (DEFAULT_AUTHOR, SHEET_ANNEX, SHEET_COMMUNE, SHEET_KIND,
                                                SHEET_OUTLET_MONTH, TOTAL_LABEL, counted_items, empty_sentence,
                                                report_meta, report_title, summaries)
from pressmon.pipeline.reports.csv_report import CSV_HEADER, write_csv
from pressmon.pipeline.reports.docx_report import write_docx
from pressmon.pipeline.reports.xlsx_report import write_xlsx
from pressmon.pipeline.publish import make_datasette
from pressmon.pipeline.store import Store

OUTLETS = [
    {"id": "baogialai", "name": "Báo Gia Lai", "kind": "newspaper", "family": "zce",
     "domain": "baogialai.com.vn", "home_url": "https://baogialai.com.vn/", "language": "vi"},
    {"id": "gialaitv", "name": "Đài PT-TH Gia Lai", "kind": "broadcaster", "family": "gltv",
     "domain": "gialaitv.vn", "home_url": "https://gialaitv.vn/", "language": "vi"},
    {"id": "xa-dak-doa", "name": "Cổng TTĐT xã Đak Đoa", "kind": "commune_portal", "family": "govportal",
     "domain": "dakdoa.gialai.gov.vn", "home_url": "https://dakdoa.gialai.gov.vn/", "language": "vi"},
]

DAK_DOA = {"commune_code": "24100", "commune_name": "Xã Đak Đoa", "division_type": "xã"}
PLEIKU = {"commune_code": "23563", "commune_name": "Phường Pleiku", "division_type": "phường"}

# key: (outlet, published_at, qd1894 tier, ct20 tier, communes)
ARTICLES = {
    "a1": ("baogialai", "2026-01-15T08:00:00+07:00", "cited", "none", [DAK_DOA]),
    "a2": ("baogialai", "2026-01-20T09:00:00+07:00", "none", "cited", []),
    "a12": ("baogialai", "2026-01-28T10:00:00+07:00", "cited", "none", []),
    "a3": ("baogialai", "2026-03-05T07:30:00+07:00", "cited", "cited", [PLEIKU, DAK_DOA, DAK_DOA]),
    "a4": ("gialaitv", "2026-03-10T18:00:00+07:00", "probable", "none", []),    # qd1894 confirmed
    "a5": ("gialaitv", "2026-04-01T18:00:00+07:00", "none", "cited", []),       # ct20 rejected
    "a6": ("gialaitv", "2026-04-02T18:00:00+07:00", "none", "probable", [PLEIKU]),  # unreviewed
    "a7": ("xa-dak-doa", "2026-06-30T23:30:00+07:00", "none", "cited", [DAK_DOA]),
    "a8": ("xa-dak-doa", "2026-07-01T08:00:00+07:00", "none", "none", []),
    "a9": ("baogialai", "2025-12-31T20:00:00+07:00", "cited", "none", []),      # another year
    "a10": ("baogialai", "2026-11-11T08:00:00+07:00", "probable", "none", []),  # qd1894 rejected
    "a11": ("gialaitv", "2026-09-09T08:00:00+07:00", "none", "none", []),       # ct20 confirmed
}
VERDICTS = [("a4", "qd1894", "confirmed"), ("a5", "ct20", "rejected"),
            ("a10", "qd1894", "rejected"), ("a11", "ct20", "confirmed")]

# Worked out by hand from the table above: year 2026, both documents, no probable items.
EXPECTED_CSV = [
    ["baogialai", "newspaper", "2026-01", "qd1894", "2"],   # a1, a12
    ["baogialai", "newspaper", "2026-01", "ct20", "1"],     # a2
    ["baogialai", "newspaper", "2026-03", "qd1894", "1"],   # a3
    ["baogialai", "newspaper", "2026-03", "ct20", "1"],     # a3
    ["gialaitv", "broadcaster", "2026-03", "qd1894", "1"],  # a4 confirmed
    ["gialaitv", "broadcaster", "2026-09", "ct20", "1"],    # a11 confirmed
    ["xa-dak-doa", "commune_portal", "2026-06", "ct20", "1"],  # a7
]
EXPECTED_TOTAL = 8          # (article, topic) pairs
EXPECTED_ARTICLES = 7       # a1 a2 a12 a3 a4 a7 a11
EXPECTED_BY_TOPIC = {"qd1894": 4, "ct20": 4}


def _decision(tier: str) -> dict:
    evidence = [{"text": "Quyết định số 1894/QĐ-TTg"}] if tier == "cited" else []
    return {"tier": tier, "probability": {"cited": 0.99, "probable": 0.7, "none": 0.05}[tier],
            "evidence": evidence}


def _places(communes: list[dict]) -> list[dict]:
    return [{**c, "field": "body", "start": 10 * i, "end": 10 * i + 5, "text": c["commune_name"]}
            for i, c in enumerate(communes)]


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, dict[str, int]]:
    path = tmp_path_factory.mktemp("report") / "pressmon.db"
    ids = {}
    with Store(path) as store:
        store.sync_outlets(OUTLETS)
        for key, (outlet, published_at, qd, ct, communes) in ARTICLES.items():
            item = {"url": f"https://{outlet}.example.vn/{key}.html", "outlet_id": outlet,
                    "title": f"Tin tuyên truyền {key} về bảo vệ môi trường", "lead": "Sa-pô.",
                    "body": f"Nội dung {key}.", "published_at": published_at,
                    "media_kind": "text", "language": "vi"}
            store.save_article("run1", item, classification={
                "model_version": "m1", "topics": {"qd1894": _decision(qd), "ct20": _decision(ct)}},
                places=_places(communes))
            ids[key] = store.db.execute("SELECT id FROM articles WHERE url = ?", [item["url"]]).fetchone()[0]
        for key, topic, verdict in VERDICTS:
            store.add_verdict(ids[key], topic, verdict, "chị Hà")
    return path, ids


@pytest.fixture
def db_path(built) -> Path:
    return built[0]


def read_csv(path: Path) -> list[list[str]]:
    with open(path, encoding="utf-8", newline="") as file:
        return list(csv.reader(file))


# Selection ---------------------------------------------------------------------------------

def test_counted_items_fields_and_rule(db_path, built):
    ids = built[1]
    items = counted_items(db_path, year=2026)
    pairs = {(item["article_id"], item["topic"]) for item in items}
    expected = {(ids[k], t) for k, t in [("a1", "qd1894"), ("a2", "ct20"), ("a12", "qd1894"),
                                        ("a3", "qd1894"), ("a3", "ct20"), ("a4", "qd1894"),
                                        ("a7", "ct20"), ("a11", "ct20")]}
    assert pairs == expected
    a3 = next(item for item in items if item["article_id"] == ids["a3"])
    assert a3["communes"] == ["Phường Pleiku", "Xã Đak Đoa"]  # distinct
    assert a3["outlet_name"] == "Báo Gia Lai" and a3["outlet_kind"] == "newspaper"
    assert a3["month"] == "2026-03" and a3["tier"] == "cited" and a3["verdict"] is None
    assert len(a3["content_sha256"]) == 64 and a3["evidence"].startswith("[")
    a4 = next(item for item in items if item["article_id"] == ids["a4"])
    assert (a4["tier"], a4["verdict"]) == ("probable", "confirmed")
    assert {"published_at", "url", "title", "outlet_id"} <= a4.keys()


def test_include_probable_adds_only_the_unreviewed_probable(db_path, built):
    ids = built[1]
    plain = counted_items(db_path, year=2026)
    wider = counted_items(db_path, year=2026, include_probable=True)
    added = [(i["article_id"], i["topic"]) for i in wider if i not in plain]
    assert added == [(ids["a6"], "ct20")]  # a10 was rejected: still out


def test_topic_and_range_filters(db_path, built):
    ids = built[1]
    assert {i["topic"] for i in counted_items(db_path, year=2026, topic="ct20")} == {"ct20"}
    assert len(counted_items(db_path, year=2026, topic="qd1894")) == 4
    spring = counted_items(db_path, year=2026, date_from="2026-03-01", date_to="30/06/2026")
    # a7 at 23:30 on 30 June (Vietnam time) is inside the range.
    assert sorted((i["article_id"], i["topic"]) for i in spring) == sorted(
        [(ids["a3"], "qd1894"), (ids["a3"], "ct20"), (ids["a4"], "qd1894"), (ids["a7"], "ct20")])
    assert [i["article_id"] for i in counted_items(db_path, year=2025)] == [ids["a9"]]


def test_summaries(db_path):
    views = summaries(counted_items(db_path, year=2026))
    assert views["totals"]["items"] == EXPECTED_TOTAL
    assert views["totals"]["articles"] == EXPECTED_ARTICLES
    assert views["totals"]["outlets"] == 3
    assert views["totals"]["by_topic"] == EXPECTED_BY_TOPIC
    kinds = {(r["outlet_kind"], r["topic"]): r["items"] for r in views["by_kind"]}
    assert kinds == {("newspaper", "qd1894"): 3, ("newspaper", "ct20"): 2,
                     ("broadcaster", "qd1894"): 1, ("broadcaster", "ct20"): 1,
                     ("commune_portal", "ct20"): 1}
    communes = {(r["commune"], r["topic"]): r["items"] for r in views["by_commune"]}
    assert communes[("Xã Đak Đoa", "qd1894")] == 2      # a1, a3
    assert communes[("Xã Đak Đoa", "ct20")] == 2        # a3, a7
    assert communes[("Phường Pleiku", "ct20")] == 1     # a3
    assert sum(r["items"] for r in views["by_outlet_month"]) == EXPECTED_TOTAL


# CSV ---------------------------------------------------------------------------------------

def test_csv_equals_hand_computed(db_path, tmp_path):
    out = tmp_path / "r.csv"
    write_csv(counted_items(db_path, year=2026), out)
    rows = read_csv(out)
    assert out.read_text(encoding="utf-8").splitlines()[0] == "outlet_id,outlet_kind,month,topic,items"
    assert tuple(rows[0]) == CSV_HEADER
    assert rows[1:] == EXPECTED_CSV


async def test_csv_equals_datasette_canned_query(db_path, tmp_path):
    out = tmp_path / "r.csv"
    write_csv(counted_items(db_path, year=2026), out)
    from_csv = Counter()
    for outlet_id, kind, month, topic, items in read_csv(out)[1:]:
        from_csv[(outlet_id, kind, month, topic)] += int(items)
    ds = make_datasette(db_path, public=True)
    response = await ds.client.get(f"/{db_path.stem}/coverage_by_document.json?_shape=array")
    assert response.status_code == 200
    from_datasette = Counter()
    for row in response.json():
        if (row["published_month"] or "").startswith("2026"):
            from_datasette[(row["outlet_id"], row["outlet_kind"], row["published_month"], row["topic"])] += row["items"]
    assert from_csv == from_datasette
    assert sum(from_csv.values()) == EXPECTED_TOTAL


# XLSX --------------------------------------------------------------------------------------

def test_xlsx(db_path, tmp_path):
    from openpyxl import load_workbook

    items = counted_items(db_path, year=2026)
    out = tmp_path / "r.xlsx"
    write_xlsx(items, out, report_meta(year=2026))
    wb = load_workbook(out)
    assert wb.sheetnames == [SHEET_OUTLET_MONTH, SHEET_KIND, SHEET_COMMUNE, SHEET_ANNEX]

    ws = wb[SHEET_OUTLET_MONTH]
    header = [c.value for c in ws[1]]
    assert header == ["Mã nguồn tin", "Tên nguồn tin", "Loại nguồn tin", "Tháng",
                      "Quyết định số 1894/QĐ-TTg", "Chỉ thị số 20/CT-TTg", TOTAL_LABEL]
    assert ws.freeze_panes == "A2"
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2)]
    body, total = rows[:-1], rows[-1]
    assert total[0] == TOTAL_LABEL and total[4:] == [4, 4, EXPECTED_TOTAL]
    for row in body:
        assert all(type(v) is int for v in row[4:])
    cells = {(r[0], r[3]): r[4:] for r in body}
    # Months are real dates (their first day) that Excel shows as 01/2026 and sorts by date.
    assert cells[("baogialai", datetime(2026, 1, 1))] == [2, 1, 3]
    assert cells[("xa-dak-doa", datetime(2026, 6, 1))] == [0, 1, 1]
    assert sum(r[6] for r in body) == EXPECTED_TOTAL
    assert {ws.cell(row=n, column=4).number_format for n in range(2, len(body) + 2)} == {"mm/yyyy"}
    assert {ws.cell(row=n, column=5).number_format for n in range(2, len(rows) + 2)} == {"#,##0"}

    kinds = [[c.value for c in row] for row in wb[SHEET_KIND].iter_rows(min_row=2)]
    assert kinds[-1] == [TOTAL_LABEL, 4, 4, EXPECTED_TOTAL]
    assert ["Báo", 3, 2, 5] in kinds
    communes = [[c.value for c in row] for row in wb[SHEET_COMMUNE].iter_rows(min_row=2)]
    assert ["Xã Đak Đoa", 2, 2, 4] in communes
    assert any(r[0] == TOTAL_LABEL and all(type(v) is int for v in r[1:]) for r in communes)

    annex = wb[SHEET_ANNEX]
    annex_rows = [[c.value for c in row] for row in annex.iter_rows(min_row=2)]
    assert len(annex_rows) == EXPECTED_TOTAL
    assert {r[8] for r in annex_rows} == {i["content_sha256"] for i in items}
    assert annex.cell(row=2, column=5).hyperlink.target == items[0]["url"]
    assert annex.column_dimensions["D"].width >= 30
    assert annex.cell(row=2, column=2).value == datetime(2026, 1, 15)  # the day a1 was published
    assert annex.cell(row=2, column=2).number_format == "dd/mm/yyyy"

    assert wb.properties.creator == DEFAULT_AUTHOR and wb.properties.language == "vi-VN"
    assert wb.properties.title == report_title(report_meta(year=2026))
    assert abs(wb.properties.created - datetime.now(timezone.utc).replace(tzinfo=None)) < timedelta(minutes=5)


# DOCX --------------------------------------------------------------------------------------

def test_docx(db_path, tmp_path):
    from docx import Document

    items = counted_items(db_path, year=2026)
    out = tmp_path / "r.docx"
    meta = report_meta(year=2026)
    write_docx(items, out, meta)
    doc = Document(out)
    assert doc.paragraphs[0].text == (
        "Báo cáo kết quả tuyên truyền Quyết định số 1894/QĐ-TTg và Chỉ thị số 20/CT-TTg năm 2026")
    text = "\n".join(p.text for p in doc.paragraphs)
    summary = next(p.text for p in doc.paragraphs if p.text.startswith("Năm 2026,"))
    assert "3 nguồn tin" in summary and f"{EXPECTED_ARTICLES} tin, bài" in summary
    assert f"tổng cộng {EXPECTED_TOTAL} lượt" in summary
    assert "Quyết định số 1894/QĐ-TTg: 4 tin, bài" in summary
    assert "Chỉ thị số 20/CT-TTg: 4 tin, bài" in summary
    assert empty_sentence(meta) not in text
    assert len(doc.tables) == 4  # outlet × month, kind, commune, annex
    outlet_month = doc.tables[0]
    assert outlet_month.rows[-1].cells[0].text == TOTAL_LABEL
    assert [c.text for c in outlet_month.rows[-1].cells[-3:]] == ["4", "4", str(EXPECTED_TOTAL)]
    assert len(doc.inline_shapes) == 1  # the chart
    annex = doc.tables[-1]
    assert len(annex.rows) == 1 + EXPECTED_TOTAL
    assert {row.cells[-1].text for row in annex.rows[1:]} == {i["content_sha256"] for i in items}
    assert annex.rows[1].cells[1].text == "15/01/2026"
    assert outlet_month.rows[1].cells[2].text == "01/2026"


def test_docx_is_an_a4_vietnamese_document_by_the_department(db_path, tmp_path):
    from docx import Document
    from docx.oxml.ns import qn

    out = tmp_path / "r.docx"
    write_docx(counted_items(db_path, year=2026), out, report_meta(year=2026, author="Phòng Thông tin cơ sở"))
    doc = Document(out)
    first, annex = doc.sections
    assert (round(first.page_width.cm, 1), round(first.page_height.cm, 1)) == (21.0, 29.7)
    assert (round(annex.page_width.cm, 1), round(annex.page_height.cm, 1)) == (29.7, 21.0)
    assert (round(first.left_margin.cm, 1), round(first.right_margin.cm, 1)) == (3.0, 1.5)
    lang = doc.styles.element.find(qn("w:docDefaults")).find(qn("w:rPrDefault")).find(qn("w:rPr")).find(qn("w:lang"))
    assert lang.get(qn("w:val")) == "vi-VN"
    properties = doc.core_properties
    assert properties.author == properties.last_modified_by == "Phòng Thông tin cơ sở"
    assert properties.language == "vi-VN" and properties.title.startswith("Báo cáo kết quả tuyên truyền")
    assert abs(properties.created - datetime.now(timezone.utc)) < timedelta(minutes=5)  # read back as UTC


def test_docx_title_adapts_to_topic_and_range(db_path, tmp_path):
    from docx import Document

    meta = report_meta(year=2026, date_from="2026-03-01", date_to="2026-06-30", topic="ct20")
    assert report_title(meta) == ("Báo cáo kết quả tuyên truyền Chỉ thị số 20/CT-TTg "
                                  "từ ngày 01/03/2026 đến ngày 30/06/2026")
    out = tmp_path / "ct20.docx"
    write_docx(counted_items(db_path, 2026, "2026-03-01", "2026-06-30", "ct20"), out, meta)
    assert Document(out).paragraphs[0].text == report_title(meta)


# An empty period ---------------------------------------------------------------------------

def test_empty_year_is_an_empty_report(db_path, tmp_path):
    from docx import Document
    from openpyxl import load_workbook

    items = counted_items(db_path, year=2024)
    assert items == []
    meta = report_meta(year=2024)
    sentence = empty_sentence(meta)
    assert sentence == "Không có tin, bài nào được tính vào báo cáo năm 2024."

    write_csv(items, tmp_path / "e.csv")
    assert read_csv(tmp_path / "e.csv") == [list(CSV_HEADER)]

    write_xlsx(items, tmp_path / "e.xlsx", meta)
    wb = load_workbook(tmp_path / "e.xlsx")
    assert wb.sheetnames == [SHEET_OUTLET_MONTH, SHEET_KIND, SHEET_COMMUNE, SHEET_ANNEX]
    for ws in wb:
        assert ws.cell(row=2, column=1).value == sentence
    assert [c.value for c in wb[SHEET_KIND][3]] == [TOTAL_LABEL, 0, 0, 0]

    write_docx(items, tmp_path / "e.docx", meta)
    doc = Document(tmp_path / "e.docx")
    assert doc.paragraphs[0].text.endswith("năm 2024")
    assert sentence in [p.text for p in doc.paragraphs]
    assert len(doc.tables) == 0 and len(doc.inline_shapes) == 0


# The command -------------------------------------------------------------------------------

def test_cli_csv_and_docx(db_path, tmp_path):
    runner = CliRunner()
    out = tmp_path / "cli.csv"
    result = runner.invoke(report, ["--db", str(db_path), "--year", "2026", "--format", "csv", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert read_csv(out)[1:] == EXPECTED_CSV
    assert f"tổng cộng {EXPECTED_TOTAL} lượt" in result.output

    out = tmp_path / "cli-probable.csv"
    result = runner.invoke(report, ["--db", str(db_path), "--year", "2026", "--include-probable",
                                    "--format", "csv", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert ["gialaitv", "broadcaster", "2026-04", "ct20", "1"] in read_csv(out)

    out = tmp_path / "cli.docx"  # format from the extension
    result = runner.invoke(report, ["--db", str(db_path), "--year", "2026", "--topic", "qd1894", "-o", str(out)])
    assert result.exit_code == 0, result.output
    from docx import Document
    assert Document(out).paragraphs[0].text == "Báo cáo kết quả tuyên truyền Quyết định số 1894/QĐ-TTg năm 2026"


def test_cli_empty_year(db_path, tmp_path):
    out = tmp_path / "empty.xlsx"
    result = CliRunner().invoke(report, ["--db", str(db_path), "--year", "2030", "--format", "xlsx", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "Không có tin, bài nào được tính vào báo cáo năm 2030." in result.output
    assert out.is_file()


@pytest.mark.parametrize("args, message", [
    (["--year", "2026", "--from", "2026-02-30"], "'2026-02-30' is not a valid day"),
    (["--year", "2026", "--from", "hôm qua"], "'hôm qua' is not a day"),
    (["--year", "2026", "--from", "2025-12-01"], "outside --year 2026"),
    (["--from", "2026-06-01", "--to", "2026-05-01"], "is after --to"),
])
def test_cli_bad_dates(db_path, tmp_path, args, message):
    result = CliRunner().invoke(report, ["--db", str(db_path), *args, "--format", "csv",
                                         "-o", str(tmp_path / "x.csv")])
    assert result.exit_code == 1
    assert message in result.output
    assert not (tmp_path / "x.csv").exists()


def test_cli_usage(db_path, tmp_path):
    runner = CliRunner()
    result = runner.invoke(report, ["--db", str(db_path), "-o", str(tmp_path / "x.csv")])
    assert result.exit_code == 1 and "--year" in result.output
    result = runner.invoke(report, ["--db", str(db_path), "--year", "2026", "-o", str(tmp_path / "x.txt")])
    assert result.exit_code == 1 and "--format" in result.output
    assert list(tmp_path.iterdir()) == []
    help_text = runner.invoke(report, ["--help"]).output
    assert "pressmon report --year 2026 -o bao-cao-2026.docx" in help_text
    for option in ("--db", "--year", "--topic", "--from", "--to", "--include-probable", "--format", "--output"):
        assert option in help_text
