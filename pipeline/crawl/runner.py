"""Run the outlets' spiders in one Scrapy process, all writing to one database under one run id."""

from __future__ import annotations

import logging
import sqlite3
import sys
from pathlib import Path

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from pressmon.crawlers.registry import load_registry
from pressmon.crawlers.settings import politeness_settings
from pressmon.crawlers.spiders.outlets import OUTLET_SPIDERS
from pressmon.pipeline.crawl import settings as scrapy_settings
from pressmon.pipeline.crawl.language import LanguagePool
from pressmon.pipeline.crawl.progress import CrawlProgress
from pressmon.pipeline.nightly.lock import AlreadyRunning, CycleLock
from pressmon.pipeline.store import Store, check_database, new_run_id, read_only


class CrawlRefused(ValueError):
    """The crawl cannot start as asked; the message says why, in one line."""


def default_log_file(db_path: str | Path) -> Path:
    return Path(f"{Path(db_path).resolve()}.crawl.log")


def crawl_settings(db_path: str | Path, run_id: str, mirror: str | None = None, politeness_scale: float = 1.0,
                   log_file: str | Path | None = None, overrides: dict | None = None) -> Settings:
    settings = Settings()
    settings.setmodule(scrapy_settings, priority="project")
    settings.update({"PRESSMON_DB": str(db_path), "PRESSMON_RUN_ID": run_id, "PRESSMON_MIRROR": mirror,
                     "LOG_FILE": str(log_file) if log_file else None,
                     **politeness_settings(politeness_scale), **(overrides or {})}, priority="cmdline")
    return settings


def check_crawl(db_path: str | Path, outlet_ids: list[str], mirror: str | None) -> None:
    """Refuse, before anything is written, a crawl of unknown outlets, into a file that is not
    a pressmon database, or one that would put the demo's sample articles (crawled from the
    offline mirror) and real coverage in one database."""
    registry = load_registry()
    unknown = [o for o in outlet_ids if o not in registry]
    if unknown:
        raise CrawlRefused(f"unknown outlet(s): {', '.join(unknown)}; known: {', '.join(registry)}")
    path = check_database(db_path, must_exist=False)
    if not path.exists() or path.stat().st_size == 0:
        return
    conn = read_only(path)
    try:
        sources = {row[0] for row in conn.execute(
            "SELECT DISTINCT source FROM crawl_runs WHERE source IS NOT NULL")}
    except sqlite3.OperationalError:  # a database older than the column: nothing recorded
        sources = set()
    finally:
        conn.close()
    if mirror and "live" in sources:
        raise CrawlRefused(f"{path} holds articles crawled from the real sites: crawl the offline mirror "
                           f"into another file (--db PATH)")
    if not mirror and "mirror" in sources:
        raise CrawlRefused(f"{path} holds the demo's sample articles from the offline mirror: crawl the real "
                           f"sites into another file (--db PATH), or delete {path} first")


class ExpectedFaults(logging.Filter):
    """Marks the log lines about the mirror's deliberate fault pages as expected, at INFO:
    in the demo they show the crawler doing its job, not a failure."""

    def __init__(self, pages: dict[str, str]):
        super().__init__()
        self.pages = pages
        self.paths = {url.split("/", 3)[3]: url for url in pages}

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            message = record.getMessage()
            url = next((url for url in self.pages if url in message), None) or next(
                (self.paths[p] for p in self.paths if p in message), None)
            if url:
                record.msg, record.args = f"(expected: the demo's page that {self.pages[url]}) {message}", ()
                record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def run_crawl(db_path: str | Path, outlet_ids: list[str] | None = None, since: str | None = None,
              mirror: str | None = None, politeness_scale: float = 1.0, progress: bool | None = None,
              run_id: str | None = None, log_file: str | Path | None = None,
              expected_faults: dict[str, str] | None = None, settings: dict | None = None) -> str:
    """Crawl the given outlets (all by default) and return the run id.

    On a terminal (or with `progress`), progress bars show and Scrapy's log goes to
    `log_file` (default `<db>.crawl.log`); otherwise the log goes to stderr, or to `log_file`
    when one is given. `expected_faults` (URL → what is wrong with it) marks log lines about
    those pages as expected. `settings` are Scrapy settings laid over pressmon's for this
    crawl (`PRESSMON_LANGUAGE_WORKERS`, `PRESSMON_LIMITS`, …).

    The crawl holds the database's lock (`<db>.lock`, the nightly cycle's) while it runs, and
    is refused when another crawl or cycle holds it; a crawl that the nightly cycle started
    goes on under the cycle's lock."""
    outlet_ids = outlet_ids or list(load_registry())
    check_crawl(db_path, outlet_ids, mirror)
    try:
        lock = CycleLock(db_path, command="crawl").acquire()
    except AlreadyRunning as exc:
        raise CrawlRefused(str(exc)) from None
    try:
        if lock.previous and lock.previous.get("started_at") and Path(db_path).exists():
            # A crawl or cycle died holding the lock: its rows never reach `finished`.
            with Store(db_path) as store:
                interrupted = store.mark_interrupted(lock.previous["started_at"])
            logging.getLogger(__name__).warning(
                "the previous %s (PID %s, started %s) did not finish: %d crawl rows marked interrupted",
                lock.previous.get("command", "cycle"), lock.previous.get("pid"), lock.previous["started_at"],
                interrupted)
        # Made under the lock, after the previous holder's run id: never the same one.
        run_id = run_id or new_run_id()
        show_progress = sys.stderr.isatty() if progress is None else progress
        if show_progress and log_file is None:
            log_file = default_log_file(db_path)
        process_settings = crawl_settings(db_path, run_id, mirror, politeness_scale, log_file, settings)
        process = CrawlerProcess(process_settings)
        # Started after CrawlerProcess has set up logging, before the reactor runs: the
        # workers are forked from a process with no other thread yet.
        with LanguagePool.from_settings(process_settings).shared(run_id), CrawlProgress(enabled=show_progress) as bar:
            for outlet_id in outlet_ids:
                crawler = process.create_crawler(OUTLET_SPIDERS[outlet_id])
                bar.watch(crawler, outlet_id)
                process.crawl(crawler, since=since)
            if expected_faults:
                # After the crawls are set up: each one installs Scrapy's root log handler anew.
                for handler in logging.getLogger().handlers:
                    handler.addFilter(ExpectedFaults(expected_faults))
            process.start()
    finally:
        lock.release()
    logging.getLogger(__name__).info("run %s finished", run_id)
    return run_id
