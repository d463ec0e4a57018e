"""Source health: per outlet and night, did the crawl work, and does anyone need to look?

`assess_run` reads one run's `crawl_runs` and `crawl_errors` rows and writes one
`source_health` row per outlet of the run (re-assessing a run replaces its rows).
`morning_summary` renders the result as Vietnamese Markdown, `mail.send_summary` e-mails it
when SMTP settings are given, and `pressmon health` prints it. `pressmon canary` (canary.py)
fetches each outlet's newest article and reports the fields that no longer extract.

Counts per outlet and run
    pages           pages_fetched + pages_not_modified (a 304 answer is a working page)
    new_items       crawl_runs.articles_new
    parse_failures  crawl_errors of a `page` kind (pipeline/store/error_kinds.py): a page came
                    but is no article pressmon can store
    http_errors     crawl_errors of a `fetch` kind: the page could not be fetched whole

Flags (any one flags the outlet; each adds a Vietnamese reason)
    failed          the run did not finish for the outlet (status other than `finished`), or
                    no page was fetched, or every request errored (HTTP/network errors
                    and every fetched page was an HTTP error response, no 304 answer).
    parse           parse_failures > PARSE_FAILURE_SHARE (20%) of the article pages that
                    reached the extractor: items extracted (new + updated + unchanged) plus
                    parse failures. Listing, feed and sitemap pages are not in the share.
    volume          the Media Cloud rule: compare tonight's new items with the mean of the
                    outlet's previous HISTORY_NIGHTS (7) nights that had data — nights whose
                    runs finished for the outlet with at least one page — and flag when
                    tonight < mean × VOLUME_DROP_RATIO (0.25) and mean ≥ MIN_HISTORY_MEAN (3).
                    Needs MIN_HISTORY_NIGHTS (3) such nights. The outlet's very first run is
                    its backfill, not a night's volume, so it is not part of the history; several
                    runs in one night are added up (a second run-once the same night does not
                    look like a drop). So a second night over an unchanged mirror (0 new items
                    after the backfill) is not flagged, and neither is a quiet outlet that
                    never had ≥ 3 new items a night.
"""

from __future__ import annotations

import json
import logging
import os
import smtplib
from pathlib import Path

import sqlite_utils

from pressmon.crawlers.dates import now, vn_date
from pressmon.pipeline.nightly.mail import send_summary
from pressmon.pipeline.store import Store, immediate_transaction
from pressmon.pipeline.store.error_kinds import FETCH_KINDS, PAGE_KINDS

logger = logging.getLogger("pressmon.health")

PARSE_FAILURE_SHARE = 0.20
HISTORY_NIGHTS = 7
MIN_HISTORY_NIGHTS = 3
VOLUME_DROP_RATIO = 0.25
MIN_HISTORY_MEAN = 3.0


# Opening the database ---------------------------------------------------------------------

def _open(store_or_db):
    """(sqlite_utils.Database, close-when-done) from a Store, a Database or a path."""
    if isinstance(store_or_db, Store):
        return store_or_db.db, None
    if isinstance(store_or_db, sqlite_utils.Database):
        return store_or_db, None
    store = Store(store_or_db)  # migrates, so source_health exists
    return store.db, store


def latest_run_id(store_or_db) -> str | None:
    db, owned = _open(store_or_db)
    try:
        row = db.execute("SELECT run_id FROM crawl_runs GROUP BY run_id "
                         "ORDER BY MIN(started_at) DESC, run_id DESC LIMIT 1").fetchone()
        return row[0] if row else None
    finally:
        if owned:
            owned.close()


# Numbers in Vietnamese --------------------------------------------------------------------

def vn_number(value: float, decimals: int = 1) -> str:
    """12.5 → "12,5", 1234 → "1.234", 10.0 → "10" (Vietnamese separators)."""
    if float(value).is_integer():
        text = f"{int(value):,}"
    else:
        text = f"{value:,.{decimals}f}"
    return text.replace(",", "\0").replace(".", ",").replace("\0", ".")


# Assessment -------------------------------------------------------------------------------

