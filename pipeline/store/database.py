"""Persist crawl results in SQLite (schema: migrations.py beside this, contract: docs/design.md).

Every public write is one transaction, and an article is saved with its old version, its
search row, its references and its run counter in a single one, so a SIGKILL loses at most
the item in flight and never leaves the counters out of step with the rows.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import threading
from datetime import datetime, timedelta

import sqlite_utils

from pressmon.crawlers.dates import VIETNAM, now
from pressmon.crawlers.urls import canonical_url
from pressmon.pipeline.store.migrations import immediate_transaction, migrate

OUTLET_COLUMNS = ("id", "name", "kind", "family", "domain", "home_url", "language")
REFERENCE_COLUMNS = (
    "field", "start", "end", "text", "kind", "number", "year", "issuer", "signed_on",
    "document", "topic", "role",
)
# Item keys copied unchanged into the article row.
ARTICLE_ITEM_COLUMNS = (
    "url", "outlet_id", "title", "lead", "body", "author", "section", "published_at",
    "published_raw", "modified_at", "media_kind", "language", "warc_file", "warc_offset", "payload_sha256",
)
RUN_COUNTER_BY_OUTCOME = {
    "new": "articles_new",
    "updated": "articles_updated",
    "unchanged": "articles_unchanged",
}


_last_run_start: datetime | None = None
_run_id_lock = threading.Lock()


def new_run_id() -> str:
    """Sortable and readable: the local start time of the run to the microsecond
    (20250904T143000-123456), so that two crawls started in the same second (a `pressmon crawl`
    and a nightly cycle, one after the other under the lock) never share a run id and its
    counters. Within one process a second call in the same microsecond moves on by one."""
    global _last_run_start
    with _run_id_lock:
        started = datetime.now(VIETNAM)
        if _last_run_start is not None and started <= _last_run_start:
            started = _last_run_start + timedelta(microseconds=1)
        _last_run_start = started
    return started.strftime("%Y%m%dT%H%M%S-%f")


def content_sha256(title: str, lead: str | None, body: str) -> str:
    """The hash that decides whether an article's text changed."""
    text = title + "\n" + (lead or "") + "\n" + body
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def folded_text(title: str, lead: str | None, body: str) -> str:
    # Imported on first use so opening a store does not load the nlp stack.
    from pressmon.nlp.normalize import fold

    return fold(title + " " + (lead or "") + " " + body)


