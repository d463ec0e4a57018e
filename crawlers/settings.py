"""Scrapy settings for pressmon's spiders. `pipeline/crawl/settings.py` adds the item
pipelines on top, so the crawlers package stays free of storage and language code."""

from pressmon.crawlers.registry import load_registry

BOT_NAME = "pressmon"
SPIDER_MODULES = ["pressmon.crawlers.spiders.outlets"]
NEWSPIDER_MODULE = "pressmon.crawlers.spiders"

USER_AGENT = "pressmon/0.1 (+https://github.com/pressmon/pressmon; press-coverage monitor for Gia Lai province)"
ROBOTSTXT_OBEY = True
ROBOTSTXT_USER_AGENT = "pressmon"

# Politeness: a slot per domain with the registry's delay and concurrency, AutoThrottle on
# top, held above that delay and any robots.txt Crawl-delay by crawlers.politeness.
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 2
AUTOTHROTTLE_ENABLED = True
EXTENSIONS = {"scrapy.extensions.throttle.AutoThrottle": None, "pressmon.crawlers.politeness.PoliteThrottle": 0}
AUTOTHROTTLE_MAX_DELAY = 30.0
AUTOTHROTTLE_TARGET_CONCURRENCY = 1.0


def politeness_settings(scale: float = 1.0) -> dict:
    """Delays from the registry, all multiplied by `scale` (tests against the loopback
    mirror use a small scale; a real crawl never should)."""
    return {
        "DOWNLOAD_SLOTS": {
            domain: {"concurrency": outlet.concurrency, "delay": outlet.download_delay * scale}
            for outlet in load_registry().values()
            for domain in outlet.domains
        },
        "DOWNLOAD_DELAY": 0.5 * scale,
        "AUTOTHROTTLE_START_DELAY": 0.5 * scale,
        "PRESSMON_POLITENESS_SCALE": scale,
    }


globals().update(politeness_settings())

DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 5 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
REDIRECT_MAX_TIMES = 5
RETRY_TIMES = 1
COOKIES_ENABLED = False
HTTPCACHE_ENABLED = False

DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "pressmon.crawlers.robots.RobotsTxtMiddleware": 100,
}
# PRESSMON_MIRROR = "http://127.0.0.1:PORT" sends the registry's domains to the offline mirror:
# the spiders then add its middleware (NewsSpider.update_settings); a real crawl never loads it.
PRESSMON_MIRROR = None

# No console on a port, and no password printed into every night's log. Nor Scrapy's remote
# control (2.19+): an HTTP server that runs any Python code it is sent, whose token it writes
# to a job file in the user's home.
TELNETCONSOLE_ENABLED = False
REMOTE_CONTROL_ENABLED = False

REQUEST_FINGERPRINTER_IMPLEMENTATION = "2.7"
FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"
