"""Search newest first with a cap, exports of every match, and the search index keyed by
publication time (issue 11), on tests/test_datasette.py's fixture: through Datasette's
in-process client, a real server on 127.0.0.1 for a client that goes away, and the store.

The cap is plugin configuration (`pressmon-search: cap`), set to 2 here so that three
matches are "more than the cap" on a small database."""

from __future__ import annotations

import csv
import io
import socket
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import pytest
import sqlite_utils
import uvicorn
from datasette.app import Datasette
from openpyxl import load_workbook

from pressmon.pipeline.publish import Access, datasette_options
from pressmon.pipeline.accounts import Accounts
from pressmon.pipeline.store import Store
from pressmon.pipeline.store.database import folded_text
from pressmon.pipeline.store.migrations import MIGRATIONS, migrate
from test_datasette import ARTICLES, OUTLETS, article_item, build_fixture

BOM = b"\xef\xbb\xbf"
CAP = 2
COMMON = "o nhiem moi truong"  # a3, a6 and a9 (test_datasette)


def site(db_path: Path, **search) -> Datasette:
    """The site `pressmon serve --public` makes, with the search plugin's configuration changed."""
    options = datasette_options(db_path)
    options["metadata"]["plugins"]["pressmon-search"].update(search)
    ds = Datasette(**options)
    ds.pressmon_access = Access(Accounts.beside(db_path), public=True)
    return ds