class Store:
    """The pressmon database: one connection, used by one thread."""

    def __init__(self, path: str | os.PathLike[str]):
        self.db = sqlite_utils.Database(path)
        self._configure_connection()
        migrate(self.db)

    def _configure_connection(self) -> None:
        # busy_timeout first, so switching to WAL waits for a concurrent writer.
        self.db.execute("PRAGMA busy_timeout = 5000")
        self.db.enable_wal()
        # NORMAL is durable against process crashes in WAL mode; only a power loss can
        # drop the last commits, and never corrupts the file.
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.execute("PRAGMA foreign_keys = ON")

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # Outlets ----------------------------------------------------------------------------

    def sync_outlets(self, outlets: list[dict]) -> None:
        """Upsert registry entries; articles follow a change of their outlet's kind."""
        rows = [{column: outlet.get(column) for column in OUTLET_COLUMNS} for outlet in outlets]
        with immediate_transaction(self.db):
            self.db["outlets"].upsert_all(rows, pk="id")
            for row in rows:
                self.db.execute(
                    "UPDATE articles SET outlet_kind = ? "
                    "WHERE outlet_id = ? AND outlet_kind IS NOT ?",
                    (row["kind"], row["id"], row["kind"]),
                )

    # Runs -------------------------------------------------------------------------------

    def start_run(self, run_id: str, outlet_id: str, source: str = "live") -> None:
        """`source`: `live` (the real sites) or `mirror` (the offline mirror)."""
        with immediate_transaction(self.db):
            self._ensure_run(run_id, outlet_id)
            self.db.execute("UPDATE crawl_runs SET source = ? WHERE run_id = ? AND outlet_id = ?",
                            (source, run_id, outlet_id))

    def crawl_sources(self) -> set[str]:
        """What earlier runs crawled: {"live"}, {"mirror"}, both, or none."""
        return {row[0] for row in self.db.execute(
            "SELECT DISTINCT source FROM crawl_runs WHERE source IS NOT NULL").fetchall()}

    def count_page(self, run_id: str, outlet_id: str, n: int = 1, not_modified: bool = False) -> None:
        """A fetched page, or (`not_modified`) an HTTP 304 answer that transferred none."""
        counter = "pages_not_modified" if not_modified else "pages_fetched"
        with immediate_transaction(self.db):
            self._add_to_run_counter(run_id, outlet_id, counter, n)

    def record_error(
        self, run_id: str, outlet_id: str, url: str | None, kind: str, detail: str | None
    ) -> None:
        with immediate_transaction(self.db):
            self.db.execute(
                "INSERT INTO crawl_errors (run_id, outlet_id, url, kind, detail, at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (run_id, outlet_id, url, kind, detail, now()),
            )
            self._add_to_run_counter(run_id, outlet_id, "errors", 1)

    def mark_interrupted(self, since: str) -> int:
        """Mark the `running` crawl rows started at or after `since` (the start of a crawl or
        cycle that died holding the lock) `interrupted`; return how many."""
        with immediate_transaction(self.db):
            cursor = self.db.execute("UPDATE crawl_runs SET status = 'interrupted' "
                                     "WHERE status = 'running' AND started_at >= ?", [since])
        return cursor.rowcount

    def finish_run(self, run_id: str, outlet_id: str, status: str = "finished") -> None:
        with immediate_transaction(self.db):
            self._ensure_run(run_id, outlet_id)
            self.db.execute(
                "UPDATE crawl_runs SET finished_at = ?, status = ? "
                "WHERE run_id = ? AND outlet_id = ?",
                (now(), status, run_id, outlet_id),
            )

    def _ensure_run(self, run_id: str, outlet_id: str) -> None:
        # Idempotent, so a restarted crawl or a counter bumped before start_run still counts.
        self.db.execute(
            "INSERT INTO crawl_runs (run_id, outlet_id, started_at) VALUES (?, ?, ?) "
            "ON CONFLICT (run_id, outlet_id) DO NOTHING",
            (run_id, outlet_id, now()),
        )

    def _add_to_run_counter(self, run_id: str, outlet_id: str, counter: str, n: int) -> None:
        self._ensure_run(run_id, outlet_id)
        # `counter` is one of our own column names, never input.
        self.db.execute(
            f"UPDATE crawl_runs SET {counter} = {counter} + ? WHERE run_id = ? AND outlet_id = ?",
            (n, run_id, outlet_id),
        )

    # Articles ---------------------------------------------------------------------------

    def save_article(self, run_id: str, item: dict, references: list[dict] | None = None,
                     classification: dict | None = None, places: list[dict] | None = None) -> str:
        """Save an article item (already normalised); return "new", "updated" or "unchanged".

        `references`, when given, replace the article's references in the same transaction;
        `classification` ({"model_version", "topics"}) and `places` are stored with it too.
        An article is never deleted: changed text moves its old version to article_versions.

        An article is stored under the URL it was fetched at (`fetched_url`, in canonical
        form), never under the URL its canonical link claims (`url`): a page whose canonical
        link names another article must not take that article's place, whichever of the two
        is fetched first. When the named article is stored with a different text, a
        `canonical_conflict` error row names both. A text the outlet already has under another
        URL is not stored twice: the URL becomes an alias of that article (article_aliases)
        and counts as unchanged — which is what a canonical link to the same text amounts to.
        """
        seen_at = now()
        digest = content_sha256(item["title"], item.get("lead"), item["body"])
        with immediate_transaction(self.db):
            fetched = canonical_url(item["fetched_url"]) if item.get("fetched_url") else item["url"]
            if fetched != item["url"]:
                claimed = self._stored_article(item["url"])
                if claimed is not None and claimed["content_sha256"] != digest:
                    self.record_error(run_id, item["outlet_id"], fetched, "canonical_conflict",
                                      f"the page's canonical link names {item['url']}, stored as another article "
                                      f"(id {claimed['id']}) with a different text: stored under the fetched URL "
                                      f"{fetched}, the other article left as it was")
                item = {**item, "url": fetched}
            stored = self._stored_article(item["url"])
            if stored is None:
                stored = self._article_with_text(item["outlet_id"], digest, item["url"])
                if stored is not None:
                    self._record_alias(item["url"], stored["id"], seen_at)
            if stored is None:
                article_id = self._insert_article(run_id, item, digest, seen_at)
                # A URL that once served another article's text now has a text of its own.
                self.db.execute("DELETE FROM article_aliases WHERE url = ?", [item["url"]])
                outcome = "new"
            elif stored["content_sha256"] == digest:
                article_id = stored["id"]
                self._mark_seen(article_id, run_id, item.get("modified_at"), seen_at)
                outcome = "unchanged"
            else:
                article_id = stored["id"]
                self._archive_version(stored, seen_at)
                self._update_article(article_id, run_id, item, digest, seen_at)
                outcome = "updated"
            if outcome != "unchanged":
                self._index_for_search(article_id, item)
            if references is not None:
                self.replace_references(article_id, references)
            if classification is not None:
                self.save_topics(article_id, classification["model_version"], classification["topics"])
            if places is not None:
                self.replace_places(article_id, places)
            self._add_to_run_counter(run_id, item["outlet_id"], RUN_COUNTER_BY_OUTCOME[outcome], 1)
        return outcome

    def _stored_article(self, url: str) -> dict | None:
        return next(
            self.db.query(
                "SELECT id, title, lead, body, content_sha256, modified_at, changed_at "
                "FROM articles WHERE url = ?",
                [url],
            ),
            None,
        )

    def _article_with_text(self, outlet_id: str, digest: str, url: str) -> dict | None:
        """The outlet's stored article with this very text under another URL, if any (the
        oldest, should there be several from before aliases existed)."""
        return next(
            self.db.query(
                "SELECT id, title, lead, body, content_sha256, modified_at, changed_at "
                "FROM articles WHERE outlet_id = ? AND content_sha256 = ? AND url != ? ORDER BY id LIMIT 1",
                [outlet_id, digest, url],
            ),
            None,
        )

    def _record_alias(self, url: str, article_id: int, seen_at: str) -> None:
        # A URL that served this article before keeps its first sighting; one that pointed at
        # another article then now points at this one.
        self.db.execute(
            "INSERT INTO article_aliases (url, article_id, first_seen_at) VALUES (?, ?, ?) "
            "ON CONFLICT (url) DO UPDATE SET article_id = excluded.article_id, "
            "first_seen_at = CASE WHEN article_id = excluded.article_id THEN first_seen_at "
            "ELSE excluded.first_seen_at END",
            (url, article_id, seen_at),
        )

    def _insert_article(self, run_id: str, item: dict, digest: str, seen_at: str) -> int:
        row = self._article_row(run_id, item, digest, seen_at)
        row["first_seen_at"] = seen_at
        columns = ", ".join(row)
        placeholders = ", ".join("?" for _ in row)
        cursor = self.db.execute(
            f"INSERT INTO articles ({columns}) VALUES ({placeholders})", list(row.values())
        )
        return cursor.lastrowid

    def _update_article(
        self, article_id: int, run_id: str, item: dict, digest: str, seen_at: str
    ) -> None:
        row = self._article_row(run_id, item, digest, seen_at)
        assignments = ", ".join(f"{column} = ?" for column in row)
        self.db.execute(
            f"UPDATE articles SET {assignments} WHERE id = ?", [*row.values(), article_id]
        )

    def _article_row(self, run_id: str, item: dict, digest: str, seen_at: str) -> dict:
        """The columns an insert and a content update both write."""
        row = {column: item.get(column) for column in ARTICLE_ITEM_COLUMNS}
        published_at = item.get("published_at")
        row.update(
            outlet_kind=self._outlet_kind(item["outlet_id"]),
            tags=json.dumps(item.get("tags") or [], ensure_ascii=False),
            methods=json.dumps(item.get("methods") or {}, ensure_ascii=False),
            published_month=published_at[:7] if published_at else None,
            content_sha256=digest,
            last_seen_at=seen_at,
            last_run_id=run_id,
            changed_at=seen_at,
        )
        return row

    def _outlet_kind(self, outlet_id: str) -> str | None:
        found = self.db.execute("SELECT kind FROM outlets WHERE id = ?", [outlet_id]).fetchone()
        if found is None:
            raise LookupError(f"unknown outlet {outlet_id!r}: call sync_outlets first")
        return found[0]

    def _mark_seen(
        self, article_id: int, run_id: str, modified_at: str | None, seen_at: str
    ) -> None:
        self.db.execute(
            "UPDATE articles SET last_seen_at = ?, last_run_id = ?, "
            "modified_at = coalesce(?, modified_at) WHERE id = ?",
            (seen_at, run_id, modified_at, article_id),
        )

    def _archive_version(self, stored: dict, replaced_at: str) -> None:
        self.db.execute(
            "INSERT INTO article_versions (article_id, title, lead, body, content_sha256, "
            "modified_at, first_seen_at, replaced_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                stored["id"], stored["title"], stored["lead"], stored["body"],
                stored["content_sha256"], stored["modified_at"], stored["changed_at"],
                replaced_at,
            ),
        )

    def _index_for_search(self, article_id: int, item: dict) -> None:
        # The search row's rowid is the article's search_key (newest first, migration 11),
        # read after the article row is written. A changed publication time has already moved
        # the old row to the new key (trigger articles_search_key_moves): replace it there.
        title, lead, body = item["title"], item.get("lead"), item["body"]
        key = self.db.execute("SELECT search_key FROM articles WHERE id = ?", [article_id]).fetchone()[0]
        # The exact index is contentless: a row is deleted with the text it was indexed with.
        self.db.execute("INSERT INTO articles_fts_exact (articles_fts_exact, rowid, title, lead, body) "
                        "SELECT 'delete', rowid, title, lead, body FROM articles_fts WHERE rowid = ?", [key])
        self.db.execute("DELETE FROM articles_fts WHERE rowid = ?", [key])
        self.db.execute(
            "INSERT INTO articles_fts (rowid, title, lead, body, folded) VALUES (?, ?, ?, ?, ?)",
            (key, title, lead, body, folded_text(title, lead, body)),
        )
        self.db.execute("INSERT INTO articles_fts_exact (rowid, title, lead, body) VALUES (?, ?, ?, ?)",
                        (key, title, lead, body))

    def replace_references(self, article_id: int, refs: list[dict]) -> None:
        """Make `refs` the article's references (joins save_article's transaction)."""
        quoted = ", ".join(f'"{column}"' for column in REFERENCE_COLUMNS)
        placeholders = ", ".join("?" for _ in REFERENCE_COLUMNS)
        with immediate_transaction(self.db):
            self.db.execute("DELETE FROM article_references WHERE article_id = ?", [article_id])
            self.db.conn.executemany(
                f"INSERT INTO article_references (article_id, {quoted}) "
                f"VALUES (?, {placeholders})",
                [[article_id, *(ref.get(column) for column in REFERENCE_COLUMNS)] for ref in refs],
            )

    # Conditional GET -------------------------------------------------------------------------

    def http_validators(self, outlet_id: str) -> dict[str, dict]:
        """url → {"etag", "last_modified", "fetched_at"} of every page of the outlet fetched before."""
        rows = self.db.execute("SELECT url, etag, last_modified, fetched_at FROM http_validators "
                               "WHERE outlet_id = ?", [outlet_id]).fetchall()
        return {url: {"etag": etag, "last_modified": modified, "fetched_at": fetched}
                for url, etag, modified, fetched in rows}

    def remember_validators(self, url: str, outlet_id: str, etag: str | None, last_modified: str | None) -> None:
        with immediate_transaction(self.db):
            self.db.execute(
                "INSERT INTO http_validators (url, outlet_id, etag, last_modified, fetched_at) VALUES (?, ?, ?, ?, ?) "
                "ON CONFLICT (url) DO UPDATE SET etag = excluded.etag, last_modified = excluded.last_modified, "
                "fetched_at = excluded.fetched_at",
                (url, outlet_id, etag, last_modified, now()),
            )

    # Places -------------------------------------------------------------------------------

    def replace_places(self, article_id: int, places: list[dict]) -> None:
        """Make `places` (commune_code, commune_name, division_type, field, start, end, text)
        the article's commune mentions (joins save_article's transaction)."""
        columns = ("commune_code", "commune_name", "division_type", "field", "start", "end", "text")
        quoted = ", ".join(f'"{c}"' for c in columns)
        with immediate_transaction(self.db):
            self.db.execute("DELETE FROM article_places WHERE article_id = ?", [article_id])
            self.db.conn.executemany(
                f"INSERT INTO article_places (article_id, {quoted}) VALUES (?, {', '.join('?' for _ in columns)})",
                [[article_id, *(place.get(c) for c in columns)] for place in places],
            )

    # Topics and verdicts ------------------------------------------------------------------

    def save_topics(self, article_id: int, model_version: str, topics: dict) -> None:
        """One row per topic for this model version; a re-run of the same model replaces its
        own rows, rows of earlier models stay."""
        classified_at = now()
        with immediate_transaction(self.db):
            self.db.conn.executemany(
                "INSERT INTO article_topics (article_id, topic, tier, probability, model_version, "
                "evidence, reason, classified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (article_id, topic, model_version) DO UPDATE SET tier = excluded.tier, "
                "probability = excluded.probability, evidence = excluded.evidence, "
                "reason = excluded.reason, classified_at = excluded.classified_at",
                [(article_id, topic, decision["tier"], decision.get("probability"), model_version,
                  json.dumps(decision.get("evidence") or [], ensure_ascii=False), decision.get("reason"),
                  classified_at) for topic, decision in topics.items()],
            )

    def add_verdict(self, article_id: int, topic: str, verdict: str, reviewer: str, note: str | None = None) -> None:
        if verdict not in ("confirmed", "rejected"):
            raise ValueError(f"verdict must be confirmed or rejected, not {verdict!r}")
        if self.db.execute("SELECT 1 FROM articles WHERE id = ?", [article_id]).fetchone() is None:
            raise LookupError(f"no article {article_id}")
        with immediate_transaction(self.db):
            self.db.execute(
                "INSERT INTO verdicts (article_id, topic, verdict, reviewer, note, at) VALUES (?, ?, ?, ?, ?, ?)",
                (article_id, topic, verdict, reviewer, note, now()),
            )

    # Health -----------------------------------------------------------------------------

    def integrity_check(self) -> str:
        """"ok", or what PRAGMA integrity_check or the FTS5 index check found wrong."""
        problems = [row[0] for row in self.db.execute("PRAGMA integrity_check").fetchall()]
        if problems != ["ok"]:
            return "\n".join(problems)
        # FTS5's own check compares an index with its stored columns (the contentless exact
        # index: its structure only).
        for table in ("articles_fts", "articles_fts_exact"):
            try:
                self.db.execute(f"INSERT INTO {table} ({table}) VALUES ('integrity-check')")
            except sqlite3.DatabaseError as error:
                return f"{table}: {error}"
        return "ok"
