"""The staff pages in Vietnamese, through Datasette's in-process client: no English Datasette
chrome in the rendered text of any staff page, tab titles, the article list's labels, months
newest first, and the home page's figures per document following the verdicts.

The database is test_datasette.py's fixture (built through the real Store), with topic
decisions and verdicts added the way the classifier and a reviewer store them."""

from __future__ import annotations

import html
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from test_datasette import ARTICLES, build_fixture, url_of

from pressmon.crawlers.registry import outlet_kinds
from pressmon.nlp.documents import DOCUMENT_SHORT_LABELS, TIER_LABELS, VERDICT_LABELS
from pressmon.pipeline.accounts import Accounts
from pressmon.pipeline.publish import load_metadata, make_datasette
from pressmon.pipeline.store import Store

# Datasette 0.65's English chrome (templates, table.js, error pages, the login plugin).
ENGLISH = (
    "Powered by", "This data as", "rows where", "sorted by", "Custom SQL query", "Menu",
    "Search", "Next page", "Advanced export", "Error 404", "Error 403", "Error 500", "home",
    "Log in", "Log out", "Apply", "Suggested facets", "View and edit SQL", "Edit SQL",
    "Export CSV", "descending", "ascending", "Queries took", "Data license", "Data source",
    "Query parameters", "Run SQL", "Format SQL", "Not found", "Forbidden", "Interrupted",
    "Username", "Password", "Invalid username", "remove filter", "0 records", "(view)",
    "Dashboards", "Sort", "Facet", "Tables", "Views", "Queries", "hidden table",
)

# Topic decisions of the fixture's items: (article key, topic, tier).
DECISIONS = [
    ("a1", "qd1894", "cited"), ("a7", "qd1894", "cited"), ("a12", "qd1894", "probable"),
    ("a2", "qd1894", "probable"), ("a3", "ct20", "cited"), ("a6", "ct20", "probable"),
    ("a9", "ct20", "probable"), ("a4", "ct20", "none"),
]
PASSWORD = "mat-khau-cua-lan"


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("chrome") / "pressmon.db"
    build_fixture(path)
    with Store(path) as store:
        ids = dict(store.db.execute("select url, id from articles").fetchall())
        for key, topic, tier in DECISIONS:
            store.save_topics(ids[url_of(key)], "m1", {topic: {"tier": tier, "probability": 0.7, "evidence": []}})
        # A reviewer rejected a probable item: it no longer waits.
        store.add_verdict(ids[url_of("a9")], "ct20", "rejected", "lan.pham", "không liên quan")
    Accounts.beside(path).add("lan.pham", "reviewer", PASSWORD)
    return path


@pytest.fixture
def ds(site):
    return make_datasette(site, public=True)