def assess_run(store_or_db_path, run_id: str) -> list[dict]:
    """Assess every outlet of `run_id`, write its `source_health` rows (replacing earlier
    ones of the same run) and return them as dicts, `reasons` as a list."""
    db, owned = _open(store_or_db_path)
    try:
        runs = db.execute(
            "SELECT outlet_id, started_at, status, pages_fetched, pages_not_modified, articles_new, "
            "articles_updated, articles_unchanged FROM crawl_runs WHERE run_id = ? ORDER BY outlet_id",
            [run_id]).fetchall()
        if not runs:
            raise LookupError(f"no crawl run {run_id!r} in the database")
        errors = _error_counts(db, run_id)
        checked_at = now()
        rows = []
        for (outlet_id, started_at, status, fetched, not_modified, new, updated, unchanged) in runs:
            counts = errors.get(outlet_id, {})
            parse_failures = sum(counts.get(k, 0) for k in PAGE_KINDS)
            http_errors = sum(counts.get(k, 0) for k in FETCH_KINDS)
            night = started_at[:10]  # crawlers.dates.now() stamps Vietnam time
            reasons = []
            pages = fetched + not_modified
            if status != "finished":
                reasons.append(f"Lượt thu thập không hoàn tất (trạng thái: {status})")
            if pages == 0:
                reasons.append("Không tải được trang nào")
            elif http_errors and not_modified == 0 and fetched - counts.get("http_error", 0) <= 0:
                # An HTTP error response is counted as a fetched page too; timeouts, DNS
                # failures and refused connections are not.
                reasons.append(f"Mọi yêu cầu đều lỗi ({vn_number(http_errors)} lỗi HTTP/mạng)")
            article_pages = new + updated + unchanged + parse_failures
            if article_pages and parse_failures > PARSE_FAILURE_SHARE * article_pages:
                reasons.append(f"Hơn {round(PARSE_FAILURE_SHARE * 100)}% trang không phân tích được "
                               f"({parse_failures}/{article_pages})")
            tonight = new + _earlier_same_night(db, outlet_id, run_id, night, started_at)
            history = _history(db, outlet_id, night)
            if len(history) >= MIN_HISTORY_NIGHTS:
                mean = sum(history) / len(history)
                if mean >= MIN_HISTORY_MEAN and tonight < mean * VOLUME_DROP_RATIO:
                    reasons.append(f"Số bài mới giảm mạnh: {vn_number(tonight)} so với trung bình "
                                   f"{vn_number(mean)} của {len(history)} đêm trước")
            rows.append({"run_id": run_id, "outlet_id": outlet_id, "night": night, "pages": pages,
                         "new_items": new, "parse_failures": parse_failures, "http_errors": http_errors,
                         "flagged": 1 if reasons else 0, "reasons": reasons, "checked_at": checked_at})
        with immediate_transaction(db):
            for row in rows:
                # source_health.outlet_id references outlets: a crawl always syncs the
                # registry first, but keep a health row even for an outlet it no longer has.
                db.execute("INSERT OR IGNORE INTO outlets (id, name) VALUES (?, ?)",
                           [row["outlet_id"], row["outlet_id"]])
                db.execute(
                    "INSERT INTO source_health (run_id, outlet_id, night, pages, new_items, parse_failures, "
                    "http_errors, flagged, reasons, checked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                    "ON CONFLICT (run_id, outlet_id) DO UPDATE SET night = excluded.night, "
                    "pages = excluded.pages, new_items = excluded.new_items, "
                    "parse_failures = excluded.parse_failures, http_errors = excluded.http_errors, "
                    "flagged = excluded.flagged, reasons = excluded.reasons, checked_at = excluded.checked_at",
                    [row["run_id"], row["outlet_id"], row["night"], row["pages"], row["new_items"],
                     row["parse_failures"], row["http_errors"], row["flagged"],
                     json.dumps(row["reasons"], ensure_ascii=False), row["checked_at"]])
        return rows
    finally:
        if owned:
            owned.close()


def _error_counts(db, run_id: str) -> dict[str, dict[str, int]]:
    counts: dict[str, dict[str, int]] = {}
    for outlet_id, kind, n in db.execute(
            "SELECT outlet_id, kind, COUNT(*) FROM crawl_errors WHERE run_id = ? GROUP BY outlet_id, kind",
            [run_id]).fetchall():
        counts.setdefault(outlet_id, {})[kind] = n
    return counts


def _earlier_same_night(db, outlet_id: str, run_id: str, night: str, started_at: str) -> int:
    """New items of the outlet's earlier runs the same night (a re-run finds nothing new)."""
    return db.execute(
        "SELECT COALESCE(SUM(articles_new), 0) FROM crawl_runs WHERE outlet_id = ? AND run_id != ? "
        "AND substr(started_at, 1, 10) = ? AND started_at < ?",
        [outlet_id, run_id, night, started_at]).fetchone()[0]


def _history(db, outlet_id: str, night: str) -> list[int]:
    """New items per night of the outlet's previous HISTORY_NIGHTS nights with data, newest
    first, leaving out the outlet's first run (its backfill)."""
    rows = db.execute(
        """SELECT substr(started_at, 1, 10) AS night, SUM(articles_new)
           FROM crawl_runs
           WHERE outlet_id = ? AND status = 'finished' AND pages_fetched + pages_not_modified > 0
             AND substr(started_at, 1, 10) < ?
             AND id != (SELECT id FROM crawl_runs WHERE outlet_id = ? ORDER BY started_at, id LIMIT 1)
           GROUP BY night ORDER BY night DESC LIMIT ?""",
        [outlet_id, night, outlet_id, HISTORY_NIGHTS]).fetchall()
    return [n for _, n in rows]


# The morning summary ----------------------------------------------------------------------

