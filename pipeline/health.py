"""Source health: per outlet and night, did the crawl work, and does anyone need to look?

`assess_run` reads one run's `crawl_runs` and `crawl_errors` rows and writes one
`source_health` row per outlet of the run (re-assessing a run replaces its rows).
`morning_summary` renders the result as Vietnamese Markdown, `send_summary` e-mails it when
SMTP settings are given, and `pressmon health` prints it. `pressmon canary` (at the end)
fetches each outlet's newest article and reports the fields that no longer extract.

Counts per outlet and run
    pages           pages_fetched + pages_not_modified (a 304 answer is a working page)
    new_items       crawl_runs.articles_new
    parse_failures  crawl_errors of kind parse_failed
    http_errors     crawl_errors of the kinds in HTTP_ERROR_KINDS

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
import ssl
import urllib.error
import urllib.request
from collections.abc import Mapping
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path

import click
import sqlite_utils

logger = logging.getLogger("pressmon.health")

HTTP_ERROR_KINDS = ("http_error", "timeout", "redirect_loop", "dns", "connection_refused", "too_large")
PARSE_FAILURE_KINDS = ("parse_failed",)
PARSE_FAILURE_SHARE = 0.20
HISTORY_NIGHTS = 7
MIN_HISTORY_NIGHTS = 3
VOLUME_DROP_RATIO = 0.25
MIN_HISTORY_MEAN = 3.0


# Opening the database ---------------------------------------------------------------------

def _open(store_or_db):
    """(sqlite_utils.Database, close-when-done) from a Store, a Database or a path."""
    from pipeline.store import Store

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


def _night_label(night: str) -> str:
    year, month, day = night.split("-")
    return f"{day}/{month}/{year}"


# Assessment -------------------------------------------------------------------------------

def assess_run(store_or_db_path, run_id: str) -> list[dict]:
    """Assess every outlet of `run_id`, write its `source_health` rows (replacing earlier
    ones of the same run) and return them as dicts, `reasons` as a list."""
    from pipeline.migrations import immediate_transaction
    from pipeline.store import now

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
            parse_failures = sum(counts.get(k, 0) for k in PARSE_FAILURE_KINDS)
            http_errors = sum(counts.get(k, 0) for k in HTTP_ERROR_KINDS)
            night = started_at[:10]  # store.now() stamps Vietnam time
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
    night = _night_label(rows[0]["night"]) if rows else "?"
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
    night = _night_label(rows[0]["night"]) if rows else "?"
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


# E-mail -----------------------------------------------------------------------------------

def smtp_settings_from_env(env: Mapping[str, str] | None = None) -> dict | None:
    """SMTP settings from PRESSMON_SMTP_* / PRESSMON_MAIL_*, or None when PRESSMON_SMTP_HOST
    or PRESSMON_MAIL_TO is unset (e-mail is then not configured)."""
    env = os.environ if env is None else env
    host, to = env.get("PRESSMON_SMTP_HOST"), env.get("PRESSMON_MAIL_TO")
    if not host or not to:
        return None
    return {"host": host, "port": int(env.get("PRESSMON_SMTP_PORT") or 25),
            "user": env.get("PRESSMON_SMTP_USER") or None, "password": env.get("PRESSMON_SMTP_PASSWORD") or None,
            "mail_from": env.get("PRESSMON_MAIL_FROM") or f"pressmon@{host}", "mail_to": to}


def send_summary(markdown: str, smtp: Mapping | None = None, subject: str | None = None,
                 timeout: float = 30.0) -> bool:
    """E-mail `markdown` (text/plain, UTF-8) with the given settings, or those of the
    environment when `smtp` is None. Returns False, sending nothing, when not configured.

    Settings: host, port (465 = implicit TLS; otherwise STARTTLS when the server offers it),
    user and password (login when given), mail_from, mail_to (comma-separated)."""
    settings = dict(smtp) if smtp is not None else smtp_settings_from_env()
    if not settings or not settings.get("host") or not settings.get("mail_to"):
        return False
    if subject is None:
        first = next((line for line in markdown.splitlines() if line.strip()), "")
        subject = "[pressmon] " + first.lstrip("# ").strip()
    recipients = [a.strip() for a in str(settings["mail_to"]).split(",") if a.strip()]
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = settings.get("mail_from") or f"pressmon@{settings['host']}"
    message["To"] = ", ".join(recipients)
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain="pressmon")
    message.set_content(markdown, subtype="plain", charset="utf-8")
    port = int(settings.get("port") or 25)
    context = ssl.create_default_context()
    if port == 465:
        client = smtplib.SMTP_SSL(settings["host"], port, timeout=timeout, context=context)
    else:
        client = smtplib.SMTP(settings["host"], port, timeout=timeout)
    with client:
        client.ehlo()
        if port != 465 and client.has_extn("starttls"):
            client.starttls(context=context)
            client.ehlo()
        if settings.get("user"):
            client.login(settings["user"], settings.get("password") or "")
        client.send_message(message, from_addr=message["From"], to_addrs=recipients)
    return True


# The nightly hook -------------------------------------------------------------------------

def morning_path(db_path) -> Path:
    return Path(f"{Path(db_path).resolve()}.morning.md")


def nightly_health(db_path, run_id: str, log: logging.Logger = logger) -> list[dict]:
    """Assess the run, write `<db>.morning.md`, e-mail it when configured; return the
    flagged outlets as [{"outlet_id", "reasons"}]."""
    from pipeline.store import Store

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


# Command ----------------------------------------------------------------------------------

@click.command("health")
@click.option("--db", "db_path", default="pressmon.db", show_default=True,
              type=click.Path(dir_okay=False, exists=True), help="The pressmon SQLite database.")
@click.option("--run-id", default=None, help="The crawl run to assess (default: the latest).")
@click.option("--send", is_flag=True, help="Also e-mail the summary (PRESSMON_SMTP_* settings).")
def health_command(db_path, run_id, send):
    """Assess a crawl run's source health and print the morning summary (Markdown).

    \b
    Examples:
        pressmon health --db pressmon.db
        pressmon health --db pressmon.db --run-id 20260104T013000 --send
    """
    from pipeline.store import Store

    with Store(db_path) as store:
        run_id = run_id or latest_run_id(store)
        if run_id is None:
            raise click.ClickException("no crawl run in the database yet")
        try:
            assess_run(store, run_id)
        except LookupError as exc:
            raise click.ClickException(str(exc)) from exc
        rows = _health_rows(store.db, run_id)
    markdown = render_summary(run_id, rows)
    click.echo(markdown)
    if send:
        try:
            sent = send_summary(markdown, subject=summary_subject(rows))
        except (OSError, smtplib.SMTPException) as exc:
            raise click.ClickException(f"e-mail not sent: {exc}") from exc
        if not sent:
            raise click.ClickException("e-mail not configured: set PRESSMON_SMTP_HOST and PRESSMON_MAIL_TO")
        click.echo("(đã gửi e-mail)", err=True)


# Canary -----------------------------------------------------------------------------------
#
# The Fundus way: every day, fetch one fresh article per outlet from the live site and check
# that each field still extracts the way the registry says. A field whose outlet selector no
# longer matches but that a weaker source (JSON-LD, OpenGraph, trafilatura) still fills is a
# warning; a core field (title, body, publication date) that nothing fills, a page that no
# longer extracts, or no article found at all is a failure.

CORE_FIELDS = ("title", "body", "published_at")
# Registry selector name → extraction field.
SELECTOR_TO_FIELD = {"title": "title", "lead": "lead", "body": "body", "author": "author",
                     "section": "section", "tags": "tags", "published": "published_at",
                     "modified": "modified_at"}
# Fields many articles legitimately lack (never edited; no tags): not reported when empty.
OPTIONAL_FIELDS = ("modified_at", "tags")
MAX_REDIRECTS = 5


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


def fetch_page(url: str, mirror: str | None = None, timeout: float = 30.0) -> tuple[str, bytes]:
    """(final URL, body) of `url`, following redirects; with `mirror`, every request goes to
    the mirror's address with the original Host header (as crawlers.mirror.middleware does)."""
    from urllib.parse import urljoin, urlsplit

    from crawlers.settings import USER_AGENT

    opener = urllib.request.build_opener(_NoRedirect)
    for _ in range(MAX_REDIRECTS + 1):
        headers = {"User-Agent": USER_AGENT}
        target = url
        if mirror:
            parts = urlsplit(url)
            base = urlsplit(mirror)
            target = f"{base.scheme}://{base.netloc}{parts.path or '/'}" + (f"?{parts.query}" if parts.query else "")
            headers["Host"] = parts.netloc
        try:
            with opener.open(urllib.request.Request(target, headers=headers), timeout=timeout) as response:
                return url, response.read()
        except urllib.error.HTTPError as exc:
            location = exc.headers.get("Location") if 300 <= exc.code < 400 else None
            if not location:
                raise
            url = urljoin(url, location)
    raise OSError(f"too many redirects from {url}")


