"""Downloader middlewares the spiders add (crawlers/settings.py): what Scrapy would otherwise
do without a trace.

- `OffsiteRedirectMiddleware`: Scrapy's OffsiteMiddleware drops a redirect to another site
  when the redirected request is scheduled (the `request_scheduled` signal), where no errback
  runs: the page vanished with no record. Here a 3xx whose `Location` leaves the outlet's
  domains fails the request instead, so its errback records `offsite_redirect` with both URLs.
"""

from __future__ import annotations

from urllib.parse import urljoin, urlsplit

from scrapy.exceptions import IgnoreRequest

REDIRECT_STATUSES = {301, 302, 303, 307, 308}


class OffsiteRedirect(IgnoreRequest):
    """A redirect to a host outside the outlet's domains; the message names both URLs."""


class OffsiteRedirectMiddleware:
    # process_response runs before RedirectMiddleware's (600): see crawlers/settings.py.

    def __init__(self, crawler):
        self.crawler = crawler

    @classmethod
    def from_crawler(cls, crawler):
        return cls(crawler)

    def process_response(self, request, response, spider=None):
        if response.status not in REDIRECT_STATUSES or request.meta.get("dont_redirect"):
            return response
        location = response.headers.get("Location")
        if not location:
            return response
        target = urljoin(request.url, location.decode("latin-1").strip())
        host = (urlsplit(target).hostname or "").lower()
        domains = getattr(self.crawler.spider, "allowed_domains", None) or []
        if not domains or any(host == d or host.endswith("." + d) for d in domains):
            return response
        raise OffsiteRedirect(f"HTTP {response.status} redirect to another site: {target} "
                              f"(not one of {', '.join(domains)}); not followed")
