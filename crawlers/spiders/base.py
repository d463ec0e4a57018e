"""The spider every CMS family shares: discovery from RSS, sitemaps and section listings,
then one registry-driven extraction per article page.

A family spider adds only what its platform does differently (a "load more" endpoint,
listing dates); an outlet is a registry entry naming its family (see `outlets.py`).

Besides a crawl, the same spider does the two polite fetches the CLI needs (`crawlers.fetch`):
`page=URL` fetches and extracts that one page (`pressmon extract URL`), and `newest=True` runs
the discovery without following it, then fetches only the newest article it found (`pressmon
canary`).
"""

from __future__ import annotations

from datetime import date, datetime

import feedparser
import scrapy
from scrapy.http import HtmlResponse
from scrapy.settings import SETTINGS_PRIORITIES
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap
from scrapy import signals
from scrapy.exceptions import (CannotResolveHostError, DontCloseSpider, DownloadCancelledError,
                               DownloadConnectionRefusedError, DownloadTimeoutError, IgnoreRequest)
from twisted.internet.defer import CancelledError
from twisted.internet.error import DNSLookupError, TCPTimedOutError, TimeoutError

from pressmon.crawlers.extract import ExtractionError, extract_article
from pressmon.crawlers.registry import load_registry
from pressmon.crawlers.urls import canonical_url

HTML_TYPES = (b"text/html", b"application/xhtml+xml")
MIRROR_MIDDLEWARE_PRIORITY = 950  # nearest the downloader: see crawlers/mirror/middleware.py
# Where the newest article was found, best first: a feed dates its items, a sitemap has lastmod,
# a listing only an order.
SOURCE_RANK = {"rss": 0, "sitemap": 1, "listing": 2}


