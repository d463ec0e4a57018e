"""The Datasette publication through Datasette's in-process client: search with and without
diacritics, sort, facets, canned queries, the article page, and that nothing can write.

The fixture database is built through pipeline.store.Store, as a crawl would build it."""

from __future__ import annotations

import collections
import re
import shutil
import sqlite3
import unicodedata
from pathlib import Path

import pytest

from pressmon.nlp.normalize import normalize_text
from pressmon.pipeline.publish import datasette_options, load_metadata, make_datasette
from pressmon.pipeline.store import DatabaseProblem, Store

from conftest import signed_in

OUTLETS = [
    {"id": "baogialai", "name": "Báo và Phát thanh, Truyền hình Gia Lai", "kind": "newspaper",
     "family": "zce", "domain": "baogialai.com.vn", "home_url": "https://baogialai.com.vn/",
     "language": "vi"},
    {"id": "gialaitv", "name": "Đài Phát thanh và Truyền hình Gia Lai (trang cũ)",
     "kind": "broadcaster", "family": "wordpress", "domain": "gialaitv.vn",
     "home_url": "https://gialaitv.vn/", "language": "vi"},
    {"id": "gialai-gov", "name": "Cổng thông tin điện tử tỉnh Gia Lai",
     "kind": "government_portal", "family": "govportal", "domain": "gialai.gov.vn",
     "home_url": "https://gialai.gov.vn/", "language": "vi"},
    {"id": "xa-dak-doa", "name": "Cổng thông tin điện tử xã Đak Đoa", "kind": "commune_portal",
     "family": "generic", "domain": "dakdoa.gialai.gov.vn",
     "home_url": "https://dakdoa.gialai.gov.vn/", "language": "vi"},
    # In the registry but never crawled: crawl_health must still list it.
    {"id": "congthuong", "name": "Báo Công Thương", "kind": "newspaper", "family": "generic",
     "domain": "congthuong.vn", "home_url": "https://congthuong.vn/", "language": "vi"},
]

