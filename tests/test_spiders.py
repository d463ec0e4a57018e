"""Spider callbacks on real pages of the mirror, as Scrapy responses (the whole crawl over HTTP
is in test_crawl_mirror.py; these pin each discovery rule)."""

from __future__ import annotations

import gzip
import json
import socket
import struct
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from scrapy.http import HtmlResponse, Request, Response, TextResponse, XmlResponse

from conftest import TEST_SCALE
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


# ----------------------------------------------------------------------------------------
# Real crawls of the baogialai spider over loopback HTTP (through the mirror middleware, so
# every URL is the site's own), against small servers that each misbehave in a few ways.


SITE = "https://baogialai.com.vn"
GOOD_PAGE = next(p for p in sorted((SITES / "baogialai.com.vn").glob("*-post5*.html"))).read_bytes()
CRAWL = """
import json, sys, time
from pressmon.crawlers.fetch import _run, fetch_settings
base, scale, overrides = sys.argv[1], float(sys.argv[2]), json.loads(sys.argv[3])
settings = fetch_settings(base, politeness_scale=scale)
settings.update(overrides, priority="cmdline")
fetched = _run({"baogialai": {}}, settings)["baogialai"]
print(json.dumps({"errors": fetched.errors, "articles": [a["fetched_url"] for a in fetched.articles]}))
"""


def send(h, status: int, body: bytes = b"", headers: dict | None = None, ctype="text/html; charset=utf-8"):
    h.send_response(status)
    for name, value in {"Content-Type": ctype, "Content-Length": str(len(body)), **(headers or {})}.items():
        h.send_header(name, value)
    h.end_headers()
    h.wfile.write(body)


def good(h):
    send(h, 200, GOOD_PAGE)


def feed(*paths: str):
    items = "".join(f"<item><title>{p}</title><link>{p if p.startswith('http') else SITE + p}</link>"
                    f"<pubDate>Mon, 01 Sep 2025 08:00:00 +0700</pubDate></item>" for p in paths)
    body = f"<?xml version='1.0'?><rss version='2.0'><channel><title>t</title>{items}</channel></rss>".encode()
    return lambda h: send(h, 200, body, ctype="application/rss+xml") if h else body


def listing(*paths: str) -> callable:
    links = "".join(f'<article><h3><a href="{p}">{p}</a></h3></article>' for p in paths)
    return lambda h: send(h, 200, f"<html><body>{links}</body></html>".encode())


class Site(ThreadingHTTPServer):
    """Answers each path with its route (a function of the request handler); 404 otherwise.
    `log` holds (monotonic time, path) of every request but robots.txt."""

    daemon_threads = True

    def __init__(self, routes: dict):
        self.routes = {"/robots.txt": lambda h: send(h, 200, b"User-agent: *\nAllow: /\n", ctype="text/plain"),
                       **routes}
        self.log: list[tuple[float, str]] = []
        self.seen: dict[str, int] = {}
        super().__init__(("127.0.0.1", 0), Handler)

    def handle_error(self, request, client_address):
        pass  # a client that gave up on a hung page: expected here, not worth a traceback


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        path = self.path.split("?")[0]
        if path != "/robots.txt":
            self.server.log.append((time.monotonic(), path))
        self.server.seen[path] = self.server.seen.get(path, 0) + 1
        route = self.server.routes.get(path)
        if route is None:
            send(self, 404, b"<html><body>not here</body></html>")
        else:
            route(self)

    def log_message(self, *args):
        pass


def crawl(routes: dict, **overrides) -> tuple[dict, Site]:
    site = Site(routes)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{site.server_address[1]}"
    try:
        proc = subprocess.run([sys.executable, "-c", CRAWL, base, TEST_SCALE, json.dumps(overrides)],
                              capture_output=True, text=True, timeout=120, cwd=ROOT, check=False)
    finally:
        site.shutdown()
        site.server_close()
    assert proc.returncode == 0, proc.stderr[-3000:]
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    for error in result["errors"]:  # every failure: a kind, a readable detail, the site's URL
        assert error["kind"] and error["detail"].strip(), error
        assert "127.0.0.1" not in error["detail"] and error["url"].startswith(SITE), error
    return result, site


def errors_at(result, url: str) -> list[tuple[str, str]]:
    return [(e["kind"], e["detail"]) for e in result["errors"] if e["url"] == SITE + url]


def reset(h):
    # RST instead of an answer: SO_LINGER with a zero timeout, then close
    h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    h.connection.close()
    h.close_connection = True