class NewsSpider(scrapy.Spider):
    """Crawl one outlet. Arguments: `outlet` (registry id; fixed on per-outlet spiders),
    `since` (YYYY-MM-DD: skip what was published or last changed before that day), `page`
    (fetch only this article page) and `newest` (fetch only the newest article discovered)."""

    outlet_id: str | None = None
    # url → {"etag", "last_modified", "fetched_at"} of pages fetched on earlier nights; the
    # item pipeline fills it before the first request. Known articles are not fetched again
    # unless a sitemap or feed says they changed, and every known page is asked for with a
    # conditional GET, so an unchanged one costs a 304 and no page.
    known_pages: dict = {}

    def __init__(self, outlet: str | None = None, since: str | None = None, page: str | None = None,
                 newest: bool = False, *args, **kwargs):
        super().__init__(*args, **kwargs)
        outlet_id = outlet or self.outlet_id
        registry = load_registry()
        if outlet_id not in registry:
            raise ValueError(f"unknown outlet {outlet_id!r}; known: {', '.join(sorted(registry))}")
        self.outlet = registry[outlet_id]
        self.outlet_id = outlet_id
        self.since = date.fromisoformat(since) if since else None
        self.allowed_domains = list(self.outlet.domains)
        self.page_url = page
        self.newest_only = bool(newest)
        # newest mode: (rank, -ordinal of the date, discovery order, url, "where") per article found
        self.candidates: list[tuple] = []
        self.newest: tuple[str, str] | None = None  # (url, where it was found), once chosen

    @classmethod
    def update_settings(cls, settings):
        super().update_settings(settings)
        if settings.get("PRESSMON_MIRROR"):
            middlewares = settings.getdict("DOWNLOADER_MIDDLEWARES")
            middlewares["pressmon.crawlers.mirror.middleware.MirrorMiddleware"] = MIRROR_MIDDLEWARE_PRIORITY
            # At spider priority: CrawlerProcess.crawl(crawler) merges the process's settings
            # into the crawler's again, and would drop a project-priority addition.
            priority = max(settings.getpriority("DOWNLOADER_MIDDLEWARES") or 0, SETTINGS_PRIORITIES["spider"])
            settings.set("DOWNLOADER_MIDDLEWARES", middlewares, priority=priority)

    @classmethod
    def from_crawler(cls, crawler, *args, **kwargs):
        spider = super().from_crawler(crawler, *args, **kwargs)
        if spider.newest_only:
            crawler.signals.connect(spider._fetch_newest, signal=signals.spider_idle)
        return spider

    async def start(self):
        if self.page_url:
            yield self._request(self.page_url, self.parse_article)
            return
        for url in self.outlet.rss:
            yield self._request(url, self.parse_feed)
        for url in self.outlet.sitemaps:
            yield self._request(url, self.parse_sitemap)
        for url in (self.outlet.home, *self.outlet.sections):
            yield self._request(url, self.parse_listing, cb_kwargs={"section": url})

    # -- discovery
    def parse_feed(self, response):
        if response.status == 304:
            return
        feed = feedparser.parse(response.body)
        if not feed.entries:
            yield self._error(response.url, "empty_feed",
                              f"feed has no items ({response.headers.get('Content-Type', b'').decode()})")
            return
        for entry in feed.entries:
            published = entry.get("published_parsed") or entry.get("updated_parsed")
            if published and self._before_since(date(*published[:3])):
                continue
            if entry.get("link"):
                changed = entry.get("updated_parsed") or published
                yield from self._follow_article(entry.link, date(*changed[:3]) if changed else None,
                                                found_in=("rss", response.url))

    def parse_sitemap(self, response):
        if response.status == 304:
            return
        body = gunzip(response.body) if response.body[:2] == b"\x1f\x8b" else response.body
        try:
            sitemap = Sitemap(body)
        except Exception as exc:  # lxml raises several kinds for a non-XML body
            yield self._error(response.url, "parse_failed", f"not a sitemap: {exc}")
            return
        entries = list(sitemap)
        if sitemap.type == "sitemapindex" and self.newest_only:
            entries = _newest_sitemaps(entries)
        for entry in entries:
            lastmod = _lastmod_date(entry.get("lastmod"))
            if lastmod and self._before_since(lastmod):
                continue
            if sitemap.type == "sitemapindex":
                yield self._request(entry["loc"], self.parse_sitemap)
            else:
                yield from self._follow_article(entry["loc"], lastmod, found_in=("sitemap", response.url))

    def parse_listing(self, response, section: str, page: int = 1):
        if response.status == 304:
            return
        links = self.listing_links(response)
        for url in links:
            yield from self._follow_article(url, found_in=("listing", response.url))
        # Paging back stops at the last known item: a listing page a finished night has seen,
        # now showing nothing new, ends the section (after a crashed night, it does not).
        seen_before = response.request.url in self.known_pages
        nothing_new = seen_before and all(url in self.known_pages for url in links)
        if not links or nothing_new or self.newest_only or self.listing_reached_since(response):
            return
        yield from self.next_listing_pages(response, section, page)

    def listing_links(self, response) -> list[str]:
        spec = self.outlet.listing_links
        hrefs = response.css(spec).getall() if spec else []
        if not hrefs:
            hrefs = response.css("a::attr(href)").getall()
        urls = (canonical_url(response.urljoin(h)) for h in hrefs)
        return list(dict.fromkeys(u for u in urls if self.outlet.is_article_url(u)))

    def listing_reached_since(self, response) -> bool:
        """Families whose listings show dates stop paging back past `since`."""
        return False

    def next_listing_pages(self, response, section: str, page: int):
        if self.outlet.next_page:
            href = response.css(self.outlet.next_page).get()
            if href:
                yield self._request(response.urljoin(href), self.parse_listing,
                                    cb_kwargs={"section": section, "page": page + 1})

    # -- articles
    def _follow_article(self, url: str, changed_on: date | None = None, found_in: tuple[str, str] = ("listing", "")):
        url = canonical_url(url)
        if not self.outlet.is_article_url(url):
            return
        if self.newest_only:
            where, source = found_in
            self.candidates.append((SOURCE_RANK[where], -(changed_on.toordinal() if changed_on else 0),
                                    len(self.candidates), url, f"{where} {source}"))
            return
        known = self.known_pages.get(url)
        if known and not (changed_on and changed_on.isoformat() >= known["fetched_at"][:10]):
            return
        yield self._request(url, self.parse_article)

    def parse_article(self, response):
        if response.status == 304:
            return
        content_type = response.headers.get("Content-Type", b"").split(b";")[0].strip().lower()
        if not isinstance(response, HtmlResponse) or (content_type and content_type not in HTML_TYPES):
            yield self._error(response.url, "not_html", f"Content-Type {content_type.decode() or 'missing'}")
            return
        try:
            extraction = extract_article(response.text, response.url, self.outlet)
        except ExtractionError as exc:
            yield self._error(response.url, "parse_failed", str(exc))
            return
        item = {"type": "article", "outlet_id": self.outlet_id, **extraction.fields,
                "methods": extraction.methods, "fetched_url": response.url, "http_status": response.status}
        published = item["published_at"]
        if published and self._before_since(datetime.fromisoformat(published).date()):
            return
        if not published:
            raw = item["published_raw"]
            yield self._error(item["url"], "bad_date",
                              f"publication date not readable: {raw!r}" if raw else "no publication date in the page markup")
        yield item

    def _fetch_newest(self):
        """newest mode, once discovery is done: fetch the newest article found (a feed's or a
        sitemap's newest date before a listing's first link), then let the spider close."""
        if self.newest is not None or not self.candidates:
            return
        *_, url, where = min(self.candidates)
        self.newest = (url, where)
        self.crawler.engine.crawl(self._request(url, self.parse_article))
        raise DontCloseSpider

    # -- plumbing
    def _request(self, url: str, callback, **kwargs) -> scrapy.Request:
        known = self.known_pages.get(url)
        if not known:
            return scrapy.Request(url, callback=callback, errback=self.on_error, **kwargs)
        headers = {"If-None-Match": known.get("etag"), "If-Modified-Since": known.get("last_modified")}
        return scrapy.Request(url, callback=callback, errback=self.on_error,
                              headers={k: v for k, v in headers.items() if v},
                              meta={"handle_httpstatus_list": [304]}, **kwargs)

    def _before_since(self, day: date) -> bool:
        return self.since is not None and day < self.since

    def _error(self, url: str, kind: str, detail: str) -> dict:
        return {"type": "error", "outlet_id": self.outlet_id, "url": url, "kind": kind, "detail": detail}

    def on_error(self, failure):
        # After redirects, report the URL the spider asked for, not the last hop.
        url = failure.request.meta.get("redirect_urls", [failure.request.url])[0]
        yield self._error(url, *describe_failure(failure))


