"""Politeness: AutoThrottle that never goes below what a site asked for, and Retry-After obeyed.

Scrapy's AutoThrottle may lower a slot's delay under DOWNLOAD_DELAY's per-slot value, and
Scrapy never applies robots.txt `Crawl-delay` by itself. This extension keeps a floor per
download slot — the larger of the registry's `download_delay` (DOWNLOAD_SLOTS) and the
site's Crawl-delay for our User-Agent (times PRESSMON_POLITENESS_SCALE) — and holds AutoThrottle above it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from time import monotonic

from scrapy import signals
from scrapy.extensions.throttle import AutoThrottle
from scrapy.utils.defer import maybe_deferred_to_future
from twisted.internet.task import deferLater


class PoliteThrottle(AutoThrottle):
    def __init__(self, crawler):
        super().__init__(crawler)
        self.scale = crawler.settings.getfloat("PRESSMON_POLITENESS_SCALE", 1.0)
        self.floors = {key: float(slot.get("delay", 0))
                       for key, slot in crawler.settings.getdict("DOWNLOAD_SLOTS").items()}
        self.user_agent = crawler.settings.get("ROBOTSTXT_USER_AGENT") or crawler.settings.get("USER_AGENT")
        crawler.signals.connect(self._robots_parsed, signal=signals.robots_parsed)

    def _robots_parsed(self, robotparser, request):
        crawl_delay = robotparser.crawl_delay(self.user_agent)
        if not crawl_delay:
            return
        downloader = self.crawler.engine.downloader
        key, slot = downloader._get_slot(request)
        self.floors[key] = max(self.floors.get(key, 0.0), float(crawl_delay) * self.scale)
        slot.delay = max(slot.delay, self.floors[key])
        self.crawler.stats.set_value(f"politeness/crawl_delay/{key}", float(crawl_delay))

    def _response_downloaded(self, response, request, spider=None):
        super()._response_downloaded(response, request, spider)
        key = request.meta.get("download_slot")
        floor = self.floors.get(key)
        slot = self.crawler.engine.downloader.slots.get(key)
        if floor and slot is not None:
            slot.delay = max(slot.delay, floor)


class RetryAfterMiddleware:
    """A 429 or 503 with `Retry-After` is retried once the site's wait is over, up to a ceiling.

    Scrapy's RetryMiddleware ignores Retry-After: it retried 4.6 s after a 429 that asked for
    120 s. This middleware's process_response runs before RetryMiddleware's (550; it sits at
    560, see crawlers/settings.py). For an answer asking to wait N s:

    - N ≤ PRESSMON_RETRY_AFTER_MAX (default 300 s): the request's download slot — one host,
      so one outlet: every outlet has its own crawler and downloader — is paused for
      N × PRESSMON_POLITENESS_SCALE seconds (its `lastseen` moved into the future: the
      downloader starts nothing on it before then, as a rate-limited site expects), and the
      request is retried after that wait. Other outlets go on meanwhile.
    - N above the ceiling, or the site asks again after the retries RETRY_TIMES allows: not
      retried (`dont_retry`), and `meta["pressmon_retry_after"]` tells the errback what was
      asked, so the error row says "asked to wait N s" (spiders.base.describe_failure).

    A Retry-After that cannot be read leaves the answer to RetryMiddleware as before.
    """

    STATUSES = (429, 503)

    def __init__(self, crawler):
        self.crawler = crawler
        settings = crawler.settings
        self.ceiling = settings.getfloat("PRESSMON_RETRY_AFTER_MAX", 300.0)
        self.scale = settings.getfloat("PRESSMON_POLITENESS_SCALE", 1.0)
        self.max_times = settings.getint("RETRY_TIMES")

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    async def process_request(self, request, spider=None):
        # The retried copy also waits itself: a host outside DOWNLOAD_SLOTS may have no delay,
        # and the downloader only honours a slot's `lastseen` when its delay is set.
        remaining = request.meta.get("pressmon_not_before", 0.0) - monotonic()
        if remaining > 0:
            from twisted.internet import reactor

            await maybe_deferred_to_future(deferLater(reactor, remaining))

    def process_response(self, request, response, spider=None):
        if response.status not in self.STATUSES or request.meta.get("dont_retry"):
            return response
        asked = retry_after_seconds(response.headers.get("Retry-After"))
        if asked is None:
            return response
        times = request.meta.get("pressmon_retry_after_times", 0)
        if asked > self.ceiling or times >= self.max_times:
            request.meta["dont_retry"] = True
            request.meta["pressmon_retry_after"] = {"asked": asked, "ceiling": self.ceiling, "retried": times}
            return response
        wait = asked * self.scale
        not_before = monotonic() + wait
        downloader = self.crawler.engine.downloader
        _, slot = downloader._get_slot(request)
        slot.lastseen = max(slot.lastseen, not_before)
        self.crawler.stats.inc_value("pressmon/retry_after/waited")
        retry = request.copy()
        retry.meta.update({"pressmon_retry_after_times": times + 1, "pressmon_not_before": not_before})
        retry.dont_filter = True
        return retry


def retry_after_seconds(value: bytes | None) -> float | None:
    """Seconds a Retry-After header asks for (delay-seconds or an HTTP date); None when absent
    or unreadable."""
    if not value:
        return None
    text = value.decode("latin-1").strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
