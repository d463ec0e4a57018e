"""Run the outlets' spiders in one Scrapy process, all writing to one database under one run id."""

from __future__ import annotations

import logging
import sys

from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from crawlers.registry import load_registry
from crawlers.settings import politeness_settings
from crawlers.spiders.outlets import OUTLET_SPIDERS
from pipeline import scrapy_settings
from pipeline.item_pipelines import new_run_id
from pipeline.progress import CrawlProgress


def crawl_settings(db_path: str, run_id: str, mirror: str | None = None,
                   politeness_scale: float = 1.0, log_level: str = "INFO") -> Settings:
    settings = Settings()
    settings.setmodule(scrapy_settings, priority="project")
    settings.update({"PRESSMON_DB": str(db_path), "PRESSMON_RUN_ID": run_id, "LOG_LEVEL": log_level,
                     **politeness_settings(politeness_scale)}, priority="cmdline")
    if mirror:
        settings.set("PRESSMON_MIRROR", mirror, priority="cmdline")
    return settings


def run_crawl(db_path: str, outlet_ids: list[str] | None = None, since: str | None = None,
              mirror: str | None = None, politeness_scale: float = 1.0, progress: bool | None = None) -> str:
    """Crawl the given outlets (all by default) and return the run id."""
    registry = load_registry()
    outlet_ids = outlet_ids or list(registry)
    unknown = [o for o in outlet_ids if o not in registry]
    if unknown:
        raise ValueError(f"unknown outlet(s): {', '.join(unknown)}")
    run_id = new_run_id()
    show_progress = sys.stderr.isatty() if progress is None else progress
    settings = crawl_settings(db_path, run_id, mirror, politeness_scale,
                              log_level="WARNING" if show_progress else "INFO")
    process = CrawlerProcess(settings)
    with CrawlProgress(enabled=show_progress) as bar:
        for outlet_id in outlet_ids:
            crawler = process.create_crawler(OUTLET_SPIDERS[outlet_id])
            bar.watch(crawler, outlet_id)
            process.crawl(crawler, since=since)
        process.start()
    logging.getLogger(__name__).info("run %s finished", run_id)
    return run_id