def describe_failure(failure) -> tuple[str, str]:
    """(kind, detail) for a failed request, in the vocabulary of crawl_errors.kind."""
    exc = failure.value
    if failure.check(HttpError):
        return "http_error", f"HTTP {exc.response.status}"
    if failure.check(DownloadTimeoutError, TimeoutError, TCPTimedOutError):
        return "timeout", str(exc) or "timed out"
    if failure.check(CannotResolveHostError, DNSLookupError):
        return "dns", str(exc)
    if failure.check(DownloadConnectionRefusedError):
        return "connection_refused", str(exc)
    if failure.check(IgnoreRequest):
        text = str(exc)
        if "redirect" in text.lower():
            return "redirect_loop", text
        if "robots.txt" in text:
            return "robots", text
        return "ignored", text
    if failure.check(DownloadCancelledError, CancelledError) or "max size" in str(exc).lower():
        return "too_large", str(exc) or "response larger than DOWNLOAD_MAXSIZE"
    return "other", f"{type(exc).__name__}: {exc}"


def _newest_sitemaps(entries: list[dict]) -> list[dict]:
    """Of a sitemap index, the child with the newest lastmod (all of them when none has one):
    the newest article is in the newest month."""
    dated = [e for e in entries if _lastmod_date(e.get("lastmod"))]
    if not dated:
        return entries
    return [max(dated, key=lambda e: _lastmod_date(e.get("lastmod")))]


def _lastmod_date(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value.strip()[:10])
    except ValueError:
        return None
