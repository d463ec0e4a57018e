"""The SQLite store against real database files: schema, change tracking, search, migrations
and survival of a SIGKILL mid-write."""

from __future__ import annotations

import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlite_utils

from pressmon.pipeline.store.migrations import MIGRATIONS, migrate, schema_version
from pressmon.pipeline.store import Store
from pressmon.pipeline.store.database import content_sha256

REPO_ROOT = Path(__file__).resolve().parent.parent

OUTLET = {
    "id": "baogialai", "name": "Báo và Phát thanh, Truyền hình Gia Lai", "kind": "newspaper",
    "family": "zce", "domain": "baogialai.com.vn", "home_url": "https://baogialai.com.vn/",
    "language": "vi",
}

# The columns docs/design.md promises; the store may add more, never fewer.
DESIGN_COLUMNS = {
    "outlets": {"id", "name", "kind", "family", "domain", "home_url", "language"},
    "articles": {
        "id", "url", "outlet_id", "outlet_kind", "title", "lead", "body", "author", "section",
        "tags", "published_at", "published_raw", "published_month", "modified_at",
        "media_kind", "language", "methods", "content_sha256", "first_seen_at",
        "last_seen_at", "last_run_id",
    },
    "article_versions": {
        "id", "article_id", "title", "lead", "body", "content_sha256", "modified_at",
        "first_seen_at", "replaced_at",
    },
    "crawl_runs": {
        "id", "run_id", "outlet_id", "started_at", "finished_at", "status", "pages_fetched",
        "articles_new", "articles_updated", "articles_unchanged", "errors",
    },
    "crawl_errors": {"id", "run_id", "outlet_id", "url", "kind", "detail", "at"},
    "article_references": {
        "id", "article_id", "field", "start", "end", "text", "kind", "number", "year",
        "issuer", "signed_on", "document", "topic",
    },
    "articles_fts": {"title", "lead", "body", "folded"},
}


def article_item(n: int = 1, **changes) -> dict:
    item = {
        "type": "article", "outlet_id": "baogialai",
        "url": f"https://baogialai.com.vn/bai-{n}.html",
        "fetched_url": f"https://baogialai.com.vn/bai-{n}.html?utm_source=rss",
        "title": "Đắk Đoa triển khai Quyết định 1894/QĐ-TTg",
        "lead": "Huyện Đắk Đoa họp bàn về ô nhiễm môi trường.",
        "body": "Xã Hòa Phú kiểm tra các điểm ô nhiễm môi trường.",
        "author": "Minh Châu", "section": "Xã hội", "tags": ["môi trường", "Đắk Đoa"],
        "published_at": "2025-09-04T14:30:00+07:00", "published_raw": "04/09/2025 14:30",
        "modified_at": None, "media_kind": "text", "language": "vi",
        "methods": {"title": "selector", "body": "trafilatura"}, "http_status": 200,
    }
    item.update(changes)
    return item


def reference(text: str = "1894/QĐ-TTg", topic: str | None = "qd1894") -> dict:
    return {
        "field": "title", "start": 26, "end": 26 + len(text), "text": text, "kind": "QĐ",
        "number": "1894", "year": None, "issuer": "TTg", "signed_on": None,
        "document": "1894/QĐ-TTg", "topic": topic,
    }


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "pressmon.db"


@pytest.fixture
def store(db_path: Path):
    with Store(db_path) as store:
        store.sync_outlets([OUTLET])
        store.start_run("run-1", "baogialai")
        yield store


def rows(store: Store, sql: str, params=()) -> list[dict]:
    return list(store.db.query(sql, params))


def run_counters(store: Store, run_id: str = "run-1") -> dict:
    return rows(
        store,
        "SELECT pages_fetched, articles_new, articles_updated, articles_unchanged, errors "
        "FROM crawl_runs WHERE run_id = ?",
        [run_id],
    )[0]


def search(store: Store, query: str) -> list[int]:
    """Ids of the articles whose search row matches (a row's rowid is its article's search_key)."""
    sql = ("SELECT a.id FROM articles_fts JOIN articles a ON a.search_key = articles_fts.rowid "
           "WHERE articles_fts MATCH ? ORDER BY a.id")
    return [row[0] for row in store.db.execute(sql, [query]).fetchall()]