def _newest_from_feed(data: bytes, outlet) -> str | None:
    import feedparser

    entries = [e for e in feedparser.parse(data).entries if e.get("link") and outlet.is_article_url(e.link)]
    if not entries:
        return None
    dated = [e for e in entries if e.get("published_parsed") or e.get("updated_parsed")]
    if dated:
        return max(dated, key=lambda e: tuple(e.get("published_parsed") or e.get("updated_parsed"))).link
    return entries[0].link


def _newest_from_sitemap(url: str, outlet, mirror, depth: int = 0) -> str | None:
    from lxml import etree

    root = etree.fromstring(fetch_page(url, mirror)[1], parser=etree.XMLParser(recover=True, resolve_entities=False))
    if root is None:
        return None
    ns = "{http://www.sitemaps.org/schemas/sitemap/0.9}"

    def entries(tag):
        found = []
        for node in root.iter(f"{ns}{tag}", tag):
            loc = node.findtext(f"{ns}loc") or node.findtext("loc")
            lastmod = node.findtext(f"{ns}lastmod") or node.findtext("lastmod") or ""
            if loc:
                found.append((lastmod.strip(), loc.strip()))
        return found

    children = entries("sitemap")
    if children and depth < 2:
        for _, child in sorted(children, key=lambda e: e[0], reverse=True):
            newest = _newest_from_sitemap(child, outlet, mirror, depth + 1)
            if newest:
                return newest
        return None
    urls = [(lastmod, loc) for lastmod, loc in entries("url") if outlet.is_article_url(loc)]
    if not urls:
        return None
    return max(urls, key=lambda e: e[0])[1] if any(m for m, _ in urls) else urls[0][1]


