"""The offline site mirror: generator, loopback server, Scrapy middleware."""

from __future__ import annotations

import gzip
import http.client
import json
import os
import re
import subprocess
import sys
import textwrap
import time
import tomllib
from collections import Counter
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from parsel import Selector

from pressmon.crawlers.mirror import build as mirror_build
from pressmon.crawlers.registry import load_registry
from pressmon.crawlers.mirror.server import FAULT_ROUTES, SAMPLE_NOTE, TOO_LARGE_BYTES, serve_mirror

ROOT = Path(__file__).resolve().parents[1]
REGISTRY = tomllib.loads((ROOT / "crawlers" / "outlets.toml").read_text(encoding="utf-8"))
OUTLETS = {o["id"]: o for o in REGISTRY["outlets"]}
SITEMAP_NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def family(outlet_id: str) -> dict:
    outlet = load_registry()[outlet_id]
    return {"selectors": outlet.selectors, "media": outlet.media, "listing_links": outlet.listing_links,
            "next_page": outlet.next_page, "load_more": outlet.load_more}


def content_files() -> list[Path]:
    """The writers' content files; PRESSMON_MIRROR_CONTENT (paths separated by os.pathsep)
    tests other content, e.g. a development file, without touching the committed tree."""
    if os.environ.get("PRESSMON_MIRROR_CONTENT"):
        return [Path(p) for p in os.environ["PRESSMON_MIRROR_CONTENT"].split(os.pathsep)]
    files = mirror_build.default_content_files()
    assert files, "no content files in crawlers/mirror/content"
    return files


def raw_items() -> dict[str, dict]:
    """"<file name>:<line>" (an article's `source` in the manifest) -> the content item."""
    found = {}
    for f in content_files():
        with open(f, encoding="utf-8") as fh:  # lines as the builder counts them
            for number, line in enumerate(fh, 1):
                if line.strip():
                    found[f"{f.name}:{number}"] = json.loads(line)
    return found


def article_file(root: Path, url: str) -> Path:
    parts = urlsplit(url)
    path = parts.path.lstrip("/") + ("index.html" if parts.path.endswith("/") else "")
    return root / parts.hostname / path


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = tmp_path_factory.mktemp("mirror") / "sites"
    manifest = mirror_build.build(content_files(), out)
    return out, manifest


@pytest.fixture(scope="module")
def mirror(built):
    root, _ = built
    server, base = serve_mirror(root, slow_seconds=0.3)
    yield server, base
    server.shutdown()
    server.server_close()


def get(base: str, host: str, path: str, headers: dict | None = None, method: str = "GET"):
    """(status, headers, body) of one request to the mirror with a Host header."""
    netloc = urlsplit(base).netloc
    conn = http.client.HTTPConnection(netloc, timeout=10)
    conn.request(method, path, headers={"Host": host, **(headers or {})})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp.status, {k.lower(): v for k, v in resp.getheaders()}, body


# ----------------------------------------------------------------------------------------
# The generator