# Schema ---------------------------------------------------------------------------------


def test_schema_has_the_columns_of_the_design(store: Store):
    for table, columns in DESIGN_COLUMNS.items():
        actual = {row[1] for row in store.db.execute(f"PRAGMA table_info({table})")}
        assert columns <= actual, f"{table} lacks {columns - actual}"


def test_schema_constraints_and_connection_settings(store: Store):
    assert schema_version(store.db) == len(MIGRATIONS)
    assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert store.db.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert store.db.execute("PRAGMA busy_timeout").fetchone()[0] == 5000
    indexed = {
        (table, tuple(index.columns))
        for table in ("articles", "article_references", "crawl_errors", "crawl_runs")
        for index in store.db[table].indexes
    }
    assert {
        ("articles", ("url",)), ("articles", ("outlet_id",)), ("articles", ("published_at",)),
        ("articles", ("published_month",)), ("article_references", ("article_id",)),
        ("article_references", ("topic",)), ("crawl_errors", ("run_id",)),
        ("crawl_runs", ("run_id", "outlet_id")),
    } <= indexed
    foreign_keys = {
        (fk.table, fk.column, fk.other_table)
        for table in ("articles", "article_versions", "article_references")
        for fk in store.db[table].foreign_keys
    }
    assert foreign_keys == {
        ("articles", "outlet_id", "outlets"),
        ("article_versions", "article_id", "articles"),
        ("article_references", "article_id", "articles"),
    }


def test_times_are_iso_seconds_in_vietnam(store: Store):
    store.save_article("run-1", article_item())
    seen = rows(store, "SELECT first_seen_at FROM articles")[0]["first_seen_at"]
    assert len(seen) == len("2025-09-04T14:30:00+07:00") and seen.endswith("+07:00")


# Saving articles ------------------------------------------------------------------------


def test_saving_the_same_item_twice_keeps_one_row(store: Store):
    assert store.save_article("run-1", article_item()) == "new"
    store.start_run("run-2", "baogialai")
    assert store.save_article("run-2", article_item(modified_at="2025-09-05T08:00:00+07:00")) == (
        "unchanged"
    )

    [article] = rows(store, "SELECT * FROM articles")
    assert article["last_run_id"] == "run-2"
    assert article["modified_at"] == "2025-09-05T08:00:00+07:00"
    assert article["published_month"] == "2025-09"
    assert article["outlet_kind"] == "newspaper"
    assert article["content_sha256"] == content_sha256(
        article_item()["title"], article_item()["lead"], article_item()["body"]
    )
    assert rows(store, "SELECT count(*) AS n FROM article_versions")[0]["n"] == 0
    assert run_counters(store, "run-1")["articles_new"] == 1
    assert run_counters(store, "run-2") == {
        "pages_fetched": 0, "articles_new": 0, "articles_updated": 0,
        "articles_unchanged": 1, "errors": 0,
    }


def test_a_changed_body_keeps_the_old_text_as_a_version(store: Store):
    old = article_item(body="Bản tin đầu tiên về thủy điện.")
    new = article_item(body="Bản tin đã sửa về điện gió.", modified_at="2025-09-05T08:00:00+07:00")
    store.save_article("run-1", old)
    [before] = rows(store, "SELECT id, first_seen_at, changed_at FROM articles")

    assert store.save_article("run-1", new) == "updated"

    [version] = rows(store, "SELECT * FROM article_versions")
    assert version["article_id"] == before["id"]
    assert version["body"] == old["body"]
    assert version["content_sha256"] == content_sha256(old["title"], old["lead"], old["body"])
    assert version["modified_at"] is None
    assert version["first_seen_at"] == before["changed_at"]
    [article] = rows(store, "SELECT * FROM articles")
    assert article["body"] == new["body"]
    assert article["content_sha256"] == content_sha256(new["title"], new["lead"], new["body"])
    assert article["modified_at"] == new["modified_at"]
    assert article["first_seen_at"] == before["first_seen_at"]
    assert article["changed_at"] == version["replaced_at"]
    assert run_counters(store)["articles_new"] == 1
    assert run_counters(store)["articles_updated"] == 1
    # The search index follows the text: the old wording is gone, the new one found.
    assert search(store, "thuy") == []
    assert search(store, "gio") == [article["id"]]


