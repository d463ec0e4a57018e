"""Exports that open right in Excel, through Datasette's in-process client: CSV with a UTF-8
BOM and every row (streamed past a page and past max_returned_rows), XLSX of a table, a
search and a canned query with every row and the Vietnamese text intact.

The database is tests/test_datasette.py's fixture with many more articles, so that a table
holds more rows than a page (50) and than the row limit, lowered here to 100."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from openpyxl import load_workbook

from pressmon.pipeline import publish
from pressmon.pipeline.publish import make_datasette
from pressmon.pipeline.store import Store
from test_datasette import ARTICLES, article_item, build_fixture

BOM = b"\xef\xbb\xbf"
EXTRA = 130
MAX_ROWS = 100
TITLE = "Xã Ia Hrú tổ chức Ngày Chủ nhật xanh lần thứ {n}"


@pytest.fixture(scope="module")
def db_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("exports") / "pressmon.db"
    build_fixture(path)
    with Store(path) as store:
        store.start_run("r-extra", "xa-dak-doa")
        for n in range(EXTRA):
            store.save_article("r-extra", article_item(
                "a10", url=f"https://dakdoa.gialai.gov.vn/tin-tuc/chu-nhat-xanh-{n}.html", title=TITLE.format(n=n),
                body=f"Đoàn viên dọn vệ sinh đường làng, đợt {n}.",
                published_at=f"2025-06-{1 + n % 28:02d}T08:00:00+07:00"), [])
        store.finish_run("r-extra", "xa-dak-doa")
    return path


@pytest.fixture
def ds(db_path, monkeypatch):
    monkeypatch.setitem(publish.SETTINGS, "max_returned_rows", MAX_ROWS)
    return make_datasette(db_path, public=True)


TOTAL = len(ARTICLES) + EXTRA


def read_csv(content: bytes) -> list[dict]:
    assert content.startswith(BOM) and not content.startswith(BOM * 2)
    # What Excel does with the BOM: reads the rest as UTF-8.
    return list(csv.DictReader(io.StringIO(content[len(BOM):].decode("utf-8"))))


def read_xlsx(content: bytes) -> tuple[list[dict], dict]:
    book = load_workbook(io.BytesIO(content), read_only=True)
    data, about = book.worksheets[0], book.worksheets[-1]
    rows = list(data.iter_rows(values_only=True))
    info = {key: value for key, value in about.iter_rows(values_only=True)}
    assert about.title == "Thông tin xuất dữ liệu"
    return [dict(zip(rows[0], row)) for row in rows[1:]], info


async def test_table_csv_streams_every_row_with_a_bom(ds):
    response = await ds.client.get("/pressmon/articles.csv?_stream=on&_dl=1")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="articles.csv"'
    rows = read_csv(response.content)
    assert len(rows) == TOTAL > MAX_ROWS
    assert len({row["id"] for row in rows}) == TOTAL
    titles = {row["title"] for row in rows}
    assert "Xã Hòa Hội ra mắt mô hình phân loại rác tại nguồn" in titles
    assert TITLE.format(n=EXTRA - 1) in titles


async def test_csv_without_stream_is_one_page_and_still_has_a_bom(ds):
    # Why the export links carry _stream=on: without it a table's CSV is a page.
    rows = read_csv((await ds.client.get("/pressmon/articles.csv")).content)
    assert len(rows) == 50
    rows = read_csv((await ds.client.get("/pressmon/articles.csv?_size=max")).content)
    assert len(rows) == MAX_ROWS


async def test_a_search_and_a_filter_export_what_the_page_shows(ds):
    rows = read_csv((await ds.client.get("/pressmon/articles.csv?_stream=on&_search=Hòa")).content)
    assert [row["title"] for row in rows] == ["Xã Hòa Hội ra mắt mô hình phân loại rác tại nguồn"]
    rows = read_csv((await ds.client.get("/pressmon/articles.csv?_stream=on&outlet_id=xa-dak-doa")).content)
    assert len(rows) == EXTRA + 2


async def test_canned_query_csv_has_a_bom(ds, db_path):
    response = await ds.client.get("/pressmon/coverage_by_outlet_month.csv?_dl=1")
    assert response.status_code == 200
    rows = read_csv(response.content)
    assert rows and "Báo và Phát thanh, Truyền hình Gia Lai" in {v for row in rows for v in row.values()}


async def test_only_csv_gets_a_bom(ds):
    json_body = (await ds.client.get("/pressmon/articles.json?_size=1")).content
    assert not json_body.startswith(BOM)
    missing = await ds.client.get("/pressmon/no_such_table.csv")
    assert missing.status_code == 404 and not missing.content.startswith(BOM)


async def test_table_xlsx_has_every_row_in_vietnamese(ds):
    response = await ds.client.get("/pressmon/articles.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    rows, info = read_xlsx(response.content)
    assert len(rows) == TOTAL and info["Số dòng"] == TOTAL
    titles = {row["title"] for row in rows}
    assert "Đắk Đoa ra quân thu gom rác thải sinh hoạt" in titles
    assert TITLE.format(n=0) in titles
    assert info["Bảng hoặc khung nhìn"] == "articles"
    # No Swedish left from datasette-xlsx's own sheet.
    assert not {"Databas", "Antal rader", "Exporterad"} & set(info)


async def test_search_xlsx_keeps_the_search(ds):
    rows, info = read_xlsx((await ds.client.get("/pressmon/articles.xlsx?_search=dak+doa")).content)
    assert {row["title"] for row in rows} == {"Đắk Đoa ra quân thu gom rác thải sinh hoạt",
                                             "Xã Đak Đoa tuyên truyền phòng chống ô nhiễm môi trường"}
    rows, _ = read_xlsx((await ds.client.get("/pressmon/articles.xlsx?_search=Ngày+Chủ+nhật+xanh")).content)
    assert len(rows) == EXTRA + 1  # past the row limit, through Datasette's own pages


async def test_canned_query_xlsx(ds):
    response = await ds.client.get("/pressmon/coverage_by_outlet_month.xlsx")
    assert response.status_code == 200
    rows, info = read_xlsx(response.content)
    assert rows and info["Truy vấn"] == "coverage_by_outlet_month"
    csv_rows = read_csv((await ds.client.get("/pressmon/coverage_by_outlet_month.csv")).content)
    assert len(rows) == len(csv_rows)
    assert [str(v) if v is not None else "" for v in rows[0].values()] == list(csv_rows[0].values())


async def test_staff_tables_are_not_exported_to_anonymous_visitors(ds):
    for path in ("/pressmon/verdicts.csv?_stream=on", "/pressmon/verdicts.xlsx", "/pressmon/topic_decisions.xlsx"):
        response = await ds.client.get(path)
        assert response.status_code in (302, 303, 403), path


async def test_exports_read_one_cursor_so_ties_neither_repeat_nor_go_missing(ds):
    # Datasette 0.65 orders a sorted table's first page without the key that later pages use
    # as a tie-breaker: walking the pages by date repeats and loses articles published the
    # same minute. An export reads one cursor instead: every row once, in the page's order.
    seen, path = [], "/pressmon/articles.json?_shape=objects&_size=max&_col=id&_sort_desc=published_at"
    while path:
        data = (await ds.client.get(path)).json()
        seen += [row["id"] for row in data["rows"]]
        path = data["next_url"] and data["next_url"].replace("http://localhost", "")
    assert len(seen) > len(set(seen))  # some twice (and, depending on the ties, some never)
    rows = read_csv((await ds.client.get("/pressmon/articles.csv?_stream=on&_sort_desc=published_at"
                                         "&_col=published_at")).content)
    assert len(rows) == len({row["id"] for row in rows}) == TOTAL
    dated = [row["published_at"] for row in rows if row["published_at"]]
    assert dated == sorted(dated, reverse=True)


async def test_the_pages_export_links_download_every_row(ds):
    """The links a person clicks, as the page renders them: files to save (not text shown in
    the browser), every row of the article list, the BOM for Excel."""
    import html
    import re

    for page, rows in (("/pressmon/article_list", TOTAL), ("/pressmon/coverage_by_outlet_month", None)):
        text = (await ds.client.get(page)).text
        links = [html.unescape(link) for link in re.findall(r'class="pressmon-export" href="([^"]+)"', text)]
        assert [link.split("?")[0].rsplit(".", 1)[1] for link in links] == ["csv", "xlsx"], page
        csv_file, xlsx_file = [await ds.client.get(link) for link in links]
        for response in (csv_file, xlsx_file):
            assert response.status_code == 200 and response.headers["content-disposition"].startswith("attachment")
        if rows is not None:
            assert len(read_csv(csv_file.content)) == rows
            assert len(read_xlsx(xlsx_file.content)[0]) == rows
        else:
            assert read_csv(csv_file.content)