def tree_bytes(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_build_is_deterministic(tmp_path):
    files = content_files()
    mirror_build.build(files, tmp_path / "a")
    mirror_build.build(files, tmp_path / "a")  # over an existing tree: cleared first
    mirror_build.build(files, tmp_path / "b")
    a, b = tree_bytes(tmp_path / "a"), tree_bytes(tmp_path / "b")
    assert a.keys() == b.keys()
    assert [k for k in a if a[k] != b[k]] == []
    assert any(k.endswith(".xml.gz") for k in a)


def test_committed_tree_is_current_and_small(tmp_path):
    committed = mirror_build.SITES_DIR
    assert (committed / mirror_build.MANIFEST).exists(), "crawlers/mirror/sites has not been generated"
    if os.environ.get("PRESSMON_MIRROR_CONTENT"):
        pytest.skip("testing other content than the committed tree's")
    mirror_build.build(content_files(), tmp_path / "sites")
    fresh, old = tree_bytes(tmp_path / "sites"), tree_bytes(committed)
    stale = sorted(set(fresh) ^ set(old)) + [k for k in fresh if k in old and fresh[k] != old[k]]
    assert stale == [], "run `python -m pressmon.crawlers.mirror.build` and commit crawlers/mirror/sites"
    assert sum(len(v) for v in old.values()) < 5 * 1024 * 1024


def test_refuses_to_clear_a_directory_that_is_not_a_mirror(tmp_path):
    (tmp_path / "precious.txt").write_text("x")
    with pytest.raises(SystemExit):
        mirror_build.build(content_files(), tmp_path)
    assert (tmp_path / "precious.txt").exists()


def test_every_content_item_has_one_page(built):
    root, manifest = built
    articles = [a for o in manifest["outlets"].values() for a in o["articles"]]
    assert sorted(a["source"] for a in articles) == sorted(raw_items())
    assert len({a["url"] for a in articles}) == len(articles)
    for outlet_id, info in manifest["outlets"].items():
        pattern = re.compile(OUTLETS[outlet_id]["article_url"])
        for art in info["articles"]:
            assert pattern.match(art["url"]), art["url"]
            assert re.fullmatch(r"[a-z0-9-]+", art["url"].rstrip("/").rsplit("/", 1)[1]
                                .rsplit(".", 1)[0])


def test_slugify():
    assert mirror_build.slugify("Đắk Đoa: ô nhiễm   nước thải!") == "dak-doa-o-nhiem-nuoc-thai"
    assert mirror_build.slugify("Quyết định 1894/QĐ-TTg") == "quyet-dinh-1894-qd-ttg"


def test_every_page_is_marked_as_sample(built):
    root, _ = built
    for path in root.rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        if "/xem-them/" in str(path):  # load-more fragments are not pages
            continue
        assert SAMPLE_NOTE in text, path


# ----------------------------------------------------------------------------------------
# Discovery: sitemaps and listings, read through the server


def sitemap_urls(base: str, host: str, url: str) -> list[str]:
    import xml.etree.ElementTree as ET

    status, headers, body = get(base, host, urlsplit(url).path)
    assert status == 200, url
    if url.endswith(".gz"):
        assert headers["content-type"] == "application/x-gzip"
        body = gzip.decompress(body)
    tree = ET.fromstring(body)
    if tree.tag == SITEMAP_NS + "sitemapindex":
        urls = []
        for child in tree.iter(SITEMAP_NS + "sitemap"):
            assert child.find(SITEMAP_NS + "lastmod") is not None
            urls += sitemap_urls(base, host, child.find(SITEMAP_NS + "loc").text)
        return urls
    assert tree.tag == SITEMAP_NS + "urlset"
    for entry in tree.iter(SITEMAP_NS + "url"):
        assert entry.find(SITEMAP_NS + "lastmod") is not None
    return [loc.text for loc in tree.iter(SITEMAP_NS + "loc")]


def listing_urls(base: str, outlet_id: str, section_url: str) -> list[str]:
    """Every link a spider takes from one section, following next pages or load-more."""
    fam, host = family(outlet_id), urlsplit(section_url).hostname
    found, url, page = [], section_url, 2
    while url:
        parts = urlsplit(url)
        status, _, body = get(base, host, parts.path + (f"?{parts.query}" if parts.query else ""))
        assert status == 200, url
        sel = Selector(text=body.decode("utf-8"))
        found += [urljoin(url, h) for h in sel.css(fam["listing_links"]).getall()]
        if fam["load_more"]:
            if sel.css(".load-more-empty"):
                break
            url = fam["load_more"].format(section=section_url.rstrip("/"), page=page)
            page += 1
        else:
            nxt = sel.css(fam["next_page"]).get()
            url = urljoin(url, nxt) if nxt else None
    return found


@pytest.mark.parametrize("outlet_id", ["baogialai", "gialai-gov", "nongnghiepmoitruong",
                                       "congthuong"])
def test_each_article_is_once_in_the_sitemaps(mirror, built, outlet_id):
    _, base = mirror
    _, manifest = built
    info = manifest["outlets"][outlet_id]
    urls = []
    for sitemap in OUTLETS[outlet_id]["sitemaps"]:
        urls += sitemap_urls(base, info["host"], sitemap)
    pattern = re.compile(OUTLETS[outlet_id]["article_url"])
    counts = Counter(u for u in urls if pattern.match(u))
    assert counts == Counter(a["url"] for a in info["articles"])


@pytest.mark.parametrize("outlet_id", ["baogialai", "gialai-gov", "snnmt-gialai", "gialaitv"])
def test_each_article_is_once_in_the_section_listings(mirror, built, outlet_id):
    _, base = mirror
    _, manifest = built
    urls = []
    for section in OUTLETS[outlet_id]["sections"]:
        urls += listing_urls(base, outlet_id, section)
    pattern = re.compile(OUTLETS[outlet_id]["article_url"])
    counts = Counter(u for u in urls if pattern.match(u))
    expected = {a["url"] for a in manifest["outlets"][outlet_id]["articles"]}
    if outlet_id in mirror_build.NO_SITEMAP:  # the listings are the only way in
        assert counts == Counter(expected)
    else:  # other sections exist too; no article twice, none outside the outlet
        assert set(counts) <= expected and max(counts.values(), default=1) == 1


def test_rss_feeds(mirror, built):
    import feedparser

    _, base = mirror
    _, manifest = built
    for outlet_id, outlet in OUTLETS.items():
        known = {a["url"] for a in manifest["outlets"][outlet_id]["articles"]}
        for feed_url in outlet.get("rss", []):
            parts = urlsplit(feed_url)
            status, headers, body = get(base, parts.hostname, parts.path)
            assert status == 200 and headers["content-type"].startswith("application/rss+xml")
            feed = feedparser.parse(body)
            assert not feed.bozo, feed_url
            assert feed.entries and {e.link for e in feed.entries} <= known
            assert re.fullmatch(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0700",
                                feed.entries[0].published)
    status, _, body = get(base, "baogialai.com.vn", "/rss/home.rss")
    assert len(feedparser.parse(body).entries) == min(30, len(
        manifest["outlets"]["baogialai"]["articles"]))


def test_home_page_links(mirror, built):
    _, base = mirror
    _, manifest = built
    status, _, body = get(base, "baogialai.com.vn", "/")
    links = Selector(text=body.decode()).css(family("baogialai")["listing_links"]).getall()
    tracked = [h for h in links if "utm_source=home" in h]
    assert len(tracked) == 1 and tracked[0].endswith("?utm_source=home&utm_medium=top")
    assert urljoin("https://baogialai.com.vn/", tracked[0].split("?")[0]) in {
        a["url"] for a in manifest["outlets"]["baogialai"]["articles"]}
    assert {p for (h, p) in FAULT_ROUTES} <= set(links)
    for host in ("congthuong.vn", "nongnghiepmoitruong.vn"):
        status, _, body = get(base, host, "/")
        assert status == 200 and Selector(text=body.decode()).css("h3 a::attr(href)").getall()


# ----------------------------------------------------------------------------------------
# Article pages read with the registry's selectors


def extract(outlet_id: str, html: str) -> dict:
    sels = family(outlet_id)["selectors"]
    page = Selector(text=html)

    def first(name):
        if name not in sels:
            return None
        for css in sels[name].split(", "):
            found = page.css(css)
            if found:
                return (found[0].get() if "::" in css
                        else " ".join(t.strip() for t in found[0].css("::text").getall()
                                      if t.strip()))
        return None

    fields = {name: first(name) for name in ("title", "lead", "author", "published", "section")}
    fields["tags"] = ([" ".join(t.css("::text").getall()).strip() for t in page.css(sels["tags"])]
                      if "tags" in sels else None)
    # dropping mutates the shared tree (p.sapo is both the lead and a drop): do it last
    fields["body"] = None
    body = page.css(sels["body"]) if "body" in sels else []
    if body:
        body = body[0]
        for css in sels.get("drop", []):
            for node in body.css(css):
                node.drop()
        fields["body"] = " ".join(t.strip() for t in body.css("::text").getall() if t.strip())
    return fields


@pytest.mark.parametrize("outlet_id", ["baogialai", "gialai-gov", "snnmt-gialai", "gialaitv",
                                       "nongnghiepmoitruong"])
def test_registry_selectors_find_the_content(built, outlet_id):
    root, manifest = built
    lead_prefix = re.compile(OUTLETS[outlet_id].get("lead_prefix", "^$"))
    articles = manifest["outlets"][outlet_id]["articles"]
    assert articles, f"no {outlet_id} content in the mirror"
    raws = raw_items()
    titles = {a["title"] for a in articles}
    for art in articles:
        raw = raws[art["source"]]
        got = extract(outlet_id, article_file(root, art["url"]).read_text(encoding="utf-8"))
        assert got["title"] == art["title"]
        assert lead_prefix.sub("", got["lead"] or "") == lead_prefix.sub("", art["lead"])
        assert SAMPLE_NOTE not in got["body"]
        own_text = " ".join([raw["lead"] or "", *raw["body"]])
        # the template's related-news boxes are dropped; what an editor pasted into the text
        # is left to extraction's own rules (test_pasted_text_gets_past_every_drop_selector)
        for other in titles - {art["title"]} - set(art["pasted"]):
            assert other in own_text or other not in got["body"], (art["url"], other)
        assert got["published"], art["url"]
        if outlet_id == "baogialai":
            assert got["author"] == art["author"].upper()
            assert got["published"] == art["published"]
            assert got["section"] and got["tags"] == art["tags"]
        if outlet_id in ("gialai-gov", "snnmt-gialai"):
            assert got["section"] == art["section_name"]
            assert re.match(r"(\w+ \w+, )?\d\d/\d\d/\d{4}", got["published"])
        if outlet_id == "gialaitv":
            assert got["published"] == art["published"] and got["tags"] == art["tags"]


def test_article_bodies_hold_every_paragraph(built):
    root, manifest = built
    raws = raw_items()
    for outlet_id in ("baogialai", "gialai-gov", "snnmt-gialai", "gialaitv",
                      "nongnghiepmoitruong"):
        for art in manifest["outlets"][outlet_id]["articles"]:
            html = article_file(root, art["url"]).read_text(encoding="utf-8")
            body = extract(outlet_id, html)["body"]
            for para in raws[art["source"]]["body"]:
                assert " ".join(para.split()) in body, (art["url"], para[:40])


@pytest.mark.parametrize("outlet_id", list(mirror_build.HOSTS))
def test_pasted_text_gets_past_every_drop_selector(built, outlet_id):
    """Some items about something else carry what an editor pasted into the text: a related
    box whose links name a watched document, a photo credit, a share bar. It sits inside the
    body the spiders read and past every `drop` selector, so only extraction's own rules keep
    it out of the body (tests/test_extract.py, tests/test_crawl_mirror.py)."""
    root, manifest = built
    raws = raw_items()
    carriers = [a for a in manifest["outlets"][outlet_id]["articles"] if a["pasted"]]
    assert carriers, f"no {outlet_id} page carries pasted text"
    for art in carriers:
        assert raws[art["source"]]["category"] in mirror_build.PASTED_CATEGORIES, art["url"]
        html = article_file(root, art["url"]).read_text(encoding="utf-8")
        if outlet_id == "congthuong":  # no body selector: the template's text container
            body = " ".join(t.strip() for t in Selector(text=html).css("div.detail-inner ::text").getall()
                            if t.strip())
        else:
            body = extract(outlet_id, html)["body"]
        for text in art["pasted"]:
            assert text in body, (art["url"], text)
    named = " ".join(t for a in carriers for t in a["pasted"])
    assert "Chỉ thị số 20/CT-TTg" in named and "Quyết định 1894/QĐ-TTg" in named


def test_congthuong_has_json_ld_and_no_registry_classes(built):
    root, manifest = built
    known = set()
    for fam in REGISTRY["families"].values():
        known |= set(re.findall(r"\.([a-zA-Z_][\w-]*)", " ".join(
            str(v) for v in fam.get("selectors", {}).values())))
    known -= {"related", "box-related"}
    for art in manifest["outlets"]["congthuong"]["articles"]:
        html = article_file(root, art["url"]).read_text(encoding="utf-8")
        classes = set(" ".join(re.findall(r'class="([^"]+)"', html)).split())
        assert not classes & known, classes & known
        ld = json.loads(Selector(text=html).css(
            "script[type='application/ld+json']::text").get())
        assert ld["@type"] == "NewsArticle" and "articleBody" not in ld
        assert ld["headline"] == art["title"] and ld["datePublished"] == art["published"]
        assert "article:published_time" not in html
        assert '<div id="main-detail">' in html and '<div class="detail-inner">' in html


# ----------------------------------------------------------------------------------------
# The server


def test_server_picks_the_site_by_host(mirror):
    _, base = mirror
    s1, h1, b1 = get(base, "baogialai.com.vn", "/robots.txt")
    s2, _, b2 = get(base, "gialai.gov.vn:443", "/robots.txt")
    s3, _, b3 = get(base, "www.baogialai.com.vn", "/robots.txt")
    assert (s1, s2, s3) == (200, 200, 200)
    assert b"Crawl-delay: 0.2" in b1 and b"Crawl-delay" not in b2 and b1 == b3
    assert h1["content-type"] == "text/plain; charset=utf-8"
    assert get(base, "example.com", "/")[0] == 404
    assert get(base, "baogialai.com.vn", "/khong-co-trang-nay.html")[0] == 404
    assert get(base, "baogialai.com.vn", "/__404.html")[0] == 404
    assert get(base, "baogialai.com.vn", "/../gialai.gov.vn/robots.txt")[0] == 404
    assert get(base, "snnmt.gialai.gov.vn", "/sitemap.xml")[0] == 404
    assert get(base, "snnmt.gialai.gov.vn", "/rss/home.rss")[0] == 404


def test_server_content_types_and_query_mapping(mirror, built):
    _, base = mirror
    _, manifest = built
    assert get(base, "baogialai.com.vn", "/sitemap.xml")[1]["content-type"] == "application/xml"
    status, headers, _ = get(base, "gialaitv.vn", "/feed/")
    assert status == 200 and headers["content-type"] == "application/rss+xml"
    status, headers, _ = get(base, "baogialai.com.vn", "/kinh-te/")
    assert status == 200 and headers["content-type"] == "text/html; charset=utf-8"
    # ?page=N -> <dir>/__page-N.html; page=1 and other parameters -> the index
    section = "/tin-tuc/" + manifest["outlets"]["gialai-gov"]["articles"][0]["section"]
    first = get(base, "gialai.gov.vn", section)
    assert first[0] == 200 and get(base, "gialai.gov.vn", section + "?page=1&x=2")[2] == first[2]
    pages = manifest["outlets"]["gialai-gov"]["sections"][section.rsplit("/", 1)[1]]["pages"]
    assert get(base, "gialai.gov.vn", f"{section}?page={pages + 1}")[0] == 404
    if pages > 1:
        assert get(base, "gialai.gov.vn", f"{section}?page=2")[0] == 200


def test_conditional_get(mirror, built):
    _, base = mirror
    _, manifest = built
    path = urlsplit(manifest["outlets"]["baogialai"]["articles"][0]["url"]).path
    status, headers, body = get(base, "baogialai.com.vn", path)
    assert status == 200 and headers["etag"] and headers["last-modified"]
    status, headers2, body2 = get(base, "baogialai.com.vn", path,
                                  {"If-None-Match": headers["etag"]})
    assert status == 304 and body2 == b"" and headers2["etag"] == headers["etag"]
    assert get(base, "baogialai.com.vn", path, {"If-None-Match": '"other"'})[0] == 200
    assert get(base, "baogialai.com.vn", path,
               {"If-Modified-Since": headers["last-modified"]})[0] == 304
    assert get(base, "baogialai.com.vn", path,
               {"If-Modified-Since": "Sat, 01 Jan 2000 00:00:00 GMT"})[0] == 200


def test_gzip_sitemap_decompresses_to_a_urlset(mirror, built):
    _, base = mirror
    _, manifest = built
    url = manifest["outlets"]["baogialai"]["gzip_sitemap"]
    status, headers, body = get(base, "baogialai.com.vn", urlsplit(url).path)
    assert status == 200 and headers["content-type"] == "application/x-gzip"
    assert body[:2] == b"\x1f\x8b" and "content-encoding" not in headers
    assert b"<urlset" in gzip.decompress(body)
    _, _, index = get(base, "baogialai.com.vn", "/sitemap.xml")
    assert url.encode() in index
    assert re.search(rb"/sitemaps/news-\d{4}-[1-9]\d?\.xml", index)  # month not zero-padded


def test_fault_routes(mirror):
    server, base = mirror
    host = "baogialai.com.vn"
    assert get(base, host, "/loi-may-chu-post999001.html")[0] == 500
    status, headers, _ = get(base, host, "/vong-lap-post999002.html")
    assert status == 302
    assert headers["location"] == "https://baogialai.com.vn/vong-lap-post999002.html?r=1"
    status, headers, _ = get(base, host, "/vong-lap-post999002.html?r=7")
    assert headers["location"].endswith("?r=8")
    status, headers, body = get(base, host, "/trang-qua-lon-post999003.html")
    assert status == 200 and len(body) == TOO_LARGE_BYTES == int(headers["content-length"])
    assert not (mirror_build.SITES_DIR / host / "trang-qua-lon-post999003.html").exists()
    status, headers, body = get(base, host, "/tai-lieu-post999004.html")
    assert headers["content-type"] == "application/pdf" and body.startswith(b"%PDF-")
    status, headers, body = get(base, host, "/trang-hong-post999005.html")
    page = Selector(text=body.decode())
    assert status == 200 and not page.css("title, h1, .article__body")
    started = time.monotonic()
    status, _, body = get(base, host, "/trang-cham-post999006.html")
    assert time.monotonic() - started >= server.slow_seconds
    assert status == 200 and not Selector(text=body.decode()).css("h1, .article__body")
    assert (host, "GET", "/loi-may-chu-post999001.html", 500) in server.requests


# ----------------------------------------------------------------------------------------
# A real Scrapy crawl through the middleware

CRAWL_SCRIPT = textwrap.dedent('''
    import json, sys
    import scrapy
    from scrapy.crawler import CrawlerProcess

    base, article, out = sys.argv[1], sys.argv[2], sys.argv[3]
    results = []

    class Probe(scrapy.Spider):
        name = "probe"

        async def start(self):
            # robots.txt first, the rest once it is parsed: in Scrapy 2.19, requests that
            # wait *together* for a host's robots.txt get no parser (only the first waiter
            # does) and are let through, so a concurrent start would not test the rules.
            yield scrapy.Request("https://baogialai.com.vn/robots.txt", callback=self.parse,
                                 errback=self.failed)

        def parse(self, response):
            results.append({"ok": True, "url": response.url, "status": response.status,
                            "request_url": response.request.url,
                            "title": response.css("h1::text").get(),
                            "robots": "Crawl-delay: 0.2" in response.text})
            if response.url.endswith("/robots.txt"):
                for url in [article, "https://baogialai.com.vn/search?q=rac-thai",
                            "https://baogialai.com.vn/loi-may-chu-post999001.html",
                            "https://baogialai.com.vn/vong-lap-post999002.html",
                            "https://baogialai.com.vn/trang-qua-lon-post999003.html"]:
                    yield scrapy.Request(url, callback=self.parse, errback=self.failed)

        def failed(self, failure):
            response = getattr(failure.value, "response", None)
            results.append({"ok": False, "url": failure.request.url,
                             "error": type(failure.value).__name__, "detail": str(failure.value),
                             "response_url": response.url if response is not None else None})

    process = CrawlerProcess({
        "PRESSMON_MIRROR": base,
        "DOWNLOADER_MIDDLEWARES": {"pressmon.crawlers.mirror.middleware.MirrorMiddleware": 950},
        "ROBOTSTXT_OBEY": True, "RETRY_ENABLED": False, "REDIRECT_MAX_TIMES": 3,
        "DOWNLOAD_MAXSIZE": 5 * 1024 * 1024, "LOG_LEVEL": "ERROR",
        "TELNETCONSOLE_ENABLED": False, "REMOTE_CONTROL_ENABLED": False,
    })
    process.crawl(Probe)
    process.start()
    with open(out, "w", encoding="utf-8") as fh:
        json.dump(results, fh)
''')


def test_scrapy_crawl_through_the_middleware(mirror, built, tmp_path):
    server, base = mirror
    _, manifest = built
    article = manifest["outlets"]["baogialai"]["articles"][-1]
    script, out = tmp_path / "crawl.py", tmp_path / "out.json"
    script.write_text(CRAWL_SCRIPT, encoding="utf-8")
    server.requests.clear()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])])}
    proc = subprocess.run([sys.executable, str(script), base, article["url"], str(out)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    results = {r["url"].split("?")[0]: r for r in json.loads(out.read_text())}
    assert len(results) == 6, (results, proc.stderr[-3000:])

    robots = results["https://baogialai.com.vn/robots.txt"]
    assert robots["ok"] and robots["status"] == 200 and robots["robots"]
    page = results[article["url"]]
    assert page["ok"] and page["url"] == page["request_url"] == article["url"]
    assert page["title"] == article["title"]
    search = results["https://baogialai.com.vn/search"]  # Disallow: /search in the mirror
    assert not search["ok"] and search["error"] == "IgnoreRequest"
    error = results["https://baogialai.com.vn/loi-may-chu-post999001.html"]
    assert error["error"] == "HttpError" and error["response_url"] == error["url"]
    loop = results["https://baogialai.com.vn/vong-lap-post999002.html"]
    assert not loop["ok"] and loop["url"].startswith("https://baogialai.com.vn/vong-lap")
    big = results["https://baogialai.com.vn/trang-qua-lon-post999003.html"]
    assert not big["ok"]

    seen = list(server.requests)
    assert ("baogialai.com.vn", "GET", "/robots.txt", 200) in seen
    assert all(host == "baogialai.com.vn" for host, *_ in seen), seen
    assert ("baogialai.com.vn", "GET", "/vong-lap-post999002.html?r=2", 302) in seen
    assert not any(path.startswith("/search") for _, _, path, _ in seen)


def test_middleware_is_off_without_the_setting():
    from scrapy.exceptions import NotConfigured
    from scrapy.utils.test import get_crawler

    from pressmon.crawlers.mirror.middleware import MirrorMiddleware

    with pytest.raises(NotConfigured):
        MirrorMiddleware.from_crawler(get_crawler(settings_dict={}))
    mw = MirrorMiddleware.from_crawler(get_crawler(settings_dict={
        "PRESSMON_MIRROR": "http://127.0.0.1:8765"}))
    assert mw.mirrored_host("https://www.gialai.gov.vn/") == "www.gialai.gov.vn"
    assert mw.mirrored_host("https://snnmt.gialai.gov.vn/x") == "snnmt.gialai.gov.vn"
    assert mw.mirrored_host("https://example.com/") is None
    assert mw.mirrored_host("https://evilgialai.gov.vn/") is None
    from scrapy import Request

    copy = mw.mirror_request(Request("https://gialai.gov.vn/tin-tuc/a?page=2#x"))
    assert copy.url == "http://127.0.0.1:8765/tin-tuc/a?page=2"
    assert copy.headers["Host"] == b"gialai.gov.vn" and copy.dont_filter
    assert copy.meta["mirror_original_url"] == "https://gialai.gov.vn/tin-tuc/a?page=2#x"


def test_middleware_errors_name_the_real_page_not_the_mirror():
    """A timeout of the loopback copy reads "Getting http://127.0.0.1:PORT/… took longer": the
    middleware re-raises the same exception naming the page's own URL."""
    import asyncio

    from scrapy import Request
    from scrapy.exceptions import DownloadTimeoutError
    from scrapy.utils.test import get_crawler

    from pressmon.crawlers.mirror.middleware import MirrorMiddleware

    mw = MirrorMiddleware.from_crawler(get_crawler(settings_dict={"PRESSMON_MIRROR": "http://127.0.0.1:8765"}))

    async def hung(request, spider=None):
        raise DownloadTimeoutError(f"Getting {request.url} took longer than 2.0 seconds.")

    mw._download = hung
    page = "https://baogialai.com.vn/trang-cham-post999006.html"
    with pytest.raises(DownloadTimeoutError) as raised:
        asyncio.run(mw.process_request(Request(page)))
    assert str(raised.value) == f"Getting {page} took longer than 2.0 seconds."