def _health_rows(db, run_id: str) -> list[dict]:
    rows = db.execute(
        "SELECT h.outlet_id, COALESCE(o.name, h.outlet_id), h.night, h.pages, h.new_items, h.parse_failures, "
        "h.http_errors, h.flagged, h.reasons FROM source_health h LEFT JOIN outlets o ON o.id = h.outlet_id "
        "WHERE h.run_id = ? ORDER BY h.flagged DESC, h.outlet_id", [run_id]).fetchall()
    keys = ("outlet_id", "name", "night", "pages", "new_items", "parse_failures", "http_errors", "flagged",
            "reasons")
    return [{**dict(zip(keys, row)), "reasons": json.loads(row[-1] or "[]")} for row in rows]


def summary_subject(rows: list[dict]) -> str:
    night = vn_date(rows[0]["night"]) if rows else "?"
    flagged = sum(1 for r in rows if r["flagged"])
    state = f"{flagged} nguồn cần kiểm tra" if flagged else "không có nguồn nào bị gắn cờ"
    return f"[pressmon] Tình trạng nguồn tin đêm {night}: {state}"


def morning_summary(db, run_id: str) -> str:
    """The run's health as Vietnamese Markdown: flagged outlets first with their reasons,
    then the others, then the totals. Assesses the run first if it has not been."""
    database, owned = _open(db)
    try:
        rows = _health_rows(database, run_id)
        if not rows:
            assess_run(database, run_id)
            rows = _health_rows(database, run_id)
    finally:
        if owned:
            owned.close()
    return render_summary(run_id, rows)


def _counts(row: dict) -> str:
    return (f"{vn_number(row['pages'])} trang, {vn_number(row['new_items'])} bài mới, "
            f"{vn_number(row['parse_failures'])} lỗi phân tích, {vn_number(row['http_errors'])} lỗi HTTP/mạng")


def render_summary(run_id: str, rows: list[dict]) -> str:
    night = vn_date(rows[0]["night"]) if rows else "?"
    flagged = [r for r in rows if r["flagged"]]
    healthy = [r for r in rows if not r["flagged"]]
    lines = [f"# Tình trạng nguồn tin — đêm {night}", "",
             f"Lượt thu thập `{run_id}`, {len(rows)} nguồn.", ""]
    if flagged:
        lines += [f"## Cần kiểm tra ({len(flagged)} nguồn)", ""]
        for row in flagged:
            lines.append(f"- **{row['name']}** (`{row['outlet_id']}`): {_counts(row)}")
            lines += [f"  - {reason}" for reason in row["reasons"]]
        lines.append("")
    else:
        lines += ["**Không có nguồn nào bị gắn cờ**: mọi nguồn đều hoạt động bình thường.", ""]
    if healthy:
        lines += [f"## Bình thường ({len(healthy)} nguồn)", ""]
        lines += [f"- {row['name']} (`{row['outlet_id']}`): {_counts(row)}" for row in healthy]
        lines.append("")
    total = {key: sum(r[key] for r in rows) for key in ("pages", "new_items", "parse_failures", "http_errors")}
    lines += ["## Tổng cộng", "",
              f"{vn_number(total['pages'])} trang, {vn_number(total['new_items'])} bài mới, "
              f"{vn_number(total['parse_failures'])} lỗi phân tích, {vn_number(total['http_errors'])} lỗi HTTP/mạng; "
              f"{len(flagged)}/{len(rows)} nguồn bị gắn cờ.", ""]
    return "\n".join(lines)


# The nightly hook -------------------------------------------------------------------------

def morning_path(db_path) -> Path:
    return Path(f"{Path(db_path).resolve()}.morning.md")


def nightly_health(db_path, run_id: str, log: logging.Logger = logger) -> list[dict]:
    """Assess the run, write `<db>.morning.md`, e-mail it when configured; return the
    flagged outlets as [{"outlet_id", "reasons"}]."""
    with Store(db_path) as store:
        rows = assess_run(store, run_id)
        health = _health_rows(store.db, run_id)
    markdown = render_summary(run_id, health)
    path = morning_path(db_path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(markdown, encoding="utf-8")
    os.replace(tmp, path)
    flagged = [{"outlet_id": r["outlet_id"], "reasons": r["reasons"]} for r in rows if r["flagged"]]
    for item in flagged:
        log.warning("source health: %s flagged: %s", item["outlet_id"], "; ".join(item["reasons"]))
    try:
        if send_summary(markdown, subject=summary_subject(health)):
            log.info("morning summary e-mailed")
    except (OSError, smtplib.SMTPException) as exc:
        log.error("morning summary not e-mailed: %s", exc)
    return flagged


def health_summary(db_path, run_id: str | None = None) -> tuple[str, list[dict]]:
    """Assess `run_id` (default: the latest run) and return (the Markdown summary, its rows);
    LookupError when there is no such run."""
    with Store(db_path) as store:
        run_id = run_id or latest_run_id(store)
        if run_id is None:
            raise LookupError("no crawl run in the database yet")
        assess_run(store, run_id)
        rows = _health_rows(store.db, run_id)
    return render_summary(run_id, rows), rows
