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

import re
from dataclasses import replace
from datetime import date, datetime
from urllib.parse import urlsplit

import feedparser
import scrapy
from pressmon.crawlers.extract import ExtractionError, extract_page
from pressmon.crawlers.registry import LIMIT_FIELDS, load_registry
from pressmon.crawlers.spiders.middlewares import OffsiteRedirect
from pressmon.crawlers.urls import canonical_url
from scrapy import signals
from scrapy.exceptions import (
    CannotResolveHostError,
    DontCloseSpider,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import HtmlResponse
from scrapy.settings import SETTINGS_PRIORITIES
from scrapy.spidermiddlewares.httperror import HttpError
from scrapy.utils._compression import _DecompressionMaxSizeExceeded
from scrapy.utils.gz import gunzip
from scrapy.utils.sitemap import Sitemap
from twisted.internet.defer import CancelledError
from twisted.internet.error import (
    ConnectionAborted,
    ConnectionDone,
    ConnectionLost,
    DNSLookupError,
    TCPTimedOutError,
    TimeoutError,
)
from twisted.web._newclient import ResponseNeverReceived
from twisted.web.http import _DataLoss

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
        self.limits = self.outlet.limits
        self.requested: set[str] = set()  # pages asked for in this run (max_pages_per_night)
        self.limits_hit: set[tuple] = set()  # each limit is recorded once where it is hit
        # From the crawler's settings (from_crawler); these defaults serve a spider built bare.
        self.maxsize = 5 * 1024 * 1024
        self.article_timeout: float | None = None

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
        settings = crawler.settings
        spider.maxsize = settings.getint("DOWNLOAD_MAXSIZE") or spider.maxsize
        # A shorter timeout for article pages, never a longer one than DOWNLOAD_TIMEOUT.
        timeouts = [t for t in (settings.getfloat("PRESSMON_ARTICLE_TIMEOUT"), settings.getfloat("DOWNLOAD_TIMEOUT")) if t]
        spider.article_timeout = min(timeouts) if timeouts else None
        overrides = settings.getdict("PRESSMON_LIMITS")
        unknown = set(overrides) - set(LIMIT_FIELDS)
        if unknown:
            raise ValueError(f"PRESSMON_LIMITS: unknown limits {sorted(unknown)}; known: {', '.join(LIMIT_FIELDS)}")
        spider.limits = replace(spider.limits, **{k: int(v) for k, v in overrides.items()})
        if spider.newest_only:
            crawler.signals.connect(spider._fetch_newest, signal=signals.spider_idle)
        return spider

    async def start(self):
        if self.page_url:
            for out in self._page(self.page_url, self.parse_article):
                yield out
            return
        for url in self.outlet.rss:
            for out in self._page(url, self.parse_feed):
                yield out
        for url in self.outlet.sitemaps:
            for out in self._page(url, self.parse_sitemap):
                yield out
        for url in (self.outlet.home, *self.outlet.sections):
            for out in self._page(url, self.parse_listing, cb_kwargs={"section": url}):
                yield out

    # -- discovery
    def parse_feed(self, response):
        if response.status == 304:
            return
        feed = feedparser.parse(response.body)
        entries = feed.entries
        chunks = FEED_ITEM.findall(response.body) if feed.bozo else []
        if len(chunks) > len(entries):
            # Not well-formed, and the parser lost items on the way (an unclosed CDATA section
            # swallows every item after it): each item is read on its own instead.
            entries = []
            for number, match in enumerate(FEED_ITEM.finditer(response.body), 1):
                item = _feed_item(match.group(0))
                if item is None:
                    yield self._error(response.url, "parse_failed",
                                      f"feed item {number} is not well-formed ({feed.bozo_exception}): skipped")
                else:
                    entries.append(item)
        if not entries:
            yield self._error(response.url, "empty_feed",
                              f"feed has no items ({response.headers.get('Content-Type', b'').decode()})")
            return
        for number, entry in enumerate(entries, 1):
            # One bad item is recorded and skipped; the items after it are still read.
            try:
                found = list(self._feed_entry(entry, response.url))
            except Exception as exc:  # noqa: BLE001 — whatever a malformed item makes feedparser or us raise
                link = entry.get("link") if isinstance(entry.get("link"), str) else None
                yield self._error(response.url, "parse_failed",
                                  f"feed item {number}{f' ({link})' if link else ''} skipped: "
                                  f"{type(exc).__name__}: {exc}")
                continue
            yield from found

    def _feed_entry(self, entry, feed_url: str):
        link = entry.get("link")
        if not link:
            raise ValueError("the item has no link")
        published = entry.get("published_parsed") or entry.get("updated_parsed")
        if published and self._before_since(date(*published[:3])):
            return
        changed = entry.get("updated_parsed") or published
        yield from self._follow_article(link, date(*changed[:3]) if changed else None,
                                        found_in=("rss", feed_url))

    def parse_sitemap(self, response):
        if response.status == 304:
            return
        body = response.body
        if body[:2] == b"\x1f\x8b":
            # Capped like a Content-Encoding body: a 1 MiB .xml.gz once inflated to gigabytes.
            try:
                body = gunzip(body, max_size=self.maxsize)
            except _DecompressionMaxSizeExceeded:
                yield self._error(response.url, "too_large",
                                  f"gzipped sitemap of {len(response.body)} bytes inflates past "
                                  f"{self.maxsize} bytes (DOWNLOAD_MAXSIZE): not read")
                return
            except (OSError, EOFError) as exc:
                yield self._error(response.url, "parse_failed", f"not a readable gzip file: {exc}")
                return
        entries = []
        try:
            sitemap = Sitemap(body)
            # lxml reads the document as it is iterated: an error past a good part stops it
            # there, and what was read before it is kept.
            entries.extend(sitemap)
        except Exception as exc:  # noqa: BLE001 — lxml raises several kinds for a non-XML or broken body
            where = f" after {len(entries)} entries" if entries else ""
            yield self._error(response.url, "parse_failed", f"not a readable sitemap{where}: {exc}")
            if not entries:
                return
        if sitemap.type not in ("urlset", "sitemapindex"):
            yield self._error(response.url, "parse_failed",
                              f"not a sitemap: the document is <{sitemap.type or '?'}>, not <urlset> or <sitemapindex>")
            return
        # Scrapy's Sitemap passes over an entry with no <loc> in silence
        without_loc = len(SITEMAP_ENTRY.findall(body)) - len(entries)
        if without_loc > 0:
            yield self._error(response.url, "parse_failed", f"{without_loc} sitemap entries without a <loc>: skipped")
        if sitemap.type == "sitemapindex" and self.newest_only:
            entries = _newest_sitemaps(entries)
        for entry in entries:
            try:
                found = list(self._sitemap_entry(entry, sitemap.type, response.url))
            except Exception as exc:  # noqa: BLE001 — a broken <loc>, as canonical_url or Request meets it
                yield self._error(response.url, "parse_failed",
                                  f"sitemap entry {entry.get('loc')!r} skipped: {type(exc).__name__}: {exc}")
                continue
            yield from found

    def _sitemap_entry(self, entry: dict, kind: str, sitemap_url: str):
        parts = urlsplit(entry["loc"])
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("not a web address")
        lastmod = _lastmod_date(entry.get("lastmod"))
        if lastmod and self._before_since(lastmod):
            return
        if kind == "sitemapindex":
            yield from self._page(entry["loc"], self.parse_sitemap)
        else:
            yield from self._follow_article(entry["loc"], lastmod, found_in=("sitemap", sitemap_url))

    def parse_listing(self, response, section: str, page: int = 1):
        if response.status == 304:
            return
        links = self.listing_links(response)
        limit = self.limits.max_links_per_page
        if len(links) > limit:
            yield from self._limit_hit("max_links_per_page", response.url,
                                       f"{len(links)} article links on this listing page; "
                                       f"max_links_per_page = {limit}: the first {limit} followed",
                                       key=response.url)
            links = links[:limit]
        for url in links:
            yield from self._follow_article(url, found_in=("listing", response.url))
        # Paging back stops at the last known item: a listing page a finished night has seen,
        # now showing nothing new, ends the section (after a crashed night, it does not).
        seen_before = response.request.url in self.known_pages
        nothing_new = seen_before and all(url in self.known_pages for url in links)
        if not links or nothing_new or self.newest_only or self.listing_reached_since(response):
            return
        next_pages = [r for r in self.next_listing_pages(response, section, page) if isinstance(r, scrapy.Request)]
        if next_pages and page >= self.limits.max_listing_pages:
            yield from self._limit_hit("max_listing_pages", response.url,
                                       f"section {section} paged {page} deep; max_listing_pages = "
                                       f"{self.limits.max_listing_pages}: {next_pages[0].url} not fetched",
                                       key=section)
            return
        for request in next_pages:
            yield from self._page(request.url, request.callback, cb_kwargs=request.cb_kwargs)

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
        yield from self._page(url, self.parse_article)

    def parse_article(self, response):
        if response.status == 304:
            return
        header = response.headers.get("Content-Type", b"").decode("latin-1")
        content_type = header.split(";")[0].strip().lower().encode("latin-1")
        if not isinstance(response, HtmlResponse) or (content_type and content_type not in HTML_TYPES):
            yield self._error(response.url, "not_html", f"Content-Type {content_type.decode() or 'missing'}")
            return
        try:
            # From the bytes: extract_page decides the charset when the declaration lies.
            extraction = extract_page(response.body, response.url, self.outlet, content_type=header or None)
        except ExtractionError as exc:
            yield self._error(response.url, exc.kind, str(exc) or exc.kind)
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
        for out in self._page(url, self.parse_article):
            if isinstance(out, scrapy.Request):
                self.crawler.engine.crawl(out)
        raise DontCloseSpider

    # -- plumbing
    def _page(self, url: str, callback, **kwargs):
        """The request for a page, unless it was asked for already in this run or the night's
        page limit is reached (then, once, the `limit` error row instead)."""
        if url in self.requested:
            return
        if len(self.requested) >= self.limits.max_pages_per_night:
            yield from self._limit_hit("max_pages_per_night", url,
                                       f"{len(self.requested)} pages requested this run; max_pages_per_night = "
                                       f"{self.limits.max_pages_per_night}: this page and any after it not fetched")
            return
        self.requested.add(url)
        yield self._request(url, callback, **kwargs)

    def _request(self, url: str, callback, **kwargs) -> scrapy.Request:
        meta = {}
        if callback == self.parse_article and self.article_timeout:
            meta["download_timeout"] = self.article_timeout
        known = self.known_pages.get(url)
        if not known:
            return scrapy.Request(url, callback=callback, errback=self.on_error, meta=meta, **kwargs)
        headers = {"If-None-Match": known.get("etag"), "If-Modified-Since": known.get("last_modified")}
        return scrapy.Request(url, callback=callback, errback=self.on_error,
                              headers={k: v for k, v in headers.items() if v},
                              meta={**meta, "handle_httpstatus_list": [304]}, **kwargs)

    def _limit_hit(self, limit: str, url: str, detail: str, key: str = ""):
        if (limit, key) in self.limits_hit:
            return
        self.limits_hit.add((limit, key))
        yield self._error(url, "limit", f"{limit}: {detail}")

    def _before_since(self, day: date) -> bool:
        return self.since is not None and day < self.since

    def _error(self, url: str, kind: str, detail: str) -> dict:
        return {"type": "error", "outlet_id": self.outlet_id, "url": url, "kind": kind, "detail": detail}

    def on_error(self, failure):
        # After redirects, report the URL the spider asked for, not the last hop.
        url = failure.request.meta.get("redirect_urls", [failure.request.url])[0]
        yield self._error(url, *describe_failure(failure, maxsize=self.maxsize))


SITEMAP_ENTRY = re.compile(rb"<(?:[\w-]+:)?(?:url|sitemap)[\s>]")
FEED_ITEM = re.compile(rb"<(item|entry)[\s>].*?</\1\s*>", re.DOTALL)
LOOPBACK_URL = re.compile(r"https?://(?:127\.\d+\.\d+\.\d+|localhost|\[::1\])(?::\d+)?(?P<path>/[^\s>'\"]*)?")
CONNECTION_CLOSED = (ConnectionLost, ConnectionDone, ConnectionAborted)


def describe_failure(failure, maxsize: int | None = None) -> tuple[str, str]:
    """(kind, detail) for a failed request, in the vocabulary of crawl_errors.kind: never an
    empty detail, and never the offline mirror's loopback address (the page's own URL instead)."""
    kind, detail = _describe(failure, maxsize)
    url = failure.request.url
    if not LOOPBACK_URL.match(url):  # the mirror fetched it: name the real page, not the copy
        detail = LOOPBACK_URL.sub(url, detail)
    return kind, detail.strip() or f"{type(failure.value).__name__} (no message)"


def _describe(failure, maxsize: int | None) -> tuple[str, str]:
    exc = failure.value
    causes = list(_causes(exc))
    name = type(exc).__name__
    if failure.check(HttpError):
        return "http_error", _http_error_detail(exc.response)
    if any(isinstance(c, _DecompressionMaxSizeExceeded) for c in causes) or (
            failure.check(DownloadCancelledError, CancelledError) and "max size" in str(exc).lower()):
        return "too_large", f"response larger than the {maxsize or 'DOWNLOAD_MAXSIZE'}-byte cap: {exc}"
    if failure.check(DownloadCancelledError, CancelledError):
        # Scrapy cancels a download whose body grows past DOWNLOAD_MAXSIZE with no message.
        return "too_large", (str(exc) or f"download stopped: the body grew past the "
                             f"{maxsize or 'DOWNLOAD_MAXSIZE'}-byte cap (DOWNLOAD_MAXSIZE)")
    if failure.check(OffsiteRedirect):
        return "offsite_redirect", str(exc)
    if failure.check(IgnoreRequest):
        text = str(exc)
        if "redirect" in text.lower():
            return "redirect_loop", text
        if "robots.txt" in text:
            return "robots", text
        return "ignored", text or "request dropped by a downloader middleware (no reason given)"
    if failure.check(DownloadTimeoutError, TimeoutError, TCPTimedOutError):
        return "timeout", str(exc) or "no answer before the download timeout"
    if failure.check(CannotResolveHostError, DNSLookupError):
        return "dns", str(exc) or "host name not found"
    if failure.check(DownloadConnectionRefusedError):
        return "connection_refused", str(exc) or "connection refused"
    closed = next((c for c in causes if isinstance(c, CONNECTION_CLOSED)), None)
    # A reset (ConnectionLost: not a clean close) mid-body also leaves the body short; a clean
    # close before Content-Length's end is a truncated body.
    if any(isinstance(c, (ResponseDataLossError, _DataLoss)) for c in causes) and not isinstance(
            closed, (ConnectionLost, ConnectionAborted)):
        return "truncated", ("the connection closed before the whole body arrived (fewer bytes than "
                             "its Content-Length, or an unfinished chunked body)")
    if closed is not None or failure.check(ResponseNeverReceived, DownloadFailedError):
        where = "before answering" if failure.check(ResponseNeverReceived) or any(
            isinstance(c, ResponseNeverReceived) for c in causes) else "during the answer"
        reason = type(closed).__name__ if closed is not None else name
        return "connection_reset", f"the server closed or reset the connection {where} ({reason})"
    return "other", f"{name}: {exc}" if str(exc) else name


def _causes(exc, depth: int = 0):
    """The exception, what it was raised from, and the failures Twisted wraps inside it."""
    if exc is None or depth > 6:
        return
    yield exc
    for reason in getattr(exc, "reasons", None) or ():  # ResponseFailed, ResponseNeverReceived
        yield from _causes(getattr(reason, "value", None), depth + 1)
    yield from _causes(exc.__cause__ or exc.__context__, depth + 1)


def _http_error_detail(response) -> str:
    detail = f"HTTP {response.status}"
    asked = response.request.meta.get("pressmon_retry_after") if response.request is not None else None
    if asked:
        wait = f"{asked['asked']:.0f} s"
        if asked["asked"] > asked["ceiling"]:
            return (f"{detail}, asked to wait {wait} (more than the {asked['ceiling']:.0f} s we wait): "
                    f"later")
        return f"{detail} again after waiting {wait} as asked ({asked['retried']} retries): later"
    return detail


def _feed_item(xml: bytes):
    """The entry of one <item> or <entry> read alone; None when it is not well-formed."""
    wrapped = (b'<feed xmlns="http://www.w3.org/2005/Atom">' + xml + b"</feed>" if xml.startswith(b"<entry")
               else b'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>' + xml + b"</channel></rss>")
    parsed = feedparser.parse(wrapped)
    return None if parsed.bozo or len(parsed.entries) != 1 else parsed.entries[0]


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
