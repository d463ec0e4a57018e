"""Redirect middlewares that leave a trace (crawlers/settings.py swaps them for Scrapy's own).

Scrapy follows a redirect by scheduling a new request, and two kinds of them then vanished
without an errback, so without an error row:

- to another site: OffsiteMiddleware drops the new request when it is scheduled (the
  `request_scheduled` signal), where no errback runs;
- back to a URL of the same chain (A → B → A): the duplicate filter drops it.

Here both fail the request instead, so its errback records `offsite_redirect` or
`redirect_loop` with the URLs. 3xx answers and <meta http-equiv=refresh> alike.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from scrapy import Request
from scrapy.downloadermiddlewares.redirect import MetaRefreshMiddleware, RedirectMiddleware
from scrapy.exceptions import IgnoreRequest


class OffsiteRedirect(IgnoreRequest):
    """A redirect to a host outside the outlet's domains; the message names both URLs."""


class _Traced:
    how = "redirect"

    def process_response(self, request, response, spider=None):
        result = super().process_response(request, response, spider)
        if not isinstance(result, Request):
            return result
        chain = [*request.meta.get("redirect_urls", []), request.url]
        if result.url in chain:
            raise IgnoreRequest(f"redirect loop: {' → '.join([*chain, result.url])}")
        host = (urlsplit(result.url).hostname or "").lower()
        domains = getattr(self.crawler.spider, "allowed_domains", None) or []
        if domains and not any(host == d or host.endswith("." + d) for d in domains):
            raise OffsiteRedirect(f"{self.how} to another site: {request.url} → {result.url} "
                                  f"(not one of {', '.join(domains)}); not followed")
        return result


class TracedRedirectMiddleware(_Traced, RedirectMiddleware):
    how = "HTTP redirect"


class TracedMetaRefreshMiddleware(_Traced, MetaRefreshMiddleware):
    how = "<meta http-equiv=refresh> redirect"
