"""Polite fetches outside a crawl, through the outlet spiders themselves: one article page
(`pressmon extract URL`) or each outlet's newest article (`pressmon canary`).

Same rules as a night's crawl (crawlers/settings.py): robots.txt obeyed with its Crawl-delay,
the registry's delays, the size cap, timeouts, our User-Agent; the discovery is the spider's
own (feeds, sitemaps, listings). No item pipeline runs and nothing is stored. Scrapy's reactor
starts once per process, so each function may be called once per process.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from scrapy import signals
from scrapy.crawler import CrawlerProcess
from scrapy.settings import Settings

from pressmon.crawlers import settings as crawler_settings
from pressmon.crawlers.settings import politeness_settings
from pressmon.crawlers.spiders.outlets import OUTLET_SPIDERS


class FetchError(Exception):
    """The page could not be fetched or read; the message names the URL and the reason."""


@dataclass
class Fetched:
    """What one outlet's spider brought back."""

    articles: list[dict] = field(default_factory=list)  # extracted fields, as the spider yields them
    errors: list[dict] = field(default_factory=list)  # {"url", "kind", "detail"}, as crawl_errors holds them
    newest: tuple[str, str] | None = None  # newest mode: (url, where it was found)


def fetch_settings(mirror: str | None = None, politeness_scale: float = 1.0) -> Settings:
    settings = Settings()
    settings.setmodule(crawler_settings, priority="project")
    # The answer is the result, not a log: a failure comes back as an error row.
    settings.update({**politeness_settings(politeness_scale), "LOG_ENABLED": False,
                     "PRESSMON_MIRROR": mirror}, priority="cmdline")
    return settings


def _run(spider_kwargs: dict[str, dict], settings: Settings) -> dict[str, Fetched]:
    process = CrawlerProcess(settings)
    results: dict[str, Fetched] = {}
    for outlet_id, kwargs in spider_kwargs.items():
        crawler = process.create_crawler(OUTLET_SPIDERS[outlet_id])
        result = results[outlet_id] = Fetched()

        def scraped(item, result=result, **_):
            if item.get("type") == "error":
                result.errors.append({k: item[k] for k in ("url", "kind", "detail")})
            else:
                result.articles.append(item)

        def failed(failure, response, result=result, **_):
            result.errors.append({"url": response.url, "kind": "spider_exception",
                                  "detail": f"{type(failure.value).__name__}: {failure.value}"})

        # Scrapy holds signal receivers weakly: keep ours alive on the crawler.
        crawler._pressmon_receivers = (scraped, failed)
        crawler.signals.connect(scraped, signal=signals.item_scraped)
        crawler.signals.connect(failed, signal=signals.spider_error)
        process.crawl(crawler, **kwargs)
    crawlers = list(process.crawlers)
    process.start()
    for crawler in crawlers:
        results[crawler.spider.outlet_id].newest = crawler.spider.newest
    return results


def fetch_article(url: str, outlet_id: str, mirror: str | None = None) -> dict:
    """The article item the outlet's spider extracts from `url` (fields before the pipeline
    normalises them); raises FetchError when the page cannot be fetched or read."""
    fetched = _run({outlet_id: {"page": url}}, fetch_settings(mirror))[outlet_id]
    if fetched.articles:
        return fetched.articles[0]
    if fetched.errors:
        error = fetched.errors[0]
        raise FetchError(f"{error['url']}: {error['kind']}: {error['detail']}")
    raise FetchError(f"{url}: nothing was fetched")


def newest_articles(outlet_ids: list[str], mirror: str | None = None,
                    politeness_scale: float = 1.0) -> dict[str, Fetched]:
    """Each outlet's newest article (its feeds first, then its sitemaps, then its listings),
    fetched and extracted, with the errors met on the way."""
    return _run({outlet_id: {"newest": True} for outlet_id in outlet_ids},
                fetch_settings(mirror, politeness_scale))