# key: (outlet, url path, published_at, section, media_kind, title, lead, body,
#       [(document, topic, field, reference text)])
ARTICLES = {
    "a1": ("baogialai", "dak-doa-thu-gom-rac-post565001.html", "2025-09-05T08:15:00+07:00",
           "Thời sự", "text",
           "Đắk Đoa ra quân thu gom rác thải sinh hoạt",
           "(GLO)- Xã Đắk Đoa triển khai Quyết định 1894/QĐ-TTg của Thủ tướng Chính phủ.",
           "Sáng 4-9, xã Đắk Đoa tổ chức lễ ra quân.\n\nCác thôn cam kết phân loại rác tại nguồn.\n"
           "Kế hoạch bám sát Quyết định 1894/QĐ-TTg về công nghiệp môi trường.",
           [("1894/QĐ-TTg", "qd1894", "lead", "Quyết định 1894/QĐ-TTg"),
            ("1894/QĐ-TTg", "qd1894", "body", "Quyết định 1894/QĐ-TTg")]),
    "a2": ("baogialai", "thiet-bi-xu-ly-nuoc-thai-post565002.html", "2025-09-20T10:00:00+07:00",
           "Kinh tế", "text",
           "Doanh nghiệp Gia Lai đầu tư thiết bị xử lý nước thải",
           "(GLO)- Sản phẩm nằm trong danh mục của Quyết định 980/QĐ-TTg.",
           "Nhà máy đặt tại khu công nghiệp Nam Pleiku.\nThiết bị do kỹ sư trong nước chế tạo.",
           [("980/QĐ-TTg", "qd1894", "lead", "Quyết định 980/QĐ-TTg")]),
    "a3": ("baogialai", "xu-ly-o-nhiem-post565003.html", "2025-08-14T16:45:00+07:00",
           "Thời sự", "text",
           "Gia Lai quyết liệt xử lý ô nhiễm môi trường theo Chỉ thị 20/CT-TTg",
           "(GLO)- Tỉnh yêu cầu công khai danh sách cơ sở phải quan trắc tự động, liên tục.",
           "Công an tỉnh mở đợt cao điểm.\nSở Công Thương thực hiện Quyết định 2678/QĐ-BCT.",
           [("20/CT-TTg", "ct20", "title", "Chỉ thị 20/CT-TTg"),
            ("2678/QĐ-BCT", "ct20", "body", "Quyết định 2678/QĐ-BCT")]),
    "a4": ("baogialai", "hoa-hoi-phan-loai-rac-post565004.html", "2025-07-03T07:00:00+07:00",
           "Media", "video",
           "Xã Hòa Hội ra mắt mô hình phân loại rác tại nguồn",
           None,
           "Video giới thiệu mô hình của Hội Liên hiệp Phụ nữ xã.",
           []),
    "a5": ("baogialai", "boi-thuong-giai-phong-mat-bang-post565005.html",
           "2025-09-28T21:00:00+07:00", "Pháp luật", "text",
           "Quyết định 1894/QĐ-UBND về bồi thường giải phóng mặt bằng",
           "(GLO)- Văn bản của UBND tỉnh về dự án đường liên xã.",
           "Hội nghị cũng quán triệt Chỉ thị 20-CT/TW của Bộ Chính trị.",
           [(None, None, "title", "Quyết định 1894/QĐ-UBND"),
            (None, None, "body", "Chỉ thị 20-CT/TW")]),
    "a6": ("gialaitv", "2025/09/tuyen-truyen-chi-thi-20/", "2025-09-12T18:30:00+07:00",
           "Thời sự", "audio",
           "Bản tin: làng nghề chung tay chống ô nhiễm môi trường",
           "Thực hiện Chỉ thị số 20/CT-TTg, các làng nghề lắp camera giám sát.",
           "Phóng viên ghi nhận tại làng nghề bún.",
           [("20/CT-TTg", "ct20", "lead", "Chỉ thị số 20/CT-TTg")]),
    "a7": ("gialai-gov", "tin-tuc/thong-tin-chi-dao-dieu-hanh/ke-hoach-1894.html",
           "2025-10-02T09:00:00+07:00", "Thông tin chỉ đạo điều hành", "text",
           "UBND tỉnh ban hành Kế hoạch thực hiện Quyết định 1894/QĐ-TTg",
           "Kế hoạch giao Sở Văn hóa, Thể thao và Du lịch chỉ đạo báo chí tuyên truyền.",
           "Các sở, ngành báo cáo kết quả hằng năm về Sở Công Thương.",
           [("1894/QĐ-TTg", "qd1894", "title", "Quyết định 1894/QĐ-TTg"),
            ("gialai-plan-1894", "qd1894", "title", "Kế hoạch thực hiện Quyết định 1894/QĐ-TTg")]),
    "a8": ("gialai-gov", "tin-tuc/tin-tu-so-ban-nganh/huong-dan-chi-thi-20.html",
           "2025-08-25T15:20:00+07:00", "Tin từ sở, ban, ngành", "text",
           "Sở Công Thương hướng dẫn thực hiện Chỉ thị 20/CT-TTg",
           None,
           "Hướng dẫn gửi các doanh nghiệp sản xuất trên địa bàn.",
           [("20/CT-TTg", "ct20", "title", "Chỉ thị 20/CT-TTg")]),
    "a9": ("xa-dak-doa", "tin-tuc/tuyen-truyen-o-nhiem.html", "2025-09-15T07:30:00+07:00",
           "Tin tức", "text",
           "Xã Đak Đoa tuyên truyền phòng chống ô nhiễm môi trường",
           "Loa truyền thanh phát bản tin hằng ngày.",
           "Người dân được hướng dẫn phân loại rác.",
           []),
    "a10": ("xa-dak-doa", "tin-tuc/chu-nhat-xanh.html", "2025-07-20T08:00:00+07:00",
            "Tin tức", "photo",
            "Xã tổ chức Ngày Chủ nhật xanh",
            None,
            "Đoàn viên thanh niên dọn vệ sinh đường làng.",
            []),
    "a11": ("gialaitv", "2025/06/phong-su-song-ba/", None, None, "video",
            "Phóng sự: Giữ gìn cảnh quan sông Ba",
            None,
            "Dòng sông chảy qua nhiều xã phía đông tỉnh.",
            []),
    "a12": ("baogialai", "cum-cong-nghiep-tai-che-post565012.html", "2025-10-10T11:00:00+07:00",
            "Kinh tế", "photo",
            "Ảnh: Cụm công nghiệp tái chế đầu tiên của Gia Lai",
            "(GLO)- Dự án ứng dụng kết quả Chương trình KC.06/21-30.",
            "Cụm công nghiệp rộng 50 ha.",
            [("KC.06/21-30", "qd1894", "lead", "Chương trình KC.06/21-30")]),
}


def url_of(key: str) -> str:
    outlet = next(o for o in OUTLETS if o["id"] == ARTICLES[key][0])
    return outlet["home_url"] + ARTICLES[key][1]


def article_item(key: str, **changes) -> dict:
    outlet_id, _, published_at, section, media_kind, title, lead, body, _refs = ARTICLES[key]
    item = {
        "type": "article", "outlet_id": outlet_id, "url": url_of(key), "fetched_url": url_of(key),
        "title": title, "lead": lead, "body": body, "author": "PHƯƠNG VY", "section": section,
        "tags": ["môi trường"], "published_at": published_at,
        "published_raw": published_at and "/".join(reversed(published_at[:10].split("-"))),
        "modified_at": None, "media_kind": media_kind, "language": "vi",
        "methods": {"title": "selector", "body": "selector"}, "http_status": 200,
    }
    # An item given another URL was fetched there (the store keys articles by the fetched URL).
    item.update({"fetched_url": changes["url"]} if "url" in changes else {}, **changes)
    return item