def short_body(h):
    h.send_response(200)
    h.send_header("Content-Type", "text/html; charset=utf-8")
    h.send_header("Content-Length", str(len(GOOD_PAGE)))
    h.end_headers()
    h.wfile.write(GOOD_PAGE[: len(GOOD_PAGE) // 3])
    h.wfile.flush()
    h.connection.shutdown(socket.SHUT_RDWR)
    h.close_connection = True


def retry_after(seconds: int):
    def answer(h):
        if h.server.seen[h.path] == 1:
            send(h, 429, b"<html><body>slow down</body></html>", {"Retry-After": str(seconds)})
        else:
            good(h)
    return answer


MIB = 1024 * 1024
GZIP_BOMB = gzip.compress(b"<html><body>" + b" " * (40 * MIB), compresslevel=9)
SITEMAP_BOMB = gzip.compress(b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
                             + b" " * (8 * MIB) + b"</urlset>", compresslevel=9)


def test_each_failure_gets_its_kind_and_the_rest_is_read():
    urlset = ('<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
              "<url><loc>http://[::1/broken</loc></url>"
              f"<url><loc>{SITE}/tu-sitemap-post7.html</loc></url></urlset>").encode()
    index = ('<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
             f"<sitemap><loc>{SITE}/sitemaps/bom.xml.gz</loc></sitemap>"
             f"<sitemap><loc>{SITE}/sitemaps/thang.xml</loc></sitemap>"
             f"<sitemap><loc>{SITE}/sitemaps/bao-tri.xml</loc></sitemap></sitemapindex>").encode()
    cdata = feed("/net-zero-1-post21.html", "/net-zero-2-post22.html", "/net-zero-3-post23.html")(None).replace(
        b"<item>", b"<item><title>x</title><description><![CDATA[<p>cut short</description></item><item>", 1)
    result, site = crawl({
        # an unclosed CDATA section in the first item once swallowed the items after it
        "/rss/net-zero-7.rss": lambda h: send(h, 200, cdata, ctype="application/rss+xml"),
        "/net-zero-1-post21.html": good, "/net-zero-2-post22.html": good, "/net-zero-3-post23.html": good,
        "/sitemaps/bao-tri.xml": listing(),  # an HTML page where a sitemap should be
        "/vong-lap-post16.html": lambda h: send(h, 302, b"", {"Location": SITE + "/vong-lap-b-post16.html"}),
        "/vong-lap-b-post16.html": lambda h: send(h, 302, b"", {"Location": SITE + "/vong-lap-post16.html"}),
        "/lam-moi-post17.html": lambda h: send(
            h, 200, b'<html><head><meta http-equiv="refresh" content="0;url=https://quangcao.example/"></head></html>'),
        # the first item's link breaks URL parsing: it used to end the feed's loop
        "/rss/home.rss": feed("http://[::1/broken", "/bai-tot-post1.html", "/bai-tot-post2.html",
                              "/ngat-ket-noi-post10.html", "/cat-ngan-post11.html", "/sang-trang-khac-post12.html",
                              "/bom-gzip-post13.html", "/cho-mot-chut-post14.html", "/cho-mai-post15.html",
                              "/vong-lap-post16.html", "/lam-moi-post17.html"),
        "/sitemap.xml": lambda h: send(h, 200, index, ctype="application/xml"),
        "/sitemaps/bom.xml.gz": lambda h: send(h, 200, SITEMAP_BOMB, ctype="application/gzip"),
        "/sitemaps/thang.xml": lambda h: send(h, 200, urlset, ctype="application/xml"),
        "/bai-tot-post1.html": good, "/bai-tot-post2.html": good, "/tu-sitemap-post7.html": good,
        "/ngat-ket-noi-post10.html": reset,
        "/cat-ngan-post11.html": short_body,
        "/sang-trang-khac-post12.html": lambda h: send(h, 302, b"", {"Location": "https://example.org/bai.html"}),
        "/bom-gzip-post13.html": lambda h: send(h, 200, GZIP_BOMB, {"Content-Encoding": "gzip"}),
        "/cho-mot-chut-post14.html": retry_after(20),  # × TEST_SCALE: one second
        "/cho-mai-post15.html": retry_after(7200),
    })
    stored = set(result["articles"])
    assert {SITE + p for p in ("/bai-tot-post1.html", "/bai-tot-post2.html", "/tu-sitemap-post7.html",
                               "/cho-mot-chut-post14.html")} <= stored

    [(kind, detail)] = errors_at(result, "/rss/home.rss")
    assert kind == "parse_failed" and "feed item 1" in detail and "[::1/broken" in detail
    sitemap_errors = errors_at(result, "/sitemaps/thang.xml")
    assert [k for k, _ in sitemap_errors] == ["parse_failed"] and "[::1/broken" in sitemap_errors[0][1]
    [(kind, detail)] = errors_at(result, "/sitemaps/bom.xml.gz")
    assert kind == "too_large" and str(5 * MIB) in detail

    assert errors_at(result, "/ngat-ket-noi-post10.html")[0][0] == "connection_reset"
    assert errors_at(result, "/cat-ngan-post11.html")[0][0] == "truncated"
    [(kind, detail)] = errors_at(result, "/sang-trang-khac-post12.html")
    assert kind == "offsite_redirect" and "https://example.org/bai.html" in detail
    assert {SITE + f"/net-zero-{n}-post2{n}.html" for n in (1, 2, 3)} <= stored
    [(kind, detail)] = errors_at(result, "/rss/net-zero-7.rss")
    assert kind == "parse_failed" and detail.startswith("feed item 1 is not well-formed")
    [(kind, detail)] = errors_at(result, "/sitemaps/bao-tri.xml")
    assert kind == "parse_failed" and "<html>" in detail
    [(kind, detail)] = errors_at(result, "/vong-lap-post16.html")
    assert kind == "redirect_loop" and detail.endswith("→ https://baogialai.com.vn/vong-lap-post16.html")
    [(kind, detail)] = errors_at(result, "/lam-moi-post17.html")
    assert kind == "offsite_redirect" and "https://quangcao.example/" in detail
    [(kind, detail)] = errors_at(result, "/bom-gzip-post13.html")
    assert kind == "too_large" and "decompress" in detail

    # Retry-After: waited for (20 s × the test scale), then fetched; 7200 s is beyond the ceiling
    waits = [t for t, p in site.log if p == "/cho-mot-chut-post14.html"]
    assert len(waits) == 2 and waits[1] - waits[0] >= 20 * float(TEST_SCALE) * 0.95
    assert site.seen["/cho-mai-post15.html"] == 1
    [(kind, detail)] = errors_at(result, "/cho-mai-post15.html")
    assert kind == "http_error" and detail.startswith("HTTP 429, asked to wait 7200 s")


def test_one_hung_page_does_not_stall_its_outlet():
    def hang(h):
        time.sleep(4)
        good(h)

    goods = [f"/bai-tot-post{n}.html" for n in range(1, 9)]
    # the scheduler hands out a callback's requests last first: the hung page goes out first
    result, site = crawl({"/rss/home.rss": feed(*goods, "/treo-post99.html"), **dict.fromkeys(goods, good),
                          "/treo-post99.html": hang},
                         PRESSMON_ARTICLE_TIMEOUT=1.5)
    assert {SITE + p for p in goods} <= set(result["articles"])
    [(kind, detail)] = errors_at(result, "/treo-post99.html")
    assert kind == "timeout" and f"{SITE}/treo-post99.html" in detail
    hung = min(t for t, p in site.log if p == "/treo-post99.html")
    served = [t for t, p in site.log if p in goods]
    assert max(served) < hung + 1.5, "the other pages waited for the hung one"


def test_traps_are_cut_at_the_outlets_limits():
    home = [f"/bay-post{n}.html" for n in range(1, 41)]
    more = {f"/kinh-te/xem-them/trang-{n}.html": listing(f"/them-{n}a-post{n}1.html", f"/them-{n}b-post{n}2.html")
            for n in range(2, 60)}  # a "load more" that never ends
    result, site = crawl({"/": listing(*home), "/kinh-te/": listing("/kinh-te-post1.html"), **more,
                          **{p: good for p in home}},
                         PRESSMON_LIMITS={"max_links_per_page": 10, "max_listing_pages": 4})
    limits = [(e["url"], e["detail"]) for e in result["errors"] if e["kind"] == "limit"]
    assert len(limits) == 2, limits
    links = next(d for u, d in limits if d.startswith("max_links_per_page"))
    assert "40 article links" in links and (SITE + "/", links) in limits
    depth = next((u, d) for u, d in limits if d.startswith("max_listing_pages"))
    assert depth[0] == SITE + "/kinh-te/xem-them/trang-4.html" and "trang-5.html not fetched" in depth[1]
    fetched = {p for _, p in site.log}
    assert sum(p in fetched for p in home) == 10
    assert {p for p in fetched if "/xem-them/" in p} == {f"/kinh-te/xem-them/trang-{n}.html" for n in (2, 3, 4)}


def test_a_night_stops_at_its_page_limit_with_one_record():
    pages = [f"/bai-post{n}.html" for n in range(1, 31)]
    result, site = crawl({"/rss/home.rss": feed(*pages), **dict.fromkeys(pages, good)},
                         PRESSMON_LIMITS={"max_pages_per_night": 12})
    limits = [e for e in result["errors"] if e["kind"] == "limit"]
    assert len(limits) == 1 and limits[0]["detail"].startswith("max_pages_per_night")
    assert len({p for _, p in site.log}) == 12