def _first_from_listing(url: str, outlet, mirror) -> str | None:
    from urllib.parse import urljoin

    from parsel import Selector

    final, data = fetch_page(url, mirror)
    for href in Selector(text=data.decode("utf-8", "replace")).css("a::attr(href)").getall():
        link = urljoin(final, href.strip())
        if outlet.is_article_url(link):
            return link
    return None


def newest_item_url(outlet, mirror: str | None = None) -> tuple[str | None, str | None, list[str]]:
    """(URL, where it was found, problems met) of the outlet's newest article: its RSS feeds
    first, then its sitemaps, then its home page and sections."""
    problems = []
    attempts = [("rss", u, lambda u: _newest_from_feed(fetch_page(u, mirror)[1], outlet)) for u in outlet.rss]
    attempts += [("sitemap", u, lambda u: _newest_from_sitemap(u, outlet, mirror)) for u in outlet.sitemaps]
    attempts += [("listing", u, lambda u: _first_from_listing(u, outlet, mirror))
                 for u in (outlet.home, *outlet.sections)]
    for where, source, find in attempts:
        try:
            url = find(source)
        except Exception as exc:  # a dead feed is a finding, not a crash: try the next source
            problems.append(f"{source}: {type(exc).__name__}: {exc}")
            continue
        if url:
            return url, f"{where} {source}", problems
        problems.append(f"{source}: không có bài nào")
    return None, None, problems