def references_of(key: str) -> list[dict]:
    refs = []
    for document, topic, field, text in ARTICLES[key][8]:
        start = (ARTICLES[key][5 + ("title", "lead", "body").index(field)] or "").find(text)
        number = re.match(r"[\w.]+", text.split()[-1]).group(0)
        refs.append({
            "field": field, "start": start, "end": start + len(text), "text": text,
            "kind": text.split()[0], "number": number, "year": 2025, "issuer": None,
            "signed_on": None, "document": document, "topic": topic,
        })
    return refs


def build_fixture(path: Path) -> None:
    with Store(path) as store:
        store.sync_outlets(OUTLETS)
        first_run = "2025-10-11T01:00"
        for outlet in ("baogialai", "gialaitv", "gialai-gov", "xa-dak-doa"):
            store.start_run(first_run, outlet)
        for key in ARTICLES:
            assert store.save_article(first_run, article_item(key), references_of(key)) == "new"
        # a2 is edited by its outlet: its first text moves to article_versions.
        edited = article_item("a2", body=ARTICLES["a2"][7] + "\nCông suất 500 m³ mỗi ngày.")
        assert store.save_article(first_run, edited, references_of("a2")) == "updated"
        store.record_error(first_run, "baogialai", "https://baogialai.com.vn/x-post1.html",
                           "http_error", "HTTP 500")
        store.record_error(first_run, "baogialai", "https://baogialai.com.vn/x-post2.html",
                           "http_error", "HTTP 503")
        store.record_error(first_run, "baogialai", "https://baogialai.com.vn/x-post3.html",
                           "timeout", "180 s")
        for outlet in ("baogialai", "gialaitv", "gialai-gov", "xa-dak-doa"):
            store.finish_run(first_run, outlet)
        # The next night only Báo Gia Lai is crawled: its latest run is this one.
        second_run = "2025-10-12T01:00"
        store.start_run(second_run, "baogialai")
        outcome = store.save_article(second_run, article_item("a1"), references_of("a1"))
        assert outcome == "unchanged"
        store.record_error(second_run, "baogialai", "https://baogialai.com.vn/y-post4.html",
                           "parse_failed", "no h1.article__title")
        store.finish_run(second_run, "baogialai")


@pytest.fixture(scope="module")
def db_path(tmp_path_factory) -> Path:
    for key, (_, _, _, _, _, title, lead, body, refs) in ARTICLES.items():
        for text in (title, lead or "", body, *(r[3] for r in refs)):
            # As the item pipeline stores them: NFC, new-style tone placement.
            assert unicodedata.is_normalized("NFC", text), key
            assert normalize_text(text) == text, key
    path = tmp_path_factory.mktemp("datasette") / "pressmon.db"
    build_fixture(path)
    return path


@pytest.fixture
def ds(db_path):
    return make_datasette(db_path, public=True)


@pytest.fixture(scope="module")
def ids(db_path) -> dict[str, int]:
    with sqlite3.connect(db_path) as conn:
        by_url = dict(conn.execute("select url, id from articles"))
    return {key: by_url[url_of(key)] for key in ARTICLES}


def sql_rows(db_path: Path, sql: str, params=None) -> list[list]:
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        return [list(row) for row in conn.execute(sql, params or {})]
    finally:
        conn.close()


async def get_json(ds, path: str):
    response = await ds.client.get(path)
    assert response.status_code == 200, (path, response.text[:500])
    return response.json()


# --- search --------------------------------------------------------------------------------

def _unicode61_tokens(text: str) -> set[str]:
    # What FTS5 `unicode61 remove_diacritics 2` does to Vietnamese: drop the combining marks,
    # lower-case, split on anything not a letter or digit; "đ" is not a combining mark.
    stripped = "".join(c for c in unicodedata.normalize("NFD", text)
                       if not unicodedata.combining(c))
    return set(re.findall(r"[^\W_]+", stripped.lower()))


def _has_marks(word: str) -> bool:
    return word != "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c)) \
        or "đ" in word


def expected_matches(query: str) -> set[str]:
    """Articles whose indexed text holds every word of `query`, the way articles_fts
    (title, lead, body as written, plus the folded form where đ becomes d) is searched;
    and, as the search plugin requires, every word typed with diacritics as a whole word
    of the text as written (case and tone placement aside)."""
    wanted = _unicode61_tokens(query)
    typed = {w for w in re.findall(r"[^\W_]+", normalize_text(query).lower()) if _has_marks(w)}
    found = set()
    for key, (_, _, _, _, _, title, lead, body, _) in ARTICLES.items():
        text = " ".join([title, lead or "", body])
        if key == "a2":
            text += " Công suất 500 m³ mỗi ngày."
        folded = text.replace("đ", "d").replace("Đ", "D")
        words = _unicode61_tokens(text) | _unicode61_tokens(folded)
        if wanted <= words and typed <= set(re.findall(r"[^\W_]+", text.lower())):
            found.add(key)
    return found


