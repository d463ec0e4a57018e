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


ARTICLE_TIMEOUT = 15.0  # seconds, before PRESSMON_POLITENESS_SCALE


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
        # Article pages answer in well under a second; the feeds and sitemaps, larger, keep
        # DOWNLOAD_TIMEOUT. A hung article page holds one of its outlet's two connections
        # (registry `concurrency`) for this long (twice, with the retry) while the other goes on.
        # Never under 2 s, however small the scale: a loopback page under a loaded test run.
        "PRESSMON_ARTICLE_TIMEOUT": max(ARTICLE_TIMEOUT * scale, 2.0),
    }


globals().update(politeness_settings())

DOWNLOAD_TIMEOUT = 30
DOWNLOAD_MAXSIZE = 5 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024
REDIRECT_MAX_TIMES = 5
RETRY_TIMES = 1
# The longest Retry-After (seconds, as the site gives it) a 429/503 is waited for and retried
# (crawlers.politeness.RetryAfterMiddleware); the wait itself is scaled by
# PRESSMON_POLITENESS_SCALE. A longer ask is an http_error row saying so: tried another night.
PRESSMON_RETRY_AFTER_MAX = 300
# Limits laid over every outlet's registry `[outlets.limits]` for this run, e.g.
# `-s 'PRESSMON_LIMITS={"max_pages_per_night": 100}'` for a trial crawl (tests use it too).
PRESSMON_LIMITS = {}
COOKIES_ENABLED = False
HTTPCACHE_ENABLED = False

# DOWNLOAD_MAXSIZE caps a body on the wire and, in Scrapy 2.19's HttpCompressionMiddleware,
# once decompressed (gzip, deflate, br, zstd: a bomb is cut as it inflates); the spiders cap
# gzipped sitemaps with it too. Every cut is a `too_large` error row.
DOWNLOADER_MIDDLEWARES = {
    "scrapy.downloadermiddlewares.robotstxt.RobotsTxtMiddleware": None,
    "pressmon.crawlers.robots.RobotsTxtMiddleware": 100,
    # process_response before RetryMiddleware's (550), which would retry at once
    "pressmon.crawlers.politeness.RetryAfterMiddleware": 560,
    # redirects to another site and loops fail with an errback instead of vanishing
    "scrapy.downloadermiddlewares.redirect.RedirectMiddleware": None,
    "pressmon.crawlers.spiders.middlewares.TracedRedirectMiddleware": 600,
    "scrapy.downloadermiddlewares.redirect.MetaRefreshMiddleware": None,
    "pressmon.crawlers.spiders.middlewares.TracedMetaRefreshMiddleware": 580,
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