def ids_of(path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        by_url = dict(conn.execute("select url, id from articles"))
    return {key: by_url[url_of(key)] for key in ARTICLES}


def visible_text(page: str) -> str:
    """What a reader sees: no scripts, styles, tags or comments; entities decoded."""
    page = re.sub(r"<(script|style)\b.*?</\1>|<!--.*?-->", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def tab_title(page: str) -> str:
    return html.unescape(re.search(r"<title>(.*?)</title>", page, re.S).group(1)).strip()


def english_in(text: str) -> list[str]:
    return [phrase for phrase in ENGLISH if re.search(rf"\b{re.escape(phrase)}\b", text)]


async def log_in(ds) -> dict:
    form = await ds.client.get("/-/login")
    token = re.search(r'name="csrftoken" value="([^"]+)"', form.text).group(1)
    cookies = {"ds_csrftoken": form.cookies["ds_csrftoken"]}
    response = await ds.client.post("/-/login", data={"username": "lan.pham", "password": PASSWORD,
                                                      "csrftoken": token}, cookies=cookies)
    cookies["ds_actor"] = response.cookies["ds_actor"]
    return cookies


STAFF_PAGES = [
    ("/", 200),
    ("/?nam=2025", 200),
    ("/pressmon", 200),
    ("/pressmon/article_list", 200),
    ("/pressmon/article_list?_search=dak+doa&outlet_kind=newspaper", 200),
    ("/pressmon/article_list?_facet=section&published_month=2025-09&_sort=title", 200),
    ("/pressmon/articles?_search=o+nhiem&outlet_kind__not=broadcaster", 200),
    ("/pressmon/outlets", 200),
    ("/pressmon/coverage_by_outlet_month?outlet_kind=newspaper&from_month=2025-08&to_month=", 200),
    ("/pressmon/coverage_by_document", 200),
    ("/pressmon/crawl_health", 200),
    ("/pressmon/newest_items", 200),
    ("/pressmon/no_such_table", 404),
    ("/pressmon/articles/999999", 404),
    ("/-/login", 200),
    ("/-/dashboards", 200),
    ("/-/dashboards/do-phu-tuyen-truyen", 200),
    ("/-/dashboards/do-phu-tuyen-truyen/theo-thang", 200),
]


@pytest.mark.parametrize(("path", "status"), STAFF_PAGES)
async def test_no_english_chrome(ds, path, status):
    response = await ds.client.get(path)
    assert response.status_code == status, path
    page = response.text
    assert '<html lang="vi">' in page
    assert english_in(visible_text(page)) == [], path
    assert english_in(tab_title(page)) == [], path
    assert "/pressmon-static/pressmon.css" in page
    assert "Trang chủ" in page and "Tình trạng nguồn tin" in page  # the navigation


async def test_pages_of_a_logged_in_reviewer(ds):
    cookies = await log_in(ds)
    for path in ("/", "/pressmon/article_list", "/-/logout"):
        page = (await ds.client.get(path, cookies=cookies)).text
        text = visible_text(page)
        assert english_in(text) == [], path
        assert "lan.pham" in text and "Đăng xuất" in text and "Duyệt tin" in text, path
    logout = (await ds.client.get("/-/logout", cookies=cookies)).text
    assert re.search(r'<form action="/-/logout" method="post">', logout)
    assert 'name="csrftoken"' in logout and "<h1>Đăng xuất</h1>" in logout


async def test_anonymous_navigation_offers_login_not_review(ds):
    page = (await ds.client.get("/")).text
    nav = page.split("</nav>")[0]
    assert "Đăng nhập" in nav and "Duyệt tin" not in nav and "Đăng xuất" not in nav


@pytest.mark.parametrize(("status", "title", "heading"), [
    (403, None, "Không có quyền truy cập"),
    (500, None, "Lỗi máy chủ"),
    (400, "SQL Interrupted", "Truy vấn chạy quá lâu"),
])
async def test_error_pages(ds, status, title, heading):
    # Rendered as Datasette's handle_exception renders them (no request, no extra variables).
    await ds.invoke_startup()
    template = ds.jinja_env.select_template([f"{status}.html", "error.html"])
    page = await template.render_async({"ok": False, "status": status, "title": title,
                                        "error": "SQL query took too long. Interrupted", "urls": ds.urls,
                                        "app_css_hash": ds.app_css_hash(), "menu_links": lambda: []})
    assert f"<h1>{heading}</h1>" in page
    assert heading in tab_title(page)
    assert english_in(visible_text(page)) == []


async def test_login_form_contract(ds):
    page = (await ds.client.get("/-/login")).text
    form = re.search(r"<form[^>]*>.*?</form>", page, re.S).group(0)
    assert re.search(r'<form [^>]*method="post" action="/-/login"', form)
    assert 'name="username"' in form
    assert re.search(r'type="password" name="password"', form)
    assert re.search(r'<input type="hidden" name="csrftoken" value="[^"]+">', form)
    assert ">Đăng nhập</button>" in form
    form_page = await ds.client.get("/-/login")
    token = re.search(r'name="csrftoken" value="([^"]+)"', form_page.text).group(1)
    failed = await ds.client.post("/-/login", data={"username": "lan.pham", "password": "sai-mat-khau",
                                                    "csrftoken": token},
                                  cookies={"ds_csrftoken": form_page.cookies["ds_csrftoken"]})
    assert "Tên đăng nhập hoặc mật khẩu không đúng." in failed.text


async def test_tab_titles(ds, site):
    queries = load_metadata(site)["databases"]["pressmon"]["queries"]
    for name, query in queries.items():
        title = tab_title((await ds.client.get(f"/pressmon/{name}")).text)
        assert title.startswith(query["title"]), name
        assert "select" not in title.lower()
    assert tab_title((await ds.client.get("/")).text).startswith("Trang chủ")
    title = tab_title((await ds.client.get("/pressmon/article_list?_search=dak+doa&outlet_kind=newspaper")).text)
    assert title.startswith("Tin bài: 1 dòng")
    assert "“dak doa”" in title and "Loại nguồn tin là Báo" in title
    assert tab_title((await ds.client.get("/pressmon/nothing")).text).startswith("Không tìm thấy trang")


# --- the article list ----------------------------------------------------------------------

async def test_article_list_shows_what_a_person_reads(ds, site):
    ids = ids_of(site)
    response = await ds.client.get("/pressmon/article_list?_size=max")
    page = response.text
    table = page.split('<table class="pressmon-list">')[1].split("</table>")[0]
    headers = [visible_text(h).strip() for h in re.findall(r"<th\b.*?</th>", table, re.S)]
    assert [h.rstrip(" ▲▼").strip() for h in headers] == ["Tiêu đề", "Tên nguồn tin", "Ngày đăng", "Chuyên mục", "Văn bản"]
    assert f'<a href="/pressmon/articles/{ids["a1"]}">{ARTICLES["a1"][5]}</a>' in table
    assert "08:15 05/09/2025" in table
    assert "Báo và Phát thanh, Truyền hình Gia Lai" in table
    cells = visible_text(table)
    assert f"{DOCUMENT_SHORT_LABELS['qd1894']}: {TIER_LABELS['cited']}" in cells
    assert f"{DOCUMENT_SHORT_LABELS['ct20']}: {TIER_LABELS['probable']}" in cells
    assert f"{DOCUMENT_SHORT_LABELS['ct20']}: {VERDICT_LABELS['rejected']}" in cells
    for code in ("qd1894", "ct20", "cited", "probable", "newspaper", "baogialai"):
        assert not re.search(rf"\b{code}\b", cells), code
    # Not the body, hashes or WARC offsets of the full table.
    assert ARTICLES["a1"][7].split("\n")[0] not in page and "content_sha256" not in table
    assert len(page) < 60_000


async def test_article_list_rows_newest_first_and_json_keeps_codes(ds, site):
    ids = ids_of(site)
    rows = (await ds.client.get("/pressmon/article_list.json?_shape=array&_size=max")).json()
    assert [r["id"] for r in rows[:3]] == [ids["a12"], ids["a7"], ids["a5"]]
    by_id = {r["id"]: r for r in rows}
    assert by_id[ids["a1"]]["documents"] == "qd1894:cited"
    assert by_id[ids["a9"]]["documents"] == "ct20:rejected"
    assert by_id[ids["a4"]]["documents"] is None  # tier none: no document shown
    assert by_id[ids["a1"]]["outlet_name"] == "Báo và Phát thanh, Truyền hình Gia Lai"


async def test_article_list_search_without_diacritics(ds, site):
    ids = ids_of(site)
    rows = (await ds.client.get("/pressmon/article_list.json?_search=dak+doa&_shape=array")).json()
    assert {ids["a1"], ids["a9"]} <= {r["id"] for r in rows}
    page = (await ds.client.get("/pressmon/article_list?_search=dak+doa")).text
    assert "Đắk Đoa ra quân" in page and "Xã Đak Đoa tuyên truyền" in page
    assert 'id="_search"' in page and "Tìm" in visible_text(page)


async def test_facets_have_vietnamese_names_and_labels(ds):
    page = (await ds.client.get("/pressmon/article_list")).text
    facets = visible_text(page.split('<div class="facet-results">')[1].split('<div class="table-wrapper">')[0])
    for name in ("Nguồn tin", "Loại nguồn tin", "Chuyên mục", "Tháng đăng", "Loại nội dung"):
        assert name in facets
    for label in outlet_kinds().values():
        assert label in facets
    assert "Cổng thông tin điện tử tỉnh Gia Lai" in facets  # the outlet's name, not its id
    assert "Tháng 9/2025" in facets and "Video" in facets and "Ảnh" in facets
    assert "gialai-gov" not in facets and "commune_portal" not in facets


@pytest.mark.parametrize("table", ["article_list", "articles"])
async def test_month_facet_newest_first(ds, table):
    data = (await ds.client.get(f"/pressmon/{table}.json?_shape=objects")).json()
    months = [r["value"] for r in data["facet_results"]["published_month"]["results"]]
    assert months == ["2025-10", "2025-09", "2025-08", "2025-07"]  # 2025-09 has the most items
    page = (await ds.client.get(f"/pressmon/{table}")).text
    facet = visible_text(page.split('id="facet-published_month"')[1].split("</ul>")[0])
    positions = [facet.index(f"Tháng {m}/2025") for m in (10, 9, 8, 7)]
    assert positions == sorted(positions)


async def test_month_facet_lists_every_month(tmp_path):
    # More months than Datasette's 30 facet values, all listed, newest first.
    path = tmp_path / "pressmon.db"
    with Store(path) as store:
        store.sync_outlets([{"id": "baogialai", "name": "Báo Gia Lai", "kind": "newspaper"}])
        for n in range(40):
            year, month = 2023 + n // 12, n % 12 + 1
            store.save_article("r", {"outlet_id": "baogialai", "url": f"https://b.vn/{n}", "title": f"Bài {n}",
                                     "body": "x", "published_at": f"{year}-{month:02d}-01T08:00:00+07:00"})
    data = (await make_datasette(path, public=True).client.get("/pressmon/article_list.json")).json()
    months = [r["value"] for r in data["facet_results"]["published_month"]["results"]]
    assert len(months) == 40 and months == sorted(months, reverse=True)


def test_article_list_documents_are_computed_per_shown_row(site):
    """The page's query walks the published_at index and reads article_topics and verdicts by
    article, never through the window-function view over every classification."""
    with sqlite3.connect(f"file:{site}?mode=ro", uri=True) as conn:
        plan = " | ".join(row[3] for row in conn.execute(
            "explain query plan select * from article_list order by published_at desc limit 51"))
    assert "idx_articles_published_at" in plan
    assert "SCAN t" not in plan and "SCAN v" not in plan and "topic_decisions" not in plan


# --- the home page -------------------------------------------------------------------------

def figures(page: str) -> dict[str, tuple[int, int]]:
    rows = re.findall(r'<tr data-topic="(\w+)">.*?class="pressmon-counted"><a [^>]*>([\d.]+)</a>'
                      r'.*?class="pressmon-awaiting"><a [^>]*>([\d.]+)</a>', page, re.S)
    return {topic: (int(counted), int(awaiting)) for topic, counted, awaiting in rows}


def figures_from_view(path, year: int) -> dict[str, tuple[int, int]]:
    with sqlite3.connect(path) as conn:
        return {topic: (counted or 0, awaiting or 0) for topic, counted, awaiting in conn.execute(
            "select topic, sum(counted), sum(verdict is null and tier = 'probable') from topic_decisions "
            "where published_month like ? group by topic", (f"{year}-%",))}


async def test_home_figures_follow_verdicts(site, tmp_path):
    path = tmp_path / "pressmon.db"
    shutil.copy(site, path)
    ds = make_datasette(path, public=True)
    page = (await ds.client.get("/?nam=2025")).text
    assert "Năm 2025" in page
    # qd1894: a1, a7 cited; a2, a12 probable. ct20: a3 cited; a6 probable; a9 rejected.
    assert figures(page) == {"qd1894": (2, 2), "ct20": (1, 1)} == figures_from_view(path, 2025)
    ids = ids_of(path)
    with Store(path) as store:
        store.add_verdict(ids["a12"], "qd1894", "confirmed", "lan.pham")
        store.add_verdict(ids["a3"], "ct20", "rejected", "lan.pham")
    page = (await ds.client.get("/?nam=2025")).text
    assert figures(page) == {"qd1894": (3, 1), "ct20": (0, 1)} == figures_from_view(path, 2025)
    # The later verdict counts.
    with Store(path) as store:
        store.add_verdict(ids["a3"], "ct20", "confirmed", "lan.pham")
    assert figures((await ds.client.get("/?nam=2025")).text)["ct20"] == (1, 1)


async def test_home_page_defaults_to_this_year_and_links_the_tasks(ds):
    import datetime
    from zoneinfo import ZoneInfo

    year = datetime.datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).year
    page = (await ds.client.get("/")).text
    assert f"Năm {year}" in page
    assert figures(page) == {"qd1894": (0, 0), "ct20": (0, 0)}  # the fixture's items are of 2025
    for href in ("/pressmon/article_list", "/-/review", "/pressmon#bao-cao",
                 "/-/dashboards/do-phu-tuyen-truyen", "/pressmon/crawl_health"):
        assert f'href="{href}' in page, href
    assert "12 tin, bài" in visible_text(page)


async def test_database_page_puts_tasks_first(ds):
    page = (await ds.client.get("/pressmon")).text
    technical = page.index('<details class="pressmon-technical"')
    assert page.index('href="/pressmon/article_list"') < page.index('id="bao-cao"') < technical
    for table in ("article_topics", "http_validators", "crawl_runs", "crawl_errors", "source_health"):
        assert page.index(f'href="/pressmon/{table}"') > technical, table
    assert "<h2>Bảng kỹ thuật</h2>" in page


async def test_footer_does_not_give_the_code_licence_as_the_data_licence(ds):
    footer = visible_text((await ds.client.get("/")).text.split('<footer class="ft">')[1])
    assert "Bản quyền nội dung: Nội dung bài viết thuộc bản quyền của cơ quan đăng tải" in footer
    assert "Apache-2.0" in footer and "không cho nội dung bài viết" in footer
    assert "Powered by" not in footer


async def test_table_page_uses_the_vietnamese_column_menu(ds):
    page = (await ds.client.get("/pressmon/articles")).text
    assert "/pressmon-static/table-vi.js" in page and "/-/static/table.js" not in page
    script = (await ds.client.get("/pressmon-static/table-vi.js")).text
    assert "Xếp tăng dần" in script and ">Sort ascending<" not in script and ">Facet by this<" not in script


async def test_export_links(ds):
    page = (await ds.client.get("/pressmon/article_list?outlet_kind=newspaper")).text
    links = dict((visible_text(text).strip(), html.unescape(href)) for href, text in
                 re.findall(r'<a class="pressmon-export" href="([^"]+)">(.*?)</a>', page))
    assert links["Tải CSV (mở bằng Excel)"].startswith("/pressmon/article_list.csv?")
    assert "_stream=on" in links["Tải CSV (mở bằng Excel)"] and "outlet_kind=newspaper" in links["Tải CSV (mở bằng Excel)"]
    assert "Tải Excel (XLSX)" in links
    query = (await ds.client.get("/pressmon/coverage_by_document")).text
    assert "Tải CSV (mở bằng Excel)" in query and "Tải Excel (XLSX)" in query