async def search(ds, ids, query: str) -> set[str]:
    rows = await get_json(ds, "/pressmon/articles.json?" + _qs(_search=query, _shape="array",
                                                              _col="title", _size="max"))
    by_id = {v: k for k, v in ids.items()}
    return {by_id[row["id"]] for row in rows}


def _qs(**params) -> str:
    from urllib.parse import urlencode
    return urlencode(params)


async def test_search_without_diacritics_finds_dak_doa(ds, ids):
    found = await search(ds, ids, "dak doa")
    assert {"a1", "a9"} <= found  # "Đắk Đoa" and the variant "Đak Đoa"
    assert found == expected_matches("dak doa")


async def test_search_with_diacritics_finds_the_spelling_typed(ds, ids):
    # Typed with its marks, a place name matches that spelling only; without marks, all.
    assert await search(ds, ids, "Đắk Đoa") == {"a1"} == expected_matches("Đắk Đoa")
    assert await search(ds, ids, "Đak Đoa") == {"a9"} == expected_matches("Đak Đoa")
    assert await search(ds, ids, "đắk đoa") == {"a1"}  # case aside


async def test_search_folds_o_nhiem_moi_truong(ds, ids):
    found = await search(ds, ids, "o nhiem moi truong")
    assert found == {"a3", "a6", "a9"} == expected_matches("o nhiem moi truong")
    assert await search(ds, ids, "ô nhiễm") == {"a3", "a6", "a9"}


async def test_typed_diacritics_are_kept_and_tone_style_does_not_matter(ds, ids):
    # "hoa" finds a4's "Hòa Hội" and a7's "Văn hóa"; typed "Hòa" is that word only.
    assert await search(ds, ids, "hoa") == {"a4", "a7"} == expected_matches("hoa")
    assert await search(ds, ids, "Hòa") == {"a4"} == expected_matches("Hòa")
    assert await search(ds, ids, "hóa") == {"a7"} == expected_matches("hóa")
    assert await search(ds, ids, "họa") == set()
    # Stored text is "Hòa" (new style, NFC); a user types "Hoà" (old style), in NFC or NFD.
    assert await search(ds, ids, "Hoà") == {"a4"}
    assert await search(ds, ids, unicodedata.normalize("NFD", "Hoà")) == {"a4"}
    assert await search(ds, ids, "HOÀ HỘI") == {"a4"}
    # A word without marks still matches every spelling beside one typed exactly.
    assert await search(ds, ids, "Hòa hoi") == {"a4"}
    assert await search(ds, ids, "hoa hoi") == {"a4"}


async def test_exact_words_apply_to_the_search_only_and_keep_other_filters(ds, ids):
    rows = await get_json(ds, "/pressmon/articles.json?" + _qs(_search="hóa", _shape="array", _col="title",
                                                              outlet_id="baogialai"))
    assert rows == []  # a7 ("Văn hóa") is from the provincial portal
    rows = await get_json(ds, "/pressmon/articles.json?" + _qs(_search="hóa", _shape="array", _col="title",
                                                              outlet_id="gialai-gov"))
    assert [r["id"] for r in rows] == [ids["a7"]]
    html = (await ds.client.get("/pressmon/articles?" + _qs(_search="Hòa"))).text
    assert "Xã Hòa Hội ra mắt" in html and "UBND tỉnh ban hành Kế hoạch" not in html


async def test_the_article_list_searches_the_same_way(ds, ids):
    async def listed(query):
        rows = await get_json(ds, "/pressmon/article_list.json?" + _qs(_search=query, _shape="array", _size="max"))
        by_id = {v: k for k, v in ids.items()}
        return {by_id[row["id"]] for row in rows}

    assert await listed("Hòa") == {"a4"}
    assert await listed("hoa") == {"a4", "a7"}
    assert await listed("dak doa") == expected_matches("dak doa")


async def test_search_for_document_number_does_not_error(ds, ids):
    # Raw FTS5 would read "/" and "-" as syntax; Datasette's escaped mode quotes the phrase.
    found = await search(ds, ids, "1894/QĐ-TTg")
    assert found == {"a1", "a7"}  # not a5's "1894/QĐ-UBND"
    assert await search(ds, ids, "1894/qd-ttg") == {"a1", "a7"}  # via the folded column
    assert await search(ds, ids, "Chỉ thị 20/CT-TTg") == {"a3", "a6", "a8"}
    assert await search(ds, ids, '"Hòa') == {"a4"}  # an unbalanced quote is no error either


# --- table page: sort and facets ------------------------------------------------------------

async def test_articles_sorted_newest_first(ds, ids):
    data = await get_json(ds, "/pressmon/articles.json?_shape=objects&_size=max")
    published = [row["published_at"] for row in data["rows"]]
    assert len(published) == len(ARTICLES)
    dated = [p for p in published if p is not None]
    assert dated == sorted(dated, reverse=True)
    assert published[0] == "2025-10-10T11:00:00+07:00"
    assert published[-1] is None  # undated items last
    # The search key is the publication time (then the id): the same order, from an index.
    assert data["human_description_en"] == "sorted by search_key descending"