@pytest.fixture(scope="module")
def db_path(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("search") / "pressmon.db"
    build_fixture(path)
    return path


def titles(*keys: str) -> list[str]:
    return [ARTICLES[key][5] for key in keys]


def newest_first(*keys: str) -> list[str]:
    return [ARTICLES[key][5] for key in sorted(keys, key=lambda k: ARTICLES[k][2] or "", reverse=True)]


def read_csv(content: bytes) -> list[dict]:
    assert content.startswith(BOM)
    return list(csv.DictReader(io.StringIO(content[len(BOM):].decode("utf-8"))))


async def test_search_results_come_newest_first(db_path):
    ds = site(db_path)
    for query in (COMMON, "dak doa", "Hòa hoi", "1894/QĐ-TTg"):
        rows = (await ds.client.get("/pressmon/article_list.json?" + urlencode(
            {"_search": query, "_shape": "array", "_col": "published_at"}))).json()
        published = [row["published_at"] for row in rows]
        assert published and published == sorted(published, reverse=True), query


async def test_more_matches_than_the_cap_say_so_and_show_the_newest(db_path):
    ds = site(db_path, cap=CAP)
    data = (await ds.client.get("/pressmon/article_list.json?" + urlencode({"_search": COMMON}))).json()
    assert data["filtered_table_rows_count"] == CAP
    assert [row[0] for row in data["rows"]] == newest_first("a3", "a6", "a9")[:CAP]
    facets = data["facet_results"]["outlet_kind"]["results"]
    assert sum(r["count"] for r in facets) == CAP  # the facets count the capped set
    page = (await ds.client.get("/pressmon/article_list?" + urlencode({"_search": COMMON}))).text
    assert "hơn 2 bài" in page
    assert "chỉ tính 2 bài mới nhất" in page
    # Under the cap nothing is said.
    page = (await ds.client.get("/pressmon/article_list?" + urlencode({"_search": "Hòa"}))).text
    assert "hơn " not in page and "1 dòng" in page


async def test_a_filter_on_a_capped_search_says_what_it_counted_in(db_path):
    ds = site(db_path, cap=CAP)
    newest = ARTICLES[sorted(("a3", "a6", "a9"), key=lambda k: ARTICLES[k][2], reverse=True)[0]]
    page = (await ds.client.get("/pressmon/article_list?" + urlencode(
        {"_search": COMMON, "outlet_id": newest[0]}))).text
    assert "trong 2 bài mới nhất tìm thấy" in page


async def test_typed_diacritics_still_filter_under_a_cap(db_path):
    ds = site(db_path, cap=1)
    for query, expected in (("Hòa", ["a4"]), ("hóa", ["a7"]), ("họa", []), ("Hòa hoi", ["a4"])):
        rows = (await ds.client.get("/pressmon/articles.json?" + urlencode(
            {"_search": query, "_shape": "array", "_col": "title"}))).json()
        assert [row["title"] for row in rows] == titles(*expected), query
    rows = (await ds.client.get("/pressmon/articles.json?" + urlencode(
        {"_search": "ô nhiễm", "_shape": "array", "_col": "title"}))).json()
    assert [row["title"] for row in rows] == newest_first("a3", "a6", "a9")[:1]


async def test_typed_diacritics_look_at_the_newest_scan_matches_and_say_so(db_path):
    ds = site(db_path, scan=1)
    # "hoa" matches a7 (hóa) and a4 (Hòa); a7 is newer: looking at one match finds no "hòa".
    assert ARTICLES["a7"][2] > ARTICLES["a4"][2]
    page = (await ds.client.get("/pressmon/article_list?" + urlencode({"_search": "Hòa"}))).text
    assert "Chỉ xét 1 bài mới nhất có các từ này" in page
    csv_rows = read_csv((await ds.client.get("/pressmon/article_list.csv?" + urlencode(
        {"_search": "Hòa", "_stream": "on"}))).content)
    assert [row["title"] for row in csv_rows] == titles("a4")  # the export looks at every match


async def test_the_export_of_a_capped_search_holds_every_match(db_path):
    ds = site(db_path, cap=CAP)
    for table in ("article_list", "articles"):
        response = await ds.client.get(f"/pressmon/{table}.csv?" + urlencode({"_search": COMMON, "_stream": "on", "_dl": 1}))
        assert response.status_code == 200
        rows = read_csv(response.content)
        assert [row["title"] for row in rows] == newest_first("a3", "a6", "a9")
        assert "search_key" not in rows[0]  # the sort key is not for people
        xlsx = await ds.client.get(f"/pressmon/{table}.xlsx?" + urlencode({"_search": COMMON}))
        assert int(xlsx.headers["content-length"]) == len(xlsx.content)
        book = load_workbook(io.BytesIO(xlsx.content), read_only=True)
        sheet_rows = list(book.worksheets[0].iter_rows(values_only=True))
        position = sheet_rows[0].index("title")
        assert [row[position] for row in sheet_rows[1:]] == newest_first("a3", "a6", "a9")


# --- a client that goes away ---------------------------------------------------------------

BIG_BODY = "Bài viết dài để tệp xuất lớn hơn bộ đệm của kết nối. " * 1200  # ~70 kB a row
BIG_ROWS = 400


@pytest.fixture(scope="module")
def big_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("big") / "pressmon.db"
    with Store(path) as store:
        store.sync_outlets(OUTLETS)
        store.start_run("r1", "baogialai")
        for n in range(BIG_ROWS):
            store.save_article("r1", article_item(
                "a1", url=f"https://baogialai.com.vn/bai-dai-post{n}.html", title=f"Bài dài số {n}",
                body=f"{n} {BIG_BODY}", published_at=f"2025-05-{1 + n % 28:02d}T08:00:00+07:00"), [])
        store.finish_run("r1", "baogialai")
    return path


def export_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "pressmon-export"]