def test_an_unknown_outlet_is_refused_without_a_trace(store: Store):
    with pytest.raises(LookupError):
        store.save_article("run-1", article_item(outlet_id="not-in-registry"))
    assert rows(store, "SELECT count(*) AS n FROM articles")[0]["n"] == 0
    assert run_counters(store)["articles_new"] == 0


@pytest.mark.parametrize(
    "query",
    ["dak doa", "Đắk Đoa", "o nhiem moi truong", "ô nhiễm môi trường", "Hoà", "hoa phu"],
)
def test_search_finds_with_and_without_diacritics(store: Store, query: str):
    store.save_article("run-1", article_item(1))
    store.save_article("run-1", article_item(2, title="Giá cà phê", lead=None, body="Giá tăng."))
    [article_id] = [
        row["id"] for row in rows(store, "SELECT id FROM articles WHERE url LIKE '%bai-1%'")
    ]
    assert search(store, query) == [article_id]


def test_references_are_replaced_not_duplicated(store: Store):
    store.save_article("run-1", article_item(), references=[reference(), reference("20/CT-TTg")])
    store.save_article("run-1", article_item(), references=[reference()])
    [article_id] = [row["id"] for row in rows(store, "SELECT id FROM articles")]
    store.replace_references(article_id, [reference(), reference("980/QĐ-TTg", topic=None)])

    saved = rows(store, 'SELECT text, "start", "end", topic FROM article_references ORDER BY id')
    assert saved == [
        {"text": "1894/QĐ-TTg", "start": 26, "end": 37, "topic": "qd1894"},
        {"text": "980/QĐ-TTg", "start": 26, "end": 36, "topic": None},
    ]


def test_references_commit_with_their_article(store: Store):
    broken = {"field": "body", "text": None}  # text is NOT NULL: the insert fails
    with pytest.raises(sqlite3.IntegrityError):
        store.save_article("run-1", article_item(), references=[broken])
    assert rows(store, "SELECT count(*) AS n FROM articles")[0]["n"] == 0
    assert search(store, "dak") == []
    assert run_counters(store)["articles_new"] == 0


# One text under two URLs; canonical links that point elsewhere -------------------------

def test_the_same_text_under_another_url_is_stored_once_as_an_alias(store: Store):
    assert store.save_article("run-1", article_item(1)) == "new"
    # The same article under a second slug, with no canonical link naming the first.
    assert store.save_article("run-1", article_item(2, modified_at="2025-09-05T08:00:00+07:00")) == "unchanged"
    [article] = rows(store, "SELECT id, url, modified_at FROM articles")
    assert article["url"] == "https://baogialai.com.vn/bai-1.html"
    assert article["modified_at"] == "2025-09-05T08:00:00+07:00"
    [alias] = rows(store, "SELECT url, article_id, first_seen_at FROM article_aliases")
    assert alias["url"] == "https://baogialai.com.vn/bai-2.html" and alias["article_id"] == article["id"]
    first_seen = alias["first_seen_at"]
    assert store.save_article("run-1", article_item(2)) == "unchanged"  # seen again: one alias row, its first sighting
    assert rows(store, "SELECT first_seen_at FROM article_aliases") == [{"first_seen_at": first_seen}]
    assert run_counters(store)["articles_new"] == 1 and run_counters(store)["articles_unchanged"] == 2
    # Another outlet's identical text is that outlet's own article.
    store.sync_outlets([{**OUTLET, "id": "gialaitv", "domain": "gialaitv.vn"}])
    other = article_item(3, outlet_id="gialaitv", url="https://gialaitv.vn/bai-3.html", fetched_url=None)
    assert store.save_article("run-1", other) == "new"
    # An alias URL that later serves a text of its own becomes its own article.
    assert store.save_article("run-1", article_item(2, body="Một bài khác hẳn.")) == "new"
    assert rows(store, "SELECT count(*) AS n FROM article_aliases")[0]["n"] == 0