async def test_facets_from_metadata_with_counts(ds, db_path):
    data = await get_json(ds, "/pressmon/articles.json?_shape=objects")
    facets = data["facet_results"]
    assert set(facets) == {"outlet_id", "outlet_kind", "section", "published_month", "media_kind"}
    for column in facets:
        got = {r["value"]: r["count"] for r in facets[column]["results"]}
        expected = dict(sql_rows(
            db_path, f"select {column}, count(*) from articles where {column} is not null "
            f"group by {column}"))
        assert got == expected, column
    assert {r["value"]: r["count"] for r in facets["outlet_kind"]["results"]} == {
        "newspaper": 6, "broadcaster": 2, "government_portal": 2, "commune_portal": 2}
    assert {r["value"]: r["count"] for r in facets["published_month"]["results"]} == {
        "2025-07": 2, "2025-08": 2, "2025-09": 5, "2025-10": 2}
    # outlets.label_column = name: the outlet facet shows names.
    labels = {r["value"]: r["label"] for r in facets["outlet_id"]["results"]}
    assert labels["gialai-gov"] == "Cổng thông tin điện tử tỉnh Gia Lai"


async def test_facets_follow_search(ds):
    data = await get_json(ds, "/pressmon/articles.json?" + _qs(_search="o nhiem moi truong",
                                                               _shape="objects"))
    kinds = {r["value"]: r["count"] for r in data["facet_results"]["outlet_kind"]["results"]}
    assert kinds == {"newspaper": 1, "broadcaster": 1, "commune_portal": 1}


async def test_table_page_html_links_urls_and_is_labelled(ds):
    response = await ds.client.get("/pressmon/articles?_col=title&_col=url")
    assert response.status_code == 200
    assert f'<a href="{url_of("a12")}">' in response.text
    assert "Bài viết" in response.text  # table title from metadata
    index = await ds.client.get("/")
    assert "pressmon — Giám sát truyền thông Gia Lai" in index.text
    assert "1894/QĐ-TTg" in index.text and "20/CT-TTg" in index.text


@pytest.mark.parametrize("path", [
    "/", "/pressmon", "/pressmon/articles", "/pressmon/outlets", "/pressmon/crawl_runs",
    "/pressmon/crawl_errors", "/pressmon/article_versions", "/pressmon/article_references",
    "/pressmon/coverage_by_outlet_month", "/pressmon/newest_items",
    "/pressmon/references_by_document", "/pressmon/crawl_health",
    "/pressmon/coverage_by_outlet_month?outlet_kind=newspaper&from_month=2025-08&to_month=",
    "/pressmon/articles.csv?_stream=on", "/pressmon/coverage_by_outlet_month.csv",
])
async def test_every_page_renders(ds, path):
    response = await ds.client.get(path)
    assert response.status_code == 200, path


# --- metadata ------------------------------------------------------------------------------

async def test_every_column_is_described(db_path):
    tables = load_metadata(db_path)["databases"]["pressmon"]["tables"]
    for table in ("articles", "outlets", "crawl_runs", "crawl_errors", "article_versions",
                  "article_references"):
        # table_xinfo: generated columns too, as Datasette shows them.
        columns = {row[1] for row in sql_rows(db_path, f"pragma table_xinfo({table})")}
        described = set(tables[table]["columns"])
        assert described == columns, (table, columns ^ described)
        assert all(tables[table]["columns"].values())


async def test_shadow_and_migration_tables_hidden(ds, db_path):
    response = await ds.client.get("/pressmon.json", cookies=signed_in(ds, db_path))
    assert response.status_code == 200
    data = response.json()
    hidden = {t["name"] for t in data["tables"] if t["hidden"]}
    visible = {t["name"] for t in data["tables"] if not t["hidden"]}
    assert {"articles_fts", "articles_fts_data", "articles_fts_idx", "_migrations"} <= hidden
    assert all(name.startswith(("articles_fts", "_migrations")) for name in hidden)
    assert visible == {"articles", "outlets", "crawl_runs", "crawl_errors", "article_versions",
                       "article_references", "article_topics", "verdicts", "article_places", "source_health", "http_validators",
                       "article_aliases", "current_decisions", "decision_counts", "article_counts",
                       "reclassify_runs"}


async def test_metadata_follows_the_database_file_name(db_path, tmp_path):
    other = tmp_path / "giam-sat-2025.db"
    shutil.copy(db_path, other)
    ds = make_datasette(other, public=True)
    data = await get_json(ds, "/giam-sat-2025/coverage_by_outlet_month.json?_shape=array")
    assert data
    table = await get_json(ds, "/giam-sat-2025/articles.json?" + _qs(_search="dak doa"))
    assert set(table["facet_results"]) >= {"outlet_id", "published_month"}
    assert table["rows"]


# --- canned queries ------------------------------------------------------------------------

def canned_sql(db_path, name: str) -> str:
    return load_metadata(db_path)["databases"]["pressmon"]["queries"][name]["sql"]


