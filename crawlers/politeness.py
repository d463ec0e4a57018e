"""AutoThrottle that never goes below what a site asked for.

Scrapy's AutoThrottle may lower a slot's delay under DOWNLOAD_DELAY's per-slot value, and
Scrapy never applies robots.txt `Crawl-delay` by itself. This extension keeps a floor per
download slot — the larger of the registry's `download_delay` (DOWNLOAD_SLOTS) and the
site's Crawl-delay for our User-Agent (times PRESSMON_POLITENESS_SCALE) — and holds AutoThrottle above it.
"""

from __future__ import annotations

from scrapy import signals
from scrapy.extensions.throttle import AutoThrottle


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