def canary_outlet(outlet, mirror: str | None = None) -> dict:
    """Check one outlet: {"outlet_id", "status" (ok|warning|failed), "url", "found_in",
    "missing" (fields nothing extracts), "fallback" {field: method} (selector no longer
    matches), "problems"}."""
    from crawlers.extract import ExtractionError, extract_article

    report = {"outlet_id": outlet.id, "name": outlet.name, "status": "ok", "url": None, "found_in": None,
              "missing": [], "fallback": {}, "problems": []}
    url, found_in, problems = newest_item_url(outlet, mirror)
    report.update(url=url, found_in=found_in)
    if url is None:
        report.update(status="failed", problems=problems + ["không tìm thấy bài mới nhất"])
        return report
    try:
        final, page = fetch_page(url, mirror)
        extraction = extract_article(page, final, outlet)
    except (OSError, ExtractionError) as exc:
        report.update(status="failed", problems=[f"{url}: {type(exc).__name__}: {exc}"])
        return report
    fields, methods = extraction.fields, extraction.methods
    expected = (set(CORE_FIELDS) | {SELECTOR_TO_FIELD[s] for s in outlet.selectors if s in SELECTOR_TO_FIELD}) \
        - set(OPTIONAL_FIELDS)
    report["missing"] = sorted(f for f in expected if not fields.get(f))
    report["fallback"] = {SELECTOR_TO_FIELD[s]: methods.get(SELECTOR_TO_FIELD[s])
                          for s in sorted(outlet.selectors) if s in SELECTOR_TO_FIELD
                          and fields.get(SELECTOR_TO_FIELD[s]) and methods.get(SELECTOR_TO_FIELD[s]) != "selector"}
    if set(report["missing"]) & set(CORE_FIELDS):
        report["status"] = "failed"
    elif report["missing"] or report["fallback"]:
        report["status"] = "warning"
    return report


def run_canary(outlet_ids=None, mirror: str | None = None) -> list[dict]:
    from crawlers.registry import load_registry

    registry = load_registry()
    unknown = [o for o in (outlet_ids or ()) if o not in registry]
    if unknown:
        raise LookupError(f"unknown outlets: {', '.join(unknown)}")
    return [canary_outlet(registry[o], mirror) for o in (outlet_ids or registry)]


def render_canary(reports: list[dict]) -> str:
    labels = {"ok": "ổn", "warning": "cần xem", "failed": "hỏng"}
    lines = ["# Kiểm tra trích xuất (canary)", ""]
    for r in sorted(reports, key=lambda r: ({"failed": 0, "warning": 1, "ok": 2}[r["status"]], r["outlet_id"])):
        lines.append(f"- **{r['name']}** (`{r['outlet_id']}`): {labels[r['status']]}"
                     + (f" — {r['url']}" if r["url"] else ""))
        if r["missing"]:
            lines.append(f"  - Không trích xuất được: {', '.join(r['missing'])}")
        if r["fallback"]:
            lines.append("  - Bộ chọn không còn khớp (lấy từ nguồn khác): "
                         + ", ".join(f"{f} ← {m}" for f, m in r["fallback"].items()))
        lines += [f"  - {p}" for p in r["problems"] if r["status"] == "failed"]
    failed = sum(r["status"] == "failed" for r in reports)
    lines += ["", f"{failed}/{len(reports)} nguồn hỏng." if failed else f"Cả {len(reports)} nguồn đều trích xuất được.",
              ""]
    return "\n".join(lines)


@click.command("canary")
@click.option("--outlet", "outlet_ids", multiple=True, help="Check only this outlet (repeatable).")
@click.option("--mirror", metavar="URL", help="For tests and demos: fetch from this offline mirror instead.")
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON instead of Markdown.")
def canary_command(outlet_ids, mirror, as_json):
    """Fetch each outlet's newest article from its live site and report the fields that no
    longer extract (exit 1 when an outlet is broken).

    \b
    Examples:
        pressmon canary
        pressmon canary --outlet baogialai --json
    """
    mirror = mirror or os.environ.get("PRESSMON_MIRROR") or None
    try:
        reports = run_canary(list(outlet_ids) or None, mirror)
    except LookupError as exc:
        raise click.UsageError(str(exc)) from exc
    click.echo(json.dumps(reports, ensure_ascii=False, indent=2) if as_json else render_canary(reports))
    raise SystemExit(1 if any(r["status"] == "failed" for r in reports) else 0)