async def assert_canned_matches_sqlite(ds, db_path, name: str, params: dict) -> list[list]:
    data = await get_json(ds, f"/pressmon/{name}.json?" + _qs(**params))
    expected = sql_rows(db_path, canned_sql(db_path, name), params)
    assert data["rows"] == expected
    assert data["truncated"] is False
    return data["rows"]


COVERAGE_FILTERS = [
    {"outlet_kind": "", "from_month": "", "to_month": ""},
    {},  # parameters left out entirely: Datasette fills them with ""
    {"outlet_kind": "newspaper", "from_month": "", "to_month": ""},
    {"outlet_kind": "", "from_month": "2025-08", "to_month": "2025-09"},
    {"outlet_kind": "government_portal", "from_month": "2025-09", "to_month": ""},
]


@pytest.mark.parametrize("filters", COVERAGE_FILTERS)
async def test_coverage_by_outlet_month(ds, db_path, filters):
    params = {"outlet_kind": "", "from_month": "", "to_month": ""} | filters
    data = await get_json(ds, "/pressmon/coverage_by_outlet_month.json?" + _qs(**filters))
    assert data["rows"] == sql_rows(db_path, canned_sql(db_path, "coverage_by_outlet_month"),
                                    params)
    # The same counts worked out from the fixture itself.
    kind_of = {o["id"]: o["kind"] for o in OUTLETS}
    expected = collections.Counter()
    for outlet, _, published_at, *_ in ARTICLES.values():
        month = published_at[:7] if published_at else None
        if params["outlet_kind"] and kind_of[outlet] != params["outlet_kind"]:
            continue
        if params["from_month"] and (month is None or month < params["from_month"]):
            continue
        if params["to_month"] and (month is None or month > params["to_month"]):
            continue
        expected[(outlet, month)] += 1
    columns = data["columns"]
    got = {(r[columns.index("outlet_id")], r[columns.index("published_month")]):
           r[columns.index("articles")] for r in data["rows"]}
    assert got == dict(expected)


async def test_coverage_counts_topics_once_per_article(ds):
    rows = await get_json(ds, "/pressmon/coverage_by_outlet_month.json?" + _qs(
        _shape="array", outlet_kind="newspaper", from_month="2025-09", to_month="2025-09"))
    assert rows == [{
        "outlet_id": "baogialai", "outlet_name": "Báo và Phát thanh, Truyền hình Gia Lai",
        "outlet_kind": "newspaper", "published_month": "2025-09",
        # a1 (cites 1894 twice), a2 (980/QĐ-TTg), a5 (look-alikes only)
        "articles": 3, "articles_qd1894": 2, "articles_ct20": 0,
    }]


async def test_newest_items(ds, db_path, ids):
    rows = await assert_canned_matches_sqlite(ds, db_path, "newest_items", {})
    data = await get_json(ds, "/pressmon/newest_items.json?_shape=array")
    assert [r["id"] for r in data[:3]] == [ids["a12"], ids["a7"], ids["a5"]]
    assert data[0] == {
        "id": ids["a12"], "published_at": "2025-10-10T11:00:00+07:00", "outlet_id": "baogialai",
        "outlet_name": "Báo và Phát thanh, Truyền hình Gia Lai",
        "title": "Ảnh: Cụm công nghiệp tái chế đầu tiên của Gia Lai", "url": url_of("a12"),
    }
    assert len(rows) == len(ARTICLES)
    page = await ds.client.get("/pressmon/newest_items")
    assert f'<a href="{url_of("a7")}">' in page.text


@pytest.mark.parametrize("filters", [
    {"document": "", "topic": ""},
    {"document": "1894/QĐ-TTg", "topic": ""},
    {"document": "", "topic": "ct20"},
])
async def test_references_by_document(ds, db_path, filters):
    rows = await assert_canned_matches_sqlite(ds, db_path, "references_by_document", filters)
    expected = collections.defaultdict(set)
    for key, (outlet, _, published_at, *_rest, refs) in ARTICLES.items():
        for document, topic, _field, _text in refs:
            if document is None:
                continue
            if filters["document"] and document != filters["document"]:
                continue
            if filters["topic"] and topic != filters["topic"]:
                continue
            expected[(document, published_at[:7])].add(key)
    got = {(r[0], r[2]): r[3] for r in rows}
    assert got == {k: len(v) for k, v in expected.items()}


async def test_references_by_document_counts_distinct_articles(ds):
    rows = await get_json(ds, "/pressmon/references_by_document.json?" + _qs(
        _shape="array", document="1894/QĐ-TTg"))
    # a1 cites it twice (lead and body) and counts once.
    assert rows == [
        {"document": "1894/QĐ-TTg", "topic": "qd1894", "published_month": "2025-10",
         "articles": 1, "outlets": 1},
        {"document": "1894/QĐ-TTg", "topic": "qd1894", "published_month": "2025-09",
         "articles": 1, "outlets": 1},
    ]


