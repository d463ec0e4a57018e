"""One spider per CMS family: only what the platform does differently from `NewsSpider`."""

from __future__ import annotations

from pressmon.crawlers.dates import parse_date
from pressmon.crawlers.spiders.base import NewsSpider


class ZceSpider(NewsSpider):
    """baogialai.com.vn and its sister sites: section pages grow with a "xem thêm" (load
    more) endpoint instead of page numbers; it answers an empty fragment after the last page."""

    def next_listing_pages(self, response, section: str, page: int):
        if self.outlet.load_more and section != self.outlet.home:
            url = self.outlet.load_more.format(section=section.rstrip("/"), page=page + 1)
            yield self._request(url, self.parse_listing, cb_kwargs={"section": section, "page": page + 1})


class GovPortalSpider(NewsSpider):
    """The provincial portal template: numbered pages behind a "next" link."""


class WordPressSpider(NewsSpider):
    """WordPress archives list a date under each title ("22/6/2018"), so paging back stops
    at `since` without fetching the older posts."""

    listing_dates = ".entry-meta time::attr(datetime), .entry-date::text, .posted-on time::text"

    def listing_reached_since(self, response) -> bool:
        if self.since is None:
            return False
        days = [parse_date(raw) for raw in response.css(self.listing_dates).getall()]
        days = [d[:10] for d in days if d]
        return bool(days) and max(days) < self.since.isoformat()


class GenericSpider(NewsSpider):
    """National outlets followed through RSS and sitemaps; extraction leans on JSON-LD,
    OpenGraph and trafilatura."""


FAMILY_SPIDERS = {
    "zce": ZceSpider,
    "govportal": GovPortalSpider,
    "wordpress": WordPressSpider,
    "generic": GenericSpider,
}