def test_a_canonical_link_to_another_article_never_overwrites_it(store: Store):
    first = article_item(1, fetched_url="https://baogialai.com.vn/bai-1.html",
                         warc_file="x.warc.gz", warc_offset=0, payload_sha256="a" * 64)
    store.save_article("run-1", first)
    before = rows(store, "SELECT * FROM articles")
    # Another page whose canonical link (the item's url) names article 1.
    other = article_item(1, fetched_url="https://baogialai.com.vn/bai-khac-7.html?utm_source=fb",
                         title="Một bài khác", body="Nội dung hoàn toàn khác.", published_at="2019-01-01T00:00:00+07:00",
                         warc_file="x.warc.gz", warc_offset=900, payload_sha256="b" * 64)
    assert store.save_article("run-1", other) == "new"
    assert rows(store, "SELECT * FROM articles WHERE id = ?", [before[0]["id"]]) == before
    [stored] = rows(store, "SELECT url, title, warc_offset FROM articles WHERE id != ?", [before[0]["id"]])
    assert stored == {"url": "https://baogialai.com.vn/bai-khac-7.html", "title": "Một bài khác", "warc_offset": 900}
    [error] = rows(store, "SELECT url, kind, detail FROM crawl_errors")
    assert error["kind"] == "canonical_conflict" and error["url"] == "https://baogialai.com.vn/bai-khac-7.html"
    assert "https://baogialai.com.vn/bai-1.html" in error["detail"]
    assert rows(store, "SELECT count(*) AS n FROM article_versions")[0]["n"] == 0
    assert run_counters(store)["errors"] == 1


def test_a_canonical_link_never_decides_where_a_page_is_stored(store: Store):
    # A canonical link to a URL not stored yet: the page is stored where it was fetched.
    assert store.save_article("run-1", article_item(1, fetched_url="https://baogialai.com.vn/x-post1.html")) == "new"
    assert rows(store, "SELECT url FROM articles") == [{"url": "https://baogialai.com.vn/x-post1.html"}]
    # The same text fetched at another URL: one article, the URL an alias.
    assert store.save_article("run-1", article_item(1, fetched_url="https://m.baogialai.com.vn/x")) == "unchanged"
    # A changed text at the URL it was fetched at is an update.
    assert store.save_article("run-1", article_item(1, fetched_url="https://baogialai.com.vn/x-post1.html",
                                                     body="Bản sửa.")) == "updated"
    assert rows(store, "SELECT count(*) AS n FROM crawl_errors")[0]["n"] == 0


def test_a_canonical_link_to_an_article_fetched_later_takes_nothing_from_it(store: Store):
    """Order must not matter: the page claiming bai-1 comes first, bai-1 itself after."""
    claiming = article_item(1, fetched_url="https://baogialai.com.vn/bai-khac-7.html", title="Một bài khác",
                            body="Nội dung hoàn toàn khác.")
    assert store.save_article("run-1", claiming) == "new"
    assert store.save_article("run-1", article_item(1, fetched_url="https://baogialai.com.vn/bai-1.html")) == "new"
    stored = {r["url"]: r["title"] for r in rows(store, "SELECT url, title FROM articles")}
    assert stored == {"https://baogialai.com.vn/bai-khac-7.html": "Một bài khác",
                      "https://baogialai.com.vn/bai-1.html": article_item(1)["title"]}
    assert rows(store, "SELECT count(*) AS n FROM article_versions")[0]["n"] == 0


def test_a_save_that_fails_leaves_no_part_of_the_item(store: Store):
    broken = {**reference(), "text": None}  # article_references.text is NOT NULL
    with pytest.raises(sqlite3.IntegrityError):
        store.save_article("run-1", article_item(1), references=[broken])
    assert rows(store, "SELECT count(*) AS n FROM articles")[0]["n"] == 0
    assert rows(store, "SELECT count(*) AS n FROM articles_fts")[0]["n"] == 0
    assert run_counters(store)["articles_new"] == 0
    assert store.save_article("run-1", article_item(2), references=[reference()]) == "new"