async def test_crawl_health(ds, db_path):
    rows = await assert_canned_matches_sqlite(ds, db_path, "crawl_health", {})
    health = await get_json(ds, "/pressmon/crawl_health.json?_shape=array")
    data = {r["outlet_id"]: r for r in health}
    assert set(data) == {o["id"] for o in OUTLETS}
    latest = data["baogialai"]
    assert latest["run_id"] == "2025-10-12T01:00"
    assert latest["status"] == "finished"
    assert (latest["articles_new"], latest["articles_unchanged"], latest["errors"]) == (0, 1, 1)
    assert latest["error_kinds"] == "parse_failed: 1"
    assert latest["last_new_article_at"] is not None
    tv = data["gialaitv"]
    assert tv["run_id"] == "2025-10-11T01:00" and tv["articles_new"] == 2 and tv["errors"] == 0
    assert tv["error_kinds"] is None
    never = data["congthuong"]
    assert never["run_id"] is None and never["last_new_article_at"] is None
    assert len(rows) == len(OUTLETS)


async def test_first_run_errors_grouped_by_kind(ds, db_path):
    # The same sub-query over the first run, to check the "kind: n" summary and its order.
    rows = sql_rows(db_path, "select group_concat(kind || ': ' || n, ', ') from ("
                    "select kind, count(*) as n from crawl_errors where run_id = :r and "
                    "outlet_id = 'baogialai' group by kind order by n desc, kind)",
                    {"r": "2025-10-11T01:00"})
    assert rows == [["http_error: 2, timeout: 1"]]


# --- the article page ------------------------------------------------------------------------

async def test_article_page_is_readable_with_references(ds, ids):
    response = await ds.client.get(f"/pressmon/articles/{ids['a1']}")
    assert response.status_code == 200
    html = response.text
    assert '<article class="pressmon-article">' in html
    assert "Đắk Đoa ra quân thu gom rác thải sinh hoạt" in html
    assert "Báo và Phát thanh, Truyền hình Gia Lai" in html
    assert "08:15 05/09/2025" in html
    assert f'href="{url_of("a1")}"' in html
    # The lead, its reference to the watched document marked (tests/test_article_page.py).
    assert re.search(r'<p class="lead">\(GLO\)- Xã Đắk Đoa triển khai <mark class="ref" title="[^"]+">'
                     r"Quyết định 1894/QĐ-TTg</mark>", html)
    assert "<p>Các thôn cam kết phân loại rác tại nguồn.</p>" in html
    assert "Văn bản được trích dẫn" in html
    assert html.count("“Quyết định 1894/QĐ-TTg”") == 2
    assert "Sa-pô, ký tự" in html and "Nội dung, ký tự" in html


async def test_article_page_without_references_and_with_versions(ds, ids):
    html = (await ds.client.get(f"/pressmon/articles/{ids['a4']}")).text
    assert "Bài này không trích dẫn văn bản nào" in html
    assert "Video" in html
    html = (await ds.client.get(f"/pressmon/articles/{ids['a2']}")).text
    assert "1 phiên bản" in html
    assert "<p>Công suất 500 m³ mỗi ngày.</p>" in html
    html = (await ds.client.get(f"/pressmon/articles/{ids['a11']}")).text
    assert "Ngày đăng</dt><dd>không rõ" in html


async def test_look_alike_references_shown_as_other_documents(ds, ids):
    html = (await ds.client.get(f"/pressmon/articles/{ids['a5']}")).text
    assert "văn bản khác" in html and "“Chỉ thị 20-CT/TW”" in html


async def test_a_sign_of_a_document_is_shown_with_its_name(tmp_path):
    """An item `probable` by a sign shows the sign's span and, in Vietnamese, which sign."""
    from pressmon.nlp.topics import SHIPPED_MODEL, TopicModel

    model = TopicModel.load(SHIPPED_MODEL)
    item = article_item("a3", title="Phường Hoàn Kiếm chuẩn bị dừng xe máy xăng", lead=None,
                        body="Từ ngày 1/7/2026, mô tô, xe gắn máy chạy xăng không được lưu thông trong khu vực "
                             "Vành đai 1. Phường lập danh sách hộ cần hỗ trợ chuyển đổi.")
    decided = model.classify(item)
    assert decided["topics"]["ct20"]["tier"] == "probable"
    path = tmp_path / "pressmon.db"
    with Store(path) as store:
        store.sync_outlets(OUTLETS)
        store.start_run("r1", "gialai-gov")
        store.save_article("r1", item, [], classification={"model_version": model.version,
                                                           "topics": decided["topics"]})
    html = (await make_datasette(path, public=True).client.get("/pressmon/articles/1")).text
    assert "(dấu hiệu của văn bản: Không để mô tô, xe gắn máy chạy xăng lưu thông trong Vành đai 1" in html
    assert "“mô tô, xe gắn máy chạy xăng không được lưu thông trong khu vực Vành đai 1”" in html


