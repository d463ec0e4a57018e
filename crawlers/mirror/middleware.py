"""Send every request for a registry domain to the offline mirror.

Settings:

- ``PRESSMON_MIRROR`` — the mirror's address, e.g. ``"http://127.0.0.1:8765"``. The spiders
  add this middleware at 950 in ``DOWNLOADER_MIDDLEWARES`` only when it is set
  (``NewsSpider.update_settings``), so a crawl of the real sites never loads it; enabled
  without it, the middleware disables itself (``NotConfigured``).
A host is mirrored when it is one of the registry's ``domains`` or that domain with ``www.``
in front.

How it works (checked against the Scrapy 2.19 sources, ``scrapy/core/downloader``):

A downloader middleware that *returns a new Request* from ``process_request`` makes Scrapy
reschedule that request through the scheduler (``ExecutionEngine._handle_downloader_output``)
and run it through every middleware again. For a rewritten ``http://127.0.0.1:PORT/…`` copy
that would go wrong: the dupefilter would see ``/robots.txt`` of two outlets as one URL,
RobotsTxtMiddleware would fetch robots.txt of 127.0.0.1, the offsite filter would drop it,
cookies would be stored for 127.0.0.1, and ``failure.request.url`` in errbacks would be the
mirror's. So instead, ``process_request`` (the last one to run, at 950) downloads the
rewritten copy itself — through the downloader's per-slot queue, so ``DOWNLOAD_DELAY``,
``DOWNLOAD_SLOTS`` and concurrency still apply per *original* host — and returns the response
with ``url`` set back to the original URL. Returning a Response from ``process_request``
skips only the download; every ``process_response`` still runs, so RedirectMiddleware
(600), RetryMiddleware (550), HttpCompression (590), cookies, stats and the spider all see
the real URL. Exceptions raised by the download (timeouts, refused connections) reach every
``process_exception`` with the original request, so retries and errbacks see the real URL too;
their messages are rewritten to name the real URL instead of the loopback copy (``unmirror``).

robots.txt: RobotsTxtMiddleware (100) fetches ``https://<host>/robots.txt`` with
``engine.download_async()``, which runs ``Downloader.fetch()`` → this same middleware chain,
so the robots request is mirrored like any other (the server answers it by Host header).

The copy sent to the mirror has the header ``Host: <original host>``, ``dont_filter=True``,
no proxy, and ``meta['mirror_original_url']`` (set on the original request too).
The server writes redirect ``Location`` headers in absolute ``https://<host>/…`` form, and
they are passed on unchanged, so RedirectMiddleware follows real URLs.
"""

from __future__ import annotations

import inspect
from urllib.parse import urlsplit, urlunsplit

from scrapy.exceptions import NotConfigured
from scrapy.http import Request, Response
from scrapy.utils.defer import maybe_deferred_to_future

from pressmon.crawlers.registry import all_domains

META_KEY = "mirror_original_url"
_PROXY_META = ("proxy", "_auth_proxy", "_scheme_proxy")


class MirrorMiddleware:
    def __init__(self, mirror: str, hosts: frozenset[str], crawler=None):
        parts = urlsplit(mirror)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise NotConfigured(f"PRESSMON_MIRROR must be an http URL, not {mirror!r}")
        self.scheme, self.netloc = parts.scheme, parts.netloc
        self.base = f"{parts.scheme}://{parts.netloc}"
        self.hosts = hosts
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        mirror = crawler.settings.get("PRESSMON_MIRROR")
        if not mirror:
            raise NotConfigured("PRESSMON_MIRROR is not set")
        return cls(mirror, frozenset(all_domains()), crawler)

    # -- URL mapping -----------------------------------------------------------------------
    def mirrored_host(self, url: str) -> str | None:
        """The host of `url` when it belongs to a registry domain, else None."""
        host = (urlsplit(url).hostname or "").rstrip(".")
        if host in self.hosts or (host.startswith("www.") and host[4:] in self.hosts):
            return host
        return None

    def mirror_url(self, url: str) -> str:
        parts = urlsplit(url)
        return urlunsplit((self.scheme, self.netloc, parts.path or "/", parts.query, ""))

    def mirror_request(self, request: Request) -> Request:
        """The copy of `request` that goes to the mirror."""
        host = self.mirrored_host(request.url)
        headers = request.headers.copy()
        headers["Host"] = host
        headers.pop(b"Proxy-Authorization", None)
        meta = {k: v for k, v in request.meta.items() if k not in _PROXY_META}
        meta[META_KEY] = request.url
        # keep one download slot per real host (DOWNLOAD_SLOTS, delays, concurrency)
        meta.setdefault("download_slot", host)
        return request.replace(url=self.mirror_url(request.url), headers=headers, meta=meta,
                               dont_filter=True)

    # -- middleware hooks ------------------------------------------------------------------
    async def process_request(self, request: Request, spider=None) -> Response | None:
        if self.mirrored_host(request.url) is None:
            request.meta.pop(META_KEY, None)  # stale, copied by a redirect to another host
            return None
        request.meta[META_KEY] = request.url
        mirrored = self.mirror_request(request)
        try:
            response = await self._download(mirrored, spider)
        except Exception as exc:  # any kind: only its message changes
            self.unmirror(exc, mirrored.url, request.url)
            raise
        for key in ("download_latency", "download_slot"):
            if key in mirrored.meta:
                request.meta[key] = mirrored.meta[key]
        return response.replace(url=request.url)

    def process_response(self, request: Request, response: Response, spider=None) -> Response:
        original = request.meta.get(META_KEY)
        if original and response.url.startswith(self.base + "/"):
            return response.replace(url=original)
        return response

    def unmirror(self, exc: BaseException, mirrored_url: str, url: str) -> None:
        """`exc` with the loopback copy's URL in its message replaced by the page's own
        ("Getting http://127.0.0.1:PORT/a took longer…" → "Getting https://site/a…"): error
        rows and logs name the page, never the mirror. The same exception object is raised on,
        so retries and errbacks see the type they expect."""
        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        exc.args = tuple(a.replace(mirrored_url, url).replace(self.base, origin) if isinstance(a, str) else a
                         for a in exc.args)

    async def _download(self, request: Request, spider=None) -> Response:
        downloader = self.crawler.engine.downloader
        enqueue = getattr(downloader, "_enqueue_request", None)
        if enqueue is not None and inspect.iscoroutinefunction(enqueue):
            # Scrapy 2.19: the per-slot queue (delays, concurrency), then the handler
            return await enqueue(request)
        handlers = downloader.handlers
        if hasattr(handlers, "download_request_async"):
            return await handlers.download_request_async(request)
        return await maybe_deferred_to_future(  # older Scrapy
            handlers.download_request(request, spider or self.crawler.spider))
