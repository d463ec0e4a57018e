"""Scrapy item pipelines: normalise the text once; find document references and places and
classify (in the crawl's language pool); store.

Spiders yield plain dicts (`type` = "article" or "error", see docs/design.md); these stages
are the only place where crawling meets Vietnamese text handling and the database.
"""

from __future__ import annotations

import os
from pathlib import Path

from scrapy import signals

from pressmon.crawlers.registry import load_registry
from pressmon.nlp.normalize import normalize_text
from pressmon.pipeline.crawl.language import LanguagePool, LanguageStageError, describe
from pressmon.pipeline.store import Store, new_run_id
from pressmon.pipeline.store.warc import WarcArchive

TEXT_FIELDS = ("title", "lead", "body", "author", "section")


class NormalizePipeline:
    """NFC and one tone-placement style, before anything hashes, matches or stores text."""

    def process_item(self, item, spider=None):
        if item.get("type") == "article":
            for name in TEXT_FIELDS:
                item[name] = normalize_text(item.get(name))
            item["tags"] = [normalize_text(t) for t in item.get("tags") or []]
        return item


class LanguagePipeline:
    """References, places and the topic decision of each article, worked out in the crawl's
    language pool (`pipeline.crawl.language`) while the reactor goes on fetching. Without a
    trained model the crawl still stores articles, references and places, and says so;
    `pressmon classify` catches up once a model exists."""

    def __init__(self, crawler):
        self.crawler = crawler
        # The pool `run_crawl` started for all its spiders; a bare `scrapy crawl` starts its own.
        self.pool = LanguagePool.of_run(crawler.settings.get("PRESSMON_RUN_ID"))
        self.owns_pool = self.pool is None

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def open_spider(self, spider=None):
        if self.owns_pool:
            self.pool = LanguagePool.from_settings(self.crawler.settings).start()

    def close_spider(self, spider=None):
        if self.owns_pool:
            self.pool.close()

    async def process_item(self, item, spider=None):
        if item.get("type") == "article":
            item.update(await self.pool.analyse(item))
        return item


class StorePipeline:
    """Writes each item in its own transaction and keeps the run's counters current, so a
    crawl killed at any moment has stored everything it reported."""

    def __init__(self, crawler):
        self.crawler = crawler
        self.db_path = crawler.settings.get("PRESSMON_DB")
        self.run_id = crawler.settings.get("PRESSMON_RUN_ID") or new_run_id()
        self.store = None
        self.pending_validators = []
        # url → (WARC location, HTTP validators) of an article fetched and not yet stored.
        self.fetched_articles = {}
        # Article responses go to WARC files beside the database (PRESSMON_WARC_DIR to move them).
        self.db_folder = Path(self.db_path).resolve().parent
        self.archive = WarcArchive(crawler.settings.get("PRESSMON_WARC_DIR") or Path(self.db_path).with_suffix(".warc"),
                                   prefix=Path(self.db_path).stem)
        crawler.signals.connect(self.response_received, signal=signals.response_received)
        crawler.signals.connect(self.spider_error, signal=signals.spider_error)
        # An exception in any item pipeline stage (this one included: save_article has rolled
        # its transaction back) would otherwise drop the page with a log line only.
        crawler.signals.connect(self.item_error, signal=signals.item_error)

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    @property
    def outlet_id(self) -> str:
        return self.crawler.spider.outlet_id

    def open_spider(self, spider=None):
        self.store = Store(self.db_path)
        self.store.sync_outlets([o.as_row() for o in load_registry().values()])
        source = "mirror" if self.crawler.settings.get("PRESSMON_MIRROR") else "live"
        self.store.start_run(self.run_id, self.outlet_id, source)
        # Before the spider's first request: what it may ask "has this changed?" about.
        self.crawler.spider.known_pages = self.store.http_validators(self.outlet_id)

    def close_spider(self, spider=None):
        reason = self.crawler.stats.get_value("finish_reason") or "finished"
        if reason == "finished":
            for validators in self.pending_validators:
                self.store.remember_validators(*validators)
        self.store.finish_run(self.run_id, self.outlet_id, status=reason)
        self.store.close()

    def process_item(self, item, spider=None):
        if item.get("type") == "error":
            self.store.record_error(self.run_id, item["outlet_id"], item["url"], item["kind"], item["detail"])
            self.crawler.stats.inc_value(f"pressmon/errors/{item['kind']}")
        else:
            evidence, validators = self.fetched_articles.pop(item.get("fetched_url") or item["url"], ({}, None))
            item.update(evidence)
            outcome = self.store.save_article(self.run_id, item, references=item.get("references"),
                                              classification=item.get("classification"), places=item.get("places"))
            # Remembered once the article is stored: a page fetched but not yet stored when a
            # crawl dies must be fetched again, not skipped as known.
            if validators:
                self.store.remember_validators(*validators)
            self.crawler.stats.inc_value(f"pressmon/articles_{outcome}")
        return item

    def response_received(self, response, request, spider=None):
        if self.store is None:
            return
        if response.status == 304:
            self.store.count_page(self.run_id, self.outlet_id, not_modified=True)
            return
        self.store.count_page(self.run_id, self.outlet_id)
        if response.status != 200 or request.meta.get("dont_obey_robotstxt"):
            return
        etag, modified = response.headers.get("ETag"), response.headers.get("Last-Modified")
        validators = ((request.url, self.outlet_id, etag and etag.decode("latin-1"),
                       modified and modified.decode("latin-1")) if etag or modified else None)
        if self.crawler.spider.outlet.is_article_url(request.url):
            self.fetched_articles[request.url] = (self._archive(response, request.url), validators)
        elif validators:
            # A feed, sitemap or listing is only "seen" once everything it links to was
            # followed: remembered when the crawl ends well, so a killed night starts over.
            self.pending_validators.append(validators)

    def _archive(self, response, url: str) -> dict:
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, values in response.headers.items() for v in values]
        path, offset, digest = self.archive.archive(url, response.status, headers, response.body)
        return {"warc_file": os.path.relpath(path, self.db_folder), "warc_offset": offset, "payload_sha256": digest}

    def spider_error(self, failure, response, spider=None):
        self.store.record_error(self.run_id, self.outlet_id, response.url, "spider_exception",
                                f"{type(failure.value).__name__}: {failure.value}")

    def item_error(self, item, response, failure, spider=None):
        url = item.get("fetched_url") or item.get("url") or (response.url if response is not None else None)
        self.store.record_error(self.run_id, item.get("outlet_id") or self.outlet_id, url, "pipeline_error",
                                describe_exception(failure))
        self.crawler.stats.inc_value("pressmon/errors/pipeline_error")


def describe_exception(failure) -> str:
    """"KeyError: 'x' (in normalize_text, normalize.py:57)": the exception and the innermost
    line that raised it; a language worker's error was described where it happened."""
    if isinstance(failure.value, LanguageStageError):
        return str(failure.value)
    return describe(failure.value, failure.getTracebackObject())