def test_run_ids_are_unique_even_in_one_second():
    from pressmon.pipeline.store import new_run_id

    ids = [new_run_id() for _ in range(1000)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    assert re.fullmatch(r"\d{8}T\d{6}-\d{6}", ids[0])


# Runs, errors, outlets ------------------------------------------------------------------


def test_run_bookkeeping(store: Store):
    store.start_run("run-1", "baogialai")  # again: idempotent
    store.count_page("run-1", "baogialai")
    store.count_page("run-1", "baogialai", n=4)
    store.record_error("run-1", "baogialai", "https://baogialai.com.vn/x", "timeout", "30 s")
    store.finish_run("run-1", "baogialai", status="failed")

    [run] = rows(store, "SELECT * FROM crawl_runs")
    assert (run["pages_fetched"], run["errors"], run["status"]) == (5, 1, "failed")
    assert run["finished_at"] >= run["started_at"]
    [error] = rows(store, "SELECT run_id, kind, detail FROM crawl_errors")
    assert error == {"run_id": "run-1", "kind": "timeout", "detail": "30 s"}


def test_sync_outlets_updates_the_kind_on_articles(store: Store):
    store.save_article("run-1", article_item())
    store.sync_outlets([{**OUTLET, "kind": "broadcaster", "selectors": {"title": "h1"}}])
    assert rows(store, "SELECT kind FROM outlets") == [{"kind": "broadcaster"}]
    assert rows(store, "SELECT outlet_kind FROM articles") == [{"outlet_kind": "broadcaster"}]


def test_integrity_check(store: Store):
    store.save_article("run-1", article_item())
    assert store.integrity_check() == "ok"


# Migrations -----------------------------------------------------------------------------


def test_an_empty_file_is_migrated(db_path: Path):
    db_path.touch()
    with Store(db_path) as store:
        assert schema_version(store.db) == len(MIGRATIONS)
        applied = rows(store, "SELECT version, name FROM _migrations")
    assert applied == [{"version": 1, "name": "create_initial_schema"},
                       {"version": 2, "name": "add_topics_and_verdicts"},
                       {"version": 3, "name": "add_article_places"},
                       {"version": 4, "name": "add_http_validators"},
                       {"version": 5, "name": "add_evidence_and_health"},
                       {"version": 6, "name": "add_crawl_source"},
                       {"version": 7, "name": "add_reference_role"},
                       {"version": 8, "name": "add_article_list"},
                       {"version": 9, "name": "add_article_aliases"},
                       {"version": 10, "name": "add_decision_counts"},
                       {"version": 11, "name": "add_search_key"},
                       {"version": 12, "name": "add_reclassify_runs"},
                       {"version": 13, "name": "add_exact_search"}]


def test_an_older_database_is_upgraded_in_place(db_path: Path):
    legacy = sqlite3.connect(db_path)
    legacy.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    legacy.execute("INSERT INTO notes (text) VALUES ('kept')")
    legacy.commit()
    legacy.close()

    with Store(db_path) as store:
        assert schema_version(store.db) == len(MIGRATIONS)
        assert rows(store, "SELECT text FROM notes") == [{"text": "kept"}]
        assert "articles" in store.db.table_names()
    with Store(db_path) as store:  # reopening applies nothing twice
        assert rows(store, "SELECT count(*) AS n FROM _migrations")[0]["n"] == len(MIGRATIONS)


def test_a_later_migration_is_applied_once(db_path: Path):
    Store(db_path).close()

    def add_article_notes(db: sqlite_utils.Database) -> None:
        db.execute("ALTER TABLE articles ADD COLUMN notes TEXT")

    db = sqlite_utils.Database(db_path)
    assert migrate(db, [*MIGRATIONS, add_article_notes]) == len(MIGRATIONS) + 1
    assert migrate(db, [*MIGRATIONS, add_article_notes]) == len(MIGRATIONS) + 1
    assert "notes" in db["articles"].columns_dict
    assert [row["name"] for row in db.query("SELECT name FROM _migrations")][-1] == (
        "add_article_notes"
    )


def test_a_failing_migration_leaves_no_trace(db_path: Path):
    Store(db_path).close()

    def half_done(db: sqlite_utils.Database) -> None:
        db.execute("CREATE TABLE half (id INTEGER)")
        raise RuntimeError("boom")

    db = sqlite_utils.Database(db_path)
    with pytest.raises(RuntimeError):
        migrate(db, [*MIGRATIONS, half_done])
    assert schema_version(db) == len(MIGRATIONS)
    assert "half" not in db.table_names()


def test_a_newer_database_is_refused(db_path: Path):
    Store(db_path).close()
    db = sqlite_utils.Database(db_path)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    with pytest.raises(RuntimeError, match="newer"):
        migrate(db)


# Surviving SIGKILL ----------------------------------------------------------------------

ITEMS_PER_WRITER = 1500

# A crawler in miniature: every item with a reference, one transaction each.
WRITER = """
import sys
from pressmon.pipeline.store import Store

path, run_id, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
outlet = {"id": "baogialai", "name": "Báo Gia Lai", "kind": "newspaper"}
with Store(path) as store:
    store.sync_outlets([outlet])
    store.start_run(run_id, "baogialai")
    for n in range(count):
        item = {
            "outlet_id": "baogialai", "url": f"https://baogialai.com.vn/bai-{n}.html",
            "title": f"Đắk Đoa bản tin số {n}", "lead": "Ô nhiễm môi trường.",
            "body": "Nội dung bài viết về Quyết định 1894/QĐ-TTg. " * 40,
            "tags": ["môi trường"], "published_at": "2025-09-04T14:30:00+07:00",
        }
        reference = {"field": "body", "start": 0, "end": 11, "text": "1894/QĐ-TTg",
                     "document": "1894/QĐ-TTg", "topic": "qd1894"}
        store.save_article(run_id, item, references=[reference])
    store.finish_run(run_id, "baogialai")
"""


def start_writer(db_path: Path, run_id: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(db_path), run_id, str(ITEMS_PER_WRITER)],
        cwd=REPO_ROOT,
    )