def wait_for(condition, seconds: float = 30) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_an_abandoned_export_stops_the_servers_work(big_db):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(site(big_db).app(), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        assert wait_for(lambda: server.started)
        client = socket.create_connection(("127.0.0.1", port))
        client.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        client.sendall(b"GET /pressmon/articles.csv?_stream=on HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        assert client.recv(4096).startswith(b"HTTP/1.1 200")
        # The client reads no more: the export waits for it, holding its cursor.
        assert wait_for(lambda: len(export_threads()) == 1)
        time.sleep(0.5)
        assert len(export_threads()) == 1
        client.close()
        assert wait_for(lambda: not export_threads()), "the export went on after the client left"
    finally:
        server.should_exit = True
        thread.join(10)


# --- the index: keyed by publication time ----------------------------------------------------

def fts_ids(db: sqlite_utils.Database, query: str) -> list[int]:
    return [row[0] for row in db.execute(
        "SELECT a.id FROM articles_fts JOIN articles a ON a.search_key = articles_fts.rowid "
        "WHERE articles_fts MATCH ? ORDER BY articles_fts.rowid DESC", [query]).fetchall()]


def exact_ids(db: sqlite_utils.Database, query: str) -> list[int]:
    return [row[0] for row in db.execute(
        "SELECT a.id FROM articles_fts_exact JOIN articles a ON a.search_key = articles_fts_exact.rowid "
        "WHERE articles_fts_exact MATCH ? ORDER BY articles_fts_exact.rowid DESC", [query]).fetchall()]


def test_the_search_row_moves_when_the_publication_time_changes(tmp_path):
    def rows_match_keys():
        keys = {row[0] for row in store.db.execute("SELECT search_key FROM articles")}
        return {row[0] for row in store.db.execute("SELECT rowid FROM articles_fts")} == keys

    with Store(tmp_path / "p.db") as store:
        store.sync_outlets(OUTLETS)
        store.start_run("r1", "baogialai")
        store.save_article("r1", article_item("a1"))
        store.save_article("r1", article_item("a3"))
        a1, a3 = (store.db.execute("SELECT id FROM articles WHERE url = ?", [article_item(k)["url"]]).fetchone()[0]
                  for k in ("a1", "a3"))
        assert fts_ids(store.db, "quyet") == [a1, a3]  # a1 is the newer
        # The outlet corrects a1's date to an older one, with a new text: the store rewrites it.
        store.save_article("r1", article_item("a1", published_at="2024-01-02T09:00:00+07:00",
                                              body=ARTICLES["a1"][7] + "\nĐính chính ngày đăng."))
        assert fts_ids(store.db, "quyet") == [a3, a1] and fts_ids(store.db, "dinh chinh") == [a1]
        assert rows_match_keys()
        # Whoever changes the date, the row follows with its text (trigger).
        assert exact_ids(store.db, '"đính"') == [a1]
        store.db.execute("UPDATE articles SET published_at = '2027-01-01T00:00:00+07:00' WHERE id = ?", [a1])
        assert fts_ids(store.db, "quyet") == [a1, a3] and fts_ids(store.db, "dinh chinh") == [a1]
        assert rows_match_keys()
        # The exact index (words as typed, with their marks) follows too, text and key.
        assert exact_ids(store.db, '"đính" "chính"') == [a1] and exact_ids(store.db, '"dính"') == []
        store.save_article("r1", article_item("a1", published_at="2027-01-01T00:00:00+07:00",
                                              body="Bài mẫu đã được viết lại."))
        assert exact_ids(store.db, '"đính"') == [] and exact_ids(store.db, '"viết"') == [a1]
        assert store.db.execute("SELECT count(*) FROM articles_fts_exact WHERE articles_fts_exact MATCH '\"được\"'"
                                ).fetchone()[0] == len(exact_ids(store.db, '"được"'))
        assert store.integrity_check() == "ok"


def test_the_migration_rebuilds_an_old_index_with_the_same_results(tmp_path):
    # A database as migration 10 left it, written as the store then wrote it (rowid = id).
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    migrate(db, MIGRATIONS[:10])
    db["outlets"].insert_all(OUTLETS)
    for n, key in enumerate(ARTICLES, start=1):
        outlet, slug, published, section, media, title, lead, body, _ = ARTICLES[key]
        db.execute("INSERT INTO articles (id, url, outlet_id, title, lead, body, published_at, content_sha256, "
                   "first_seen_at, last_seen_at, changed_at) VALUES (?, ?, ?, ?, ?, ?, ?, '', '', '', '')",
                   [n, slug, outlet, title, lead, body, published])
        db.execute("INSERT INTO articles_fts (rowid, title, lead, body, folded) VALUES (?, ?, ?, ?, ?)",
                   [n, title, lead, body, folded_text(title, lead, body)])
    db.conn.commit()
    queries = ("dak doa", "Đắk Đoa", COMMON, "hoa", "1894", "chi thi 20")
    before = {q: sorted(r[0] for r in db.execute("SELECT rowid FROM articles_fts WHERE articles_fts MATCH ?", [q]))
              for q in queries}
    assert all(before.values())
    migrate(db)
    for query in queries:
        assert sorted(fts_ids(db, query)) == before[query], query
        published = [db.execute("SELECT published_at FROM articles WHERE id = ?", [i]).fetchone()[0]
                     for i in fts_ids(db, query)]
        dated = [p for p in published if p]
        assert dated == sorted(dated, reverse=True) and published[len(dated):] == [None] * (len(published) - len(dated))
    assert db.execute("SELECT count(*) FROM articles_fts").fetchone()[0] == len(ARTICLES)
    db.execute("INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')")