async def test_other_row_pages_keep_datasette_layout(ds):
    response = await ds.client.get("/pressmon/outlets/gialai-gov")
    assert response.status_code == 200
    assert "pressmon-article" not in response.text
    assert "Cổng thông tin điện tử tỉnh Gia Lai" in response.text
    assert (await ds.client.get("/pressmon/articles/999999")).status_code == 404


# --- read-only -----------------------------------------------------------------------------

def table_counts(db_path) -> dict:
    return {t: sql_rows(db_path, f"select count(*) from {t}")[0][0]
            for t in ("articles", "outlets", "article_references", "crawl_runs")}


async def test_anonymous_cannot_write(ds, db_path):
    before = table_counts(db_path)
    assert (await get_json(ds, "/-/actor.json")) == {"actor": None}
    # Datasette 0.65 has no write API; none of these may change anything.
    for path in ("/-/create", "/pressmon/-/create", "/pressmon/articles/-/insert",
                 "/pressmon/articles/1/-/delete", "/pressmon/articles", "/pressmon/newest_items",
                 "/pressmon.json"):
        response = await ds.client.post(path, json={"row": {"url": "x"}})
        assert response.status_code >= 400, path
    # Anonymous visitors run no SQL of their own, reading or writing.
    for sql in ("delete from articles", "select count(*) as n from articles"):
        assert (await ds.client.get("/pressmon.json?" + _qs(sql=sql))).status_code == 403
    # An admin may read with SQL, and still cannot write through it.
    admin = signed_in(ds, db_path, "admin")
    for sql in ("delete from articles", "update outlets set name = 'x' returning id"):
        assert (await ds.client.get("/pressmon.json?" + _qs(sql=sql), cookies=admin)).status_code == 400
    response = await ds.client.get("/pressmon.json?" + _qs(sql="select count(*) as n from articles", _shape="array"),
                                   cookies=admin)
    assert response.json() == [{"n": len(ARTICLES)}]
    assert table_counts(db_path) == before


async def test_connections_are_read_only(ds):
    db = ds.get_database("pressmon")
    assert db.is_mutable  # attached as a file that changes, not immutable
    with pytest.raises(sqlite3.OperationalError, match="readonly"):
        await db.execute("insert into outlets (id, name) values ('x', 'y')")


def test_no_write_canned_queries_or_permission_overrides(db_path):
    metadata = load_metadata(db_path)
    queries = metadata["databases"]["pressmon"]["queries"]
    assert set(queries) == {"coverage_by_outlet_month", "newest_items", "references_by_document",
                            "crawl_health", "coverage_by_document"}
    assert not any(q.get("write") for q in queries.values())

    def keys(node):
        if isinstance(node, dict):
            for key, value in node.items():
                yield key
                yield from keys(value)

    # No allow / allow_sql / allow_write blocks: Datasette's read-only defaults apply.
    assert not [key for key in keys(metadata) if key.startswith("allow")]
    for query in queries.values():
        assert query["title"] and query["description"]


def test_options(db_path):
    options = datasette_options(db_path)
    assert options["files"] == [str(db_path)]
    assert "immutables" not in options
    assert options["settings"]["default_page_size"] == 50
    assert Path(options["template_dir"], "row.html").is_file()
    assert Path(options["plugins_dir"], "pressmon_article.py").is_file()
    with pytest.raises(DatabaseProblem, match="no database at"):
        datasette_options(db_path.parent / "missing.db")
    not_sqlite = db_path.parent / "notes.txt"
    not_sqlite.write_text("not a database", encoding="utf-8")
    with pytest.raises(DatabaseProblem, match="is not a SQLite database"):
        datasette_options(not_sqlite)


async def test_unknown_route_is_a_404_not_a_crash(ds):
    response = await ds.client.get("/pressmon/articles/1/-/nothing-here")
    assert response.status_code == 404


# --- reading while a crawl writes ------------------------------------------------------------

async def test_reads_a_wal_database_while_the_store_writes(tmp_path):
    path = tmp_path / "pressmon.db"
    with Store(path) as store:
        store.sync_outlets(OUTLETS[:1])
        store.start_run("r", "baogialai")
        store.save_article("r", article_item("a1"), references_of("a1"))
        ds = make_datasette(path, public=True)
        assert Path(f"{path}-wal").exists()
        first = await get_json(ds, "/pressmon/articles.json?_shape=array&_col=title")
        assert len(first) == 1
        # The crawl goes on with its connection open; Datasette sees each commit.
        store.save_article("r", article_item("a12"), references_of("a12"))
        assert Path(f"{path}-wal").exists()
        rows = await get_json(ds, "/pressmon/articles.json?" + _qs(
            _search="cum cong nghiep", _shape="array", _col="title"))
        assert [r["title"] for r in rows] == [ARTICLES["a12"][5]]
        health = await get_json(ds, "/pressmon/crawl_health.json?_shape=array")
        assert health[0]["status"] == "running" and health[0]["articles_new"] == 2
