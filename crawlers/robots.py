"""robots.txt obeyed for every request, the first wave included.

In Scrapy 2.19, requests to one host that wait together for its robots.txt share a single
Deferred; the first waiter consumes its result and the others receive None, which the stock
middleware reads as "no robots.txt: allow". Disallowed pages of a site could then be fetched
at the start of a crawl. Here a waiter that got None looks again at the parser stored for the
host once the shared Deferred has fired.
"""

from __future__ import annotations

from scrapy.downloadermiddlewares.robotstxt import RobotsTxtMiddleware as ScrapyRobotsTxtMiddleware
from scrapy.utils.httpobj import urlparse_cached
from twisted.internet.defer import Deferred


class RobotsTxtMiddleware(ScrapyRobotsTxtMiddleware):
    async def robot_parser(self, request):
        parser = await super().robot_parser(request)
        if parser is None:
            stored = self._parsers.get(urlparse_cached(request).netloc)
            if not isinstance(stored, Deferred):
                return stored
        return parser
