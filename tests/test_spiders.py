"""Spider callbacks on real pages of the mirror, as Scrapy responses (the whole crawl over HTTP
is in test_crawl_mirror.py; these pin each discovery rule)."""

from __future__ import annotations

import json
from pathlib import Path

from scrapy.http import HtmlResponse, Request, Response, TextResponse, XmlResponse

from pressmon.crawlers.spiders.outlets import OUTLET_SPIDERS

ROOT = Path(__file__).resolve().parents[1]
SITES = ROOT / "crawlers" / "mirror" / "sites"
FIXTURES = ROOT / "tests" / "fixtures"


def response(cls, url: str, path: Path, headers=None):
    kwargs = {"url": url, "body": path.read_bytes(), "request": Request(url), "headers": headers or {}}
    if issubclass(cls, TextResponse):
        kwargs["encoding"] = "utf-8"
    return cls(**kwargs)


def spider(outlet_id: str, **kwargs):
    return OUTLET_SPIDERS[outlet_id](**kwargs)


def urls(results, cls=Request):
    return [r.url for r in results if isinstance(r, cls)]


def test_bad_date_is_an_error_row_and_the_article_kept_without_a_date():
    meta = json.loads((FIXTURES / "gialai-gov" / "bad-date.meta.json").read_text(encoding="utf-8"))
    page = response(HtmlResponse, meta["url"], FIXTURES / "gialai-gov" / "bad-date.html",
                    headers={"Content-Type": "text/html; charset=utf-8"})
    results = list(spider("gialai-gov").parse_article(page))
    errors = [r for r in results if r["type"] == "error"]
    articles = [r for r in results if r["type"] == "article"]
    assert [e["kind"] for e in errors] == ["bad_date"]
    assert "Đang cập nhật" in errors[0]["detail"]
    assert len(articles) == 1
    assert articles[0]["published_at"] is None and articles[0]["published_raw"] == "Đang cập nhật"


def test_gzip_monthly_sitemap_yields_its_articles():
    url = "https://baogialai.com.vn/sitemaps/news-2025-9.xml.gz"
    page = response(Response, url, SITES / "baogialai.com.vn" / "sitemaps" / "news-2025-9.xml.gz")
    found = urls(spider("baogialai").parse_sitemap(page))
    assert found and all(u.startswith("https://baogialai.com.vn/") and u.endswith(".html") for u in found)


def test_sitemap_index_skips_months_before_since():
    url = "https://baogialai.com.vn/sitemap.xml"
    page = response(XmlResponse, url, SITES / "baogialai.com.vn" / "sitemap.xml")
    every = urls(spider("baogialai").parse_sitemap(page))
    recent = urls(spider("baogialai", since="2026-09-01").parse_sitemap(page))
    assert len(every) >= 13
    assert recent and set(recent) < set(every)
    assert all("news-2025" not in u for u in recent)


def test_zce_section_asks_for_the_load_more_fragment():
    section = "https://baogialai.com.vn/kinh-te/"
    page = response(HtmlResponse, section, SITES / "baogialai.com.vn" / "kinh-te" / "index.html")
    found = urls(spider("baogialai").parse_listing(page, section=section))
    assert "https://baogialai.com.vn/kinh-te/xem-them/trang-2.html" in found
    assert sum(u.endswith(".html") and "-post" in u for u in found) == 12


def test_zce_empty_load_more_fragment_ends_the_section():
    section = "https://baogialai.com.vn/kinh-te/"
    fragments = sorted((SITES / "baogialai.com.vn" / "kinh-te" / "xem-them").glob("trang-*.html"))
    last = fragments[-1]
    page = response(HtmlResponse, f"{section}xem-them/{last.name}", last)
    assert list(spider("baogialai").parse_listing(page, section=section, page=99)) == []


def test_wordpress_archive_stops_paging_back_past_since():
    archive = "https://gialaitv.vn/category/video/ban-tin/"
    path = SITES / "gialaitv.vn" / "category" / "video" / "ban-tin" / "index.html"
    follows_next = urls(spider("gialaitv").parse_listing(response(HtmlResponse, archive, path), section=archive))
    stops = urls(spider("gialaitv", since="2030-01-01").parse_listing(response(HtmlResponse, archive, path),
                                                                      section=archive))
    assert any("/page/2/" in u for u in follows_next)
    assert not any("/page/" in u for u in stops)


def test_feed_with_no_items_is_reported():
    page = TextResponse(url="https://gialaitv.vn/feed/", body=b"<html><body>Maintenance</body></html>",
                        request=Request("https://gialaitv.vn/feed/"), encoding="utf-8")
    results = list(spider("gialaitv").parse_feed(page))
    assert [(r["type"], r["kind"]) for r in results] == [("error", "empty_feed")]


def test_non_article_links_are_never_requested_as_articles():
    home = "https://baogialai.com.vn/"
    page = response(HtmlResponse, home, SITES / "baogialai.com.vn" / "index.html")
    found = urls(spider("baogialai").parse_listing(page, section=home))
    assert found and all("-post" in u for u in found)
    assert not any("?" in u for u in found), "tracking parameters are dropped before requesting"


def test_the_mirror_is_loaded_only_when_a_crawl_asks_for_it():
    """A crawl of the real sites never imports the offline mirror or puts its middleware in
    the chain; with PRESSMON_MIRROR the middleware is there, even after CrawlerProcess merges
    its own settings into the crawler's again (which once dropped it)."""
    import subprocess
    import sys

    script = """
import sys
from scrapy.crawler import CrawlerProcess
import pressmon.pipeline.cli
from pressmon.crawlers.spiders.outlets import OUTLET_SPIDERS
from pressmon.pipeline.crawl.runner import crawl_settings

def middlewares(mirror):
    process = CrawlerProcess(crawl_settings("x.db", "r1", mirror))
    crawler = process.create_crawler(OUTLET_SPIDERS["baogialai"])
    process.create_crawler(crawler)  # what process.crawl(crawler) does first
    return [str(k) for k in crawler.settings.getdict("DOWNLOADER_MIDDLEWARES")]

live = middlewares(None)
print(any("mirror" in k for k in live), "pressmon.crawlers.mirror" in sys.modules)
print(any("MirrorMiddleware" in k for k in middlewares("http://127.0.0.1:9")))
"""
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["False", "False", "True"]