def saved_urls(db_path: Path) -> set[str]:
    """The article URLs committed so far, read as a second process would."""
    try:
        with sqlite3.connect(db_path, timeout=5) as reader:
            return {row[0] for row in reader.execute("SELECT url FROM articles")}
    except sqlite3.OperationalError:  # the writer has not created the schema yet
        return set()


def wait_for_rows(db_path: Path, writer: subprocess.Popen, at_least: int) -> set[str]:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        urls = saved_urls(db_path) if db_path.exists() else set()
        if len(urls) >= at_least:
            return urls
        assert writer.poll() is None, "writer ended before the kill point"
        time.sleep(0.005)
    raise AssertionError(f"fewer than {at_least} rows after 30 s")


@pytest.mark.parametrize("kill_after_rows", [1, 120, 700])
def test_sigkill_loses_nothing_committed(db_path: Path, kill_after_rows: int):
    writer = start_writer(db_path, "run-1")
    counted = wait_for_rows(db_path, writer, kill_after_rows)
    assert writer.poll() is None, "writer ended before the kill"
    os.kill(writer.pid, signal.SIGKILL)
    assert writer.wait(timeout=10) == -signal.SIGKILL

    with Store(db_path) as store:
        assert store.integrity_check() == "ok"
        survived = {row["url"] for row in rows(store, "SELECT url FROM articles")}
        assert counted <= survived
        # Row, counter, search row and reference were committed together or not at all.
        assert run_counters(store)["articles_new"] == len(survived)
        assert rows(store, "SELECT count(*) AS n FROM articles_fts")[0]["n"] == len(survived)
        assert rows(store, "SELECT count(*) AS n FROM article_references")[0]["n"] == len(
            survived
        )

    restarted = start_writer(db_path, "run-2")
    assert restarted.wait(timeout=60) == 0
    with Store(db_path) as store:
        assert rows(store, "SELECT count(*) AS n FROM articles")[0]["n"] == ITEMS_PER_WRITER
        assert rows(store, "SELECT count(*) AS n FROM article_references")[0]["n"] == (
            ITEMS_PER_WRITER
        )
        assert run_counters(store, "run-2")["articles_unchanged"] == len(survived)
        assert run_counters(store, "run-2")["articles_new"] == ITEMS_PER_WRITER - len(survived)
        assert store.integrity_check() == "ok"
