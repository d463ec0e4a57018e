"""A hostile loopback copy of baogialai.com.vn for the fault matrix (test-only).

The registry outlet `baogialai` (CMS family zce) is served with its real discovery shapes —
the two RSS feeds, the sitemap index and its children, the home page and the five sections
with their "xem thêm" load-more pages — and the real page structure of the offline mirror's
pages (crawlers/mirror/sites/baogialai.com.vn/). Every page is generated here and marked as
sample content. Besides a few ordinary articles, each fault kind as real sites produce it has
its own URL, reachable from the outlet's discovery, and its expected outcome: an error row of
one of the given kinds at the page's real URL, or a correct article (title, date, body as
served).

    from hostile_site import serve_hostile
    server, base_url = serve_hostile()            # a free port, daemon threads
    ... pressmon crawl --outlet baogialai --mirror base_url ...
    server.shutdown(); server.server_close()

The crawl reaches the server through the mirror middleware (crawlers/mirror/middleware.py):
every request for https://baogialai.com.vn/… arrives here with `Host: baogialai.com.vn`.

`server.log` records (path with query, status, started, finished) for every request, so a
test can count what the crawler fetched and when. Sizes of the bombs are parameters: the
test keeps them small (but over the caps), benchmarks/hostile_crawl.py uses full size.
"""

from __future__ import annotations

import html
import json
import random
import re
import socket
import sqlite3
import struct
import threading
import time
import unicodedata
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import pairwise
from urllib.parse import urlsplit

HOST = "baogialai.com.vn"
SITE = f"https://{HOST}"
SITE_NAME = "Báo Gia Lai điện tử"
SAMPLE_NOTE = "Nội dung mẫu do dự án pressmon soạn, không phải bài báo thật."
MIB = 1024 * 1024
RETRY_AFTER = 40  # seconds the 429 page asks for

HTTP = ("http_error",)


# -- sample articles ---------------------------------------------------------------------

SENTENCES = [
    "Theo báo cáo của Sở Nông nghiệp và Môi trường, kết quả này có được nhờ sự phối hợp chặt chẽ giữa các ngành và chính quyền cơ sở.",
    "Người dân trong vùng cho biết họ đã được tuyên truyền, hướng dẫn cụ thể trước khi triển khai.",
    "Đại diện UBND xã nhấn mạnh sẽ tiếp tục kiểm tra, giám sát để bảo đảm tiến độ và chất lượng công trình.",
    "Trong thời gian tới, địa phương đề xuất bổ sung kinh phí để nhân rộng mô hình ra các thôn, làng lân cận.",
    "Các doanh nghiệp trên địa bàn cam kết thực hiện nghiêm quy định về bảo vệ môi trường và an toàn lao động.",
    "Lực lượng chức năng đã lập biên bản, yêu cầu các cơ sở vi phạm khắc phục hậu quả trong vòng 30 ngày.",
    "Hội nghị cũng thống nhất giao cơ quan chuyên môn xây dựng kế hoạch chi tiết, báo cáo kết quả trước ngày 15 hằng tháng.",
    "Nhiều hộ dân bày tỏ phấn khởi khi con đường bê tông mới giúp việc vận chuyển nông sản thuận lợi hơn.",
]


@dataclass(frozen=True)
class Article:
    """What a page says: the fields a correct article row holds (before normalisation)."""

    id: int
    slug: str
    title: str
    lead: str
    paragraphs: tuple[str, ...]
    published: str | None = "2026-11-18T09:30:00+07:00"
    author: str = "NGỌC MINH"
    section: str = "Thời sự - Sự kiện"

    @property
    def path(self) -> str:
        return f"/{self.slug}-post{self.id}.html"

    @property
    def url(self) -> str:
        return SITE + self.path

    @property
    def byline_time(self) -> str | None:
        if not self.published:
            return None
        day, clock = self.published[:10], self.published[11:16]
        y, m, d = day.split("-")
        return f"Thứ Tư, {d}/{m}/{y} {clock}"


def sample_article(id_: int, slug: str, title: str, *, paragraphs: tuple[str, ...] | None = None,
                   published: str | None = "2026-11-18T09:30:00+07:00", lead: str | None = None) -> Article:
    """A sample article whose text is its own (so no two articles share a content hash)."""
    if paragraphs is None:
        rng = random.Random(id_)
        picked = rng.sample(SENTENCES, 6)
        paragraphs = (
            f"{title}: {picked[0]} {picked[1]}",
            f"{picked[2]} {picked[3]} (Mã bài mẫu {id_}.)",
            f"{picked[4]} {picked[5]}",
        )
    lead = lead or f"{title}, theo ghi nhận của phóng viên tại cơ sở (bài mẫu số {id_})."
    return Article(id_, slug, title, lead, tuple(paragraphs), published)


def article_html(a: Article, *, h1: str | None = "", head_title: str | None = "", og_title: str | None = "",
                 meta_date: bool = True, byline: bool = True, canonical: str | None = "",
                 related_date: str | None = None, jsonld: str | None = None, charset: str | None = "utf-8",
                 extra_head: str = "", extra_body: str = "", close: bool = True) -> str:
    """The page of `a` as the zce template writes it (h1.article__title, .article__sapo,
    div.article__body with an .article__relate box, meta article:published_time, byline
    time.time). "" means the default for that part; None leaves it out."""
    h1 = a.title if h1 == "" else h1
    head_title = f"{a.title} | {SITE_NAME}" if head_title == "" else head_title
    og_title = a.title if og_title == "" else og_title
    canonical = a.url if canonical == "" else canonical
    esc = html.escape
    head = ['<!DOCTYPE html>', '<html lang="vi">', '<head>']
    if charset:
        head.append(f'<meta charset="{charset}">')
    head.append('<meta name="viewport" content="width=device-width, initial-scale=1">')
    if head_title is not None:
        head.append(f"<title>{esc(head_title)}</title>")
    head.append(f'<meta name="description" content="(GLO)- {esc(a.lead)}">')
    if canonical is not None:
        head.append(f'<link rel="canonical" href="{esc(canonical)}">')
    head.append('<meta property="og:type" content="article">')
    if og_title is not None:
        head.append(f'<meta property="og:title" content="{esc(og_title)}">')
    if meta_date and a.published:
        head.append(f'<meta property="article:published_time" content="{a.published}">')
    head.append(f'<meta property="article:section" content="{esc(a.section)}">')
    if jsonld is not None:
        head.append(f'<script type="application/ld+json">{jsonld}</script>')
    head.append(extra_head)
    head.append("</head>")
    paragraphs = [f"<p>{esc(p)}</p>" for p in a.paragraphs]
    related = ""
    if related_date:
        related = ('<div class="article__relate"><h3 class="relate__title">Tin liên quan</h3><ul><li>'
                   '<a href="/le-hoi-mua-xuan-2019-post100201.html">Lễ hội mùa xuân năm 2019</a> '
                   f'<time class="time">{related_date}</time></li></ul></div>')
    body = [
        '<body class="article-page">',
        ('<header class="header"><div class="header__logo"><a href="/">Báo Gia Lai</a></div>'
         '<nav class="menu"><ul><li><a href="/thoi-su-su-kien/">Thời sự - Sự kiện</a></li>'
         '<li><a href="/kinh-te/">Kinh tế</a></li><li><a href="/net-zero/">Net Zero</a></li>'
         '<li><a href="/xa-hoi/">Xã hội</a></li><li><a href="/media/">Media</a></li></ul></nav></header>'),
        f'<main class="main"><div class="article" data-id="{a.id}">',
        f'<div class="breadcrumb"><a href="/thoi-su-su-kien/">{esc(a.section)}</a></div>',
    ]
    if h1 is not None:
        body.append(f'<h1 class="article__title cms-title">{esc(h1)}</h1>')
    if byline and a.byline_time:
        body.append(f'<div class="article__meta"><time class="time">{a.byline_time}</time></div>')
    body.append(f'<div class="article__author">{esc(a.author)}</div>')
    body.append(f'<h2 class="article__sapo cms-desc">(GLO)- {esc(a.lead)}</h2>')
    body.append('<div class="article__body zce-content-body cms-body">')
    body.append(paragraphs[0] + related + "".join(paragraphs[1:]))
    body.append(extra_body)
    if not close:
        return "\n".join(head + body)
    body += [
        "</div>",
        '<div class="article__tag"><a href="/moi-truong-tag10001.html">môi trường</a></div>',
        "</div></main>",
        (f'<footer class="footer"><p>Báo và Phát thanh, Truyền hình Gia Lai</p><p class="sample-note">{SAMPLE_NOTE}</p>'
         '<p><a href="/rss.html">RSS</a></p></footer>'),
        "</body>",
        "</html>",
        "",
    ]
    return "\n".join(head + body)


def simple_page(title: str, inner: str, *, head: str = "") -> str:
    return ('<!DOCTYPE html>\n<html lang="vi">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{html.escape(title)}</title>\n{head}</head>\n<body>\n{inner}\n"
            f'<footer class="footer"><p class="sample-note">{SAMPLE_NOTE}</p></footer>\n</body>\n</html>\n')


# -- encodings ---------------------------------------------------------------------------

_TONES = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}


def cp1258_bytes(text: str) -> bytes:
    """`text` as Windows-1258 writes Vietnamese: the base letter precomposed where the code
    page has it (â, ơ, ư, đ …), the tone as a combining mark after it."""
    out = bytearray()
    for ch in unicodedata.normalize("NFC", text):
        parts = unicodedata.normalize("NFD", ch)
        tones = "".join(c for c in parts if c in _TONES)
        base = unicodedata.normalize("NFC", "".join(c for c in parts if c not in _TONES))
        try:
            out += (base + tones).encode("cp1258")
        except UnicodeEncodeError:
            out += ch.encode("cp1258", errors="xmlcharrefreplace")
    return bytes(out)


def cp1252_bytes(text: str) -> bytes:
    """An old Western-European page: what cp1252 lacks is written as a character reference."""
    return text.encode("cp1252", errors="xmlcharrefreplace")


def gzip_bomb(unit: bytes, compressed_size: int, head: bytes = b"") -> tuple[bytes, int]:
    """`head`, then `unit` repeated until the gzip stream is `compressed_size` bytes long:
    (the gzip bytes, how many bytes they inflate to). Streamed: the plain text never exists."""
    comp = zlib.compressobj(6, zlib.DEFLATED, 31)
    out = [comp.compress(head)]
    block = unit * max(1, MIB // len(unit))
    written, length = len(head), len(out[0])
    while length < compressed_size:
        part = comp.compress(block)
        out.append(part)
        written += len(block)
        length += len(part)
    out.append(comp.flush())
    return b"".join(out), written


def sitemap_bomb(compressed_size: int) -> tuple[bytes, int]:
    """A .xml.gz sitemap of one URL and a sea of whitespace (about 1:1000)."""
    head = (b'<?xml version="1.0" encoding="UTF-8"?>\n'
            b'<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n')
    unit = f"<url><loc>{SITE}/trang-bom-post999999.html</loc></url>".encode() + b" " * 16000 + b"\n"
    return gzip_bomb(unit, compressed_size, head)


def html_bomb(compressed_size: int) -> tuple[bytes, int]:
    head = simple_page("Trang mẫu", "").split("<body>")[0].encode() + b"<body>"
    return gzip_bomb(b"<div>" + b" " * 16000 + b"</div>\n", compressed_size, head)


ROBOTS_TXT = (f"User-agent: *\nDisallow: /admin/\nDisallow: /bai-noi-bo-khong-cong-khai-post920059.html\n\n"
              f"Sitemap: {SITE}/sitemap.xml\n")

# -- the fault table ---------------------------------------------------------------------


@dataclass
class Fault:
    """One fault kind: its page, how it is answered, and what a crawl must make of it."""

    name: str
    path: str
    what: str  # as a person would say it
    expect: str  # "article", "error", "article+bad_date", "article-or-error", "alias", "bounded"
    errors: tuple[str, ...] = ()  # acceptable crawl_errors kinds
    article: Article | None = None  # the correct article, when one is expected or allowed
    owner: str = "D"  # whose fix it needs: B extraction, C store/pipeline, D spiders, Lead normalisation
    via: str = "listing"  # listing, robots (listed, never to be fetched), sitemap, none (reached another way)
    answer: Callable | None = None  # (handler, fault) -> None
    detail_has: tuple[str, ...] = ()  # words the error detail must contain (any of them)
    error_url: str | None = None  # where the error row belongs, when not the page itself

    @property
    def url(self) -> str:
        return SITE + self.path


def _send(h, status: int, body: bytes, ctype: str | None = "text/html; charset=utf-8",
          headers: dict | None = None, length: int | None = None) -> None:
    h.send_response(status)
    if ctype:
        h.send_header("Content-Type", ctype)
    h.send_header("Content-Length", str(len(body) if length is None else length))
    for k, v in (headers or {}).items():
        h.send_header(k, v)
    h.end_headers()
    if h.command != "HEAD":
        h.wfile.write(body)


def page(text: str | Callable[[], str], status: int = 200, ctype: str | None = "text/html; charset=utf-8",
         encode: Callable[[str], bytes] = lambda s: s.encode("utf-8"), headers: dict | None = None):
    def answer(h, fault):
        body = text() if callable(text) else text
        _send(h, status, encode(body) if isinstance(body, str) else body, ctype, headers)
    return answer


def raw(body: bytes, status: int = 200, ctype: str | None = "text/html; charset=utf-8", headers=None):
    def answer(h, fault):
        _send(h, status, body, ctype, headers)
    return answer


def _abort(h) -> None:
    """Reset the connection: RST instead of FIN (SO_LINGER 0)."""
    try:
        h.wfile.flush()
    except OSError:
        pass
    h.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    h.connection.close()
    h.close_connection = True


def reset_mid_body(body: bytes):
    def answer(h, fault):
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body[: len(body) // 2])
        h.wfile.flush()
        time.sleep(0.05)
        _abort(h)
    return answer


def reset_at_once(h, fault):
    _abort(h)


def short_body(body: bytes):
    """Content-Length says the whole page; half is sent, then the connection is closed."""
    def answer(h, fault):
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Content-Length", str(len(body)))
        h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.write(body[: len(body) // 2])
        h.wfile.flush()
        h.connection.shutdown(socket.SHUT_WR)
        h.close_connection = True
    return answer


def hang(h, fault):
    """Read the request, answer nothing, hold the connection until the client gives up, the
    server stops, or `hang_seconds` pass (the log's finish time is when the client gave up)."""
    deadline = time.monotonic() + h.server.hang_seconds
    h.connection.settimeout(0.1)
    while time.monotonic() < deadline and not h.server.stopping.is_set():
        try:
            if h.connection.recv(1, socket.MSG_PEEK) == b"":
                break  # the client closed the connection: it timed out
        except TimeoutError:
            continue
        except OSError:
            break
    h.close_connection = True


def stream_unsized(size: int):
    """An HTML page with no Content-Length, delimited by closing the connection, of `size` bytes."""
    def answer(h, fault):
        h.send_response(200)
        h.send_header("Content-Type", "text/html; charset=utf-8")
        h.send_header("Connection", "close")
        h.end_headers()
        h.wfile.write(simple_page("Trang mẫu", "").split("<body>")[0].encode() + b"<body>")
        chunk = "<p>Đoạn văn mẫu lặp lại không dứt, trang không báo trước độ dài.</p>\n".encode() * 1000
        sent = 0
        while sent < size:
            h.wfile.write(chunk)
            sent += len(chunk)
        h.close_connection = True
    return answer


def retry_after(seconds: int, then: Callable | None):
    """429 with Retry-After: `seconds` the first time; afterwards `then` (or 429 again)."""
    def answer(h, fault):
        with h.server.lock:
            count = h.server.hits.get(fault.path, 0)
            h.server.hits[fault.path] = count + 1
        if count == 0 or then is None:
            _send(h, 429, simple_page("429 Too Many Requests", "<h1>Quá nhiều yêu cầu</h1>").encode(),
                  headers={"Retry-After": str(seconds)})
        else:
            then(h, fault)
    return answer


def redirect(location: str, status: int = 301):
    def answer(h, fault):
        _send(h, status, simple_page(str(status), f'<a href="{location}">{location}</a>').encode(),
              headers={"Location": location})
    return answer


def redirect_loop(h, fault):
    other = fault.path.replace(".html", "-b.html") if "-b" not in fault.path else fault.path.replace("-b.html", ".html")
    _send(h, 302, b"", headers={"Location": SITE + other})


def redirect_chain(h, fault):
    query = urlsplit(h.path).query
    step = int(query[4:]) if query.startswith("hop=") and query[4:].isdigit() else 0
    _send(h, 302, b"", headers={"Location": f"{SITE}{fault.path}?hop={step + 1}"})


# Articles that must be stored as served: the control group, and the targets of faults
GOOD = [
    sample_article(910001, "tinh-trien-khai-ke-hoach-bao-ve-rung-mua-kho", "Tỉnh triển khai kế hoạch bảo vệ rừng mùa khô"),
    sample_article(910002, "khoi-cong-duong-lien-xa-o-huyen-phia-dong", "Khởi công đường liên xã ở khu vực phía đông tỉnh"),
    sample_article(910003, "nong-dan-thu-hoach-ca-phe-som", "Nông dân thu hoạch cà phê sớm nhờ thời tiết thuận lợi"),
    sample_article(910004, "truong-hoc-vung-sau-don-thiet-bi-moi", "Trường học vùng sâu đón thiết bị dạy học mới"),
    sample_article(910005, "hoi-thi-van-nghe-quan-chung-cap-tinh", "Hội thi văn nghệ quần chúng cấp tỉnh năm 2026"),
    sample_article(910006, "tang-cuong-kiem-tra-an-toan-thuc-pham", "Tăng cường kiểm tra an toàn thực phẩm cuối năm"),
]
CANONICAL_VICTIM = GOOD[1]
REDIRECT_TARGET = GOOD[2]
# the feed whose second item is malformed: 7 good items, each reachable only from it
FEED_ONLY = [sample_article(915001 + i, f"tin-nhanh-net-zero-so-{i + 1}", f"Tin nhanh Net Zero số {i + 1}: tiết kiệm điện ở công sở")
             for i in range(7)]


def _a(id_, slug, title, **kw) -> Article:
    return sample_article(id_, slug, title, **kw)


def build_faults(*, sitemap_bombs: tuple[int, ...] = (16 * 1024,), body_bomb: int = 16 * 1024,
                 oversize_bytes: int = 6 * MIB) -> list[Fault]:
    """The fault table. Sizes: the compressed size of each .xml.gz sitemap bomb and of the
    gzip Content-Encoding bomb (they inflate about a thousandfold), the oversize bodies'."""
    F: list[Fault] = []

    def add(name, path, what, expect, errors=(), article=None, owner="D", via="listing", answer=None, **kw):
        F.append(Fault(name, path, what, expect, tuple(errors), article, owner, via, answer, **kw))
        return F[-1]

    # --- charset: the declaration lies
    a = _a(920001, "gia-lua-tang-nong-dan-phan-khoi", "Giá lúa tăng, nông dân phấn khởi vì được mùa")
    add("cp1258_declared_utf8", a.path, "page in Windows-1258, header and <meta> say UTF-8", "article-or-error",
        ["bad_charset"], a, owner="B", answer=page(article_html(a), encode=cp1258_bytes))
    a = _a(920002, "ca-phe-robusta-gia-cao", "Cà phê Robusta giữ giá cao, người trồng lãi khá")
    add("cp1252_declared_utf8", a.path, "page in Windows-1252 (character references for the rest), declared UTF-8",
        "article-or-error", ["bad_charset"], a, owner="B", answer=page(article_html(a), encode=cp1252_bytes))
    a = _a(920003, "ra-quan-ve-sinh-moi-truong-cuoi-tuan", "Ra quân vệ sinh môi trường cuối tuần ở các phường")
    add("utf8_declared_cp1258", a.path, "UTF-8 page, header and <meta> say windows-1258", "article-or-error",
        ["bad_charset"], a, owner="B",
        answer=page(article_html(a, charset="windows-1258"), ctype="text/html; charset=windows-1258"))
    a = _a(920004, "don-bang-cong-nhan-xa-nong-thon-moi", "Đón bằng công nhận xã đạt chuẩn nông thôn mới")
    add("utf8_bom_declared_latin1", a.path, "UTF-8 with a byte-order mark, header says ISO-8859-1", "article-or-error",
        ["bad_charset"], a, owner="B",
        answer=page(article_html(a, charset=None), ctype="text/html; charset=iso-8859-1",
                    encode=lambda s: b"\xef\xbb\xbf" + s.encode("utf-8")))
    a = _a(920005, "mo-lop-tap-huan-chuyen-doi-so", "Mở lớp tập huấn chuyển đổi số cho cán bộ xã")
    mixed = article_html(a).encode("utf-8").replace(
        html.escape(a.paragraphs[1]).encode("utf-8"), cp1258_bytes(html.escape(a.paragraphs[1])))
    add("mixed_encodings", a.path, "UTF-8 page with one paragraph pasted in Windows-1258", "error",
        ["bad_charset"], None, owner="B", answer=raw(mixed))
    a = _a(920006, "hop-tac-xa-det-tho-cam", "Hợp tác xã dệt thổ cẩm nhận đơn hàng lớn")
    add("utf16_declared_utf8", a.path, "UTF-16 page (with BOM), header says UTF-8", "article-or-error",
        ["bad_charset"], a, owner="B", answer=page(article_html(a), encode=lambda s: s.encode("utf-16")))
    a = _a(920007, "nghiem-thu-cong-trinh-thuy-loi", "Nghiệm thu công trình thủy lợi trước mùa mưa")
    add("header_utf8_meta_cp1252", a.path, "UTF-8 page, header UTF-8 (true), <meta> says windows-1252",
        "article", [], a, owner="B", answer=page(article_html(a, charset="windows-1252")))
    a = _a(920008, "kiem-tra-tien-do-giai-ngan-von", "Kiểm tra tiến độ giải ngân vốn đầu tư công")
    add("nul_bytes", a.path, "NUL bytes inside the article's paragraphs", "article-or-error",
        ["parse_failed", "bad_charset"], a, owner="B",
        answer=raw(article_html(a).encode("utf-8").replace("Mã bài mẫu".encode(), "Mã bài\x00 mẫu".encode()).replace(
            b"<p>", b"<p>\x00")))
    add("binary_garbage", "/du-lieu-hong-post920009.html", "random bytes served as text/html", "error",
        ["bad_charset", "parse_failed"], owner="B", answer=raw(random.Random(9).randbytes(6000)))

    # --- cut short
    a = _a(920010, "dau-tu-he-thong-cap-nuoc-sach", "Đầu tư hệ thống cấp nước sạch cho vùng khô hạn")
    whole = article_html(a).encode()
    add("truncated_matching_length", a.path, "HTML cut in the middle of the body, Content-Length matches",
        "error", ["truncated"], owner="B", answer=raw(whole[: whole.index(b"(M\xc3\xa3 b")]))
    a = _a(920011, "tap-huan-phong-chay-chua-chay-rung", "Tập huấn phòng cháy chữa cháy rừng cho tổ đội")
    add("short_body", a.path, "body shorter than its Content-Length, then the connection closes", "error",
        ["truncated"], owner="D", answer=short_body(article_html(a).encode()))
    a = _a(920012, "ho-tro-sinh-ke-dong-bao-dan-toc", "Hỗ trợ sinh kế cho đồng bào dân tộc thiểu số")
    add("reset_mid_body", a.path, "connection reset half-way through the body", "error",
        ["connection_reset"], owner="D", answer=reset_mid_body(article_html(a).encode()))
    add("reset_before_answer", "/ket-noi-bi-ngat-post920013.html", "connection reset before any answer", "error",
        ["connection_reset"], owner="D", answer=reset_at_once)

    # --- pages that are not articles, with status 200
    add("interstitial_just_a_moment", "/bai-bi-chan-post920014.html", "anti-bot interstitial \"Just a moment…\" (200)",
        "error", ["interstitial"], owner="B", answer=page(simple_page(
            "Just a moment...",
            '<div class="main-wrapper"><h1>baogialai.com.vn</h1><h2>Checking if the site connection is secure</h2>'
            "<p>baogialai.com.vn needs to review the security of your connection before proceeding.</p>"
            '<noscript>Enable JavaScript and cookies to continue</noscript></div>',
            head='<script src="/cdn-cgi/challenge-platform/h/b/orchestrate/chl_page/v1"></script>\n')))
    add("interstitial_captcha", "/xac-minh-robot-post920015.html", "captcha page in Vietnamese (200)", "error",
        ["interstitial"], owner="B", answer=page(simple_page(
            "Xác minh truy cập",
            '<div class="captcha"><h1>Vui lòng xác minh bạn không phải là robot</h1>'
            '<p>Hệ thống phát hiện lưu lượng truy cập bất thường từ mạng của bạn. Vui lòng nhập mã captcha để tiếp tục.</p>'
            '<form action="/captcha" method="post"><img src="/captcha.png" alt="captcha"><input name="captcha">'
            '<button>Xác nhận</button></form><div class="g-recaptcha" data-sitekey="sample"></div></div>')))
    add("js_challenge", "/kiem-tra-trinh-duyet-post920016.html", "JavaScript challenge with an empty body (200)",
        "error", ["interstitial"], owner="B", answer=page(simple_page(
            "Đang kiểm tra trình duyệt",
            "<noscript><p>Vui lòng bật JavaScript để tiếp tục.</p></noscript>"
            "<script>document.cookie='js_challenge=1';location.reload();</script>")))
    add("soft_404", "/bai-da-go-post920017.html", "\"not found\" page with status 200", "error",
        ["soft_404"], owner="B", answer=page(simple_page(
            "404 - Không tìm thấy trang | Báo Gia Lai điện tử",
            '<main class="main"><div class="page-404"><h1 class="article__title">Không tìm thấy trang</h1>'
            "<p>Bài viết không tồn tại hoặc đã bị xóa. Mời bạn đọc quay lại trang chủ hoặc đọc các tin mới nhất.</p>"
            '<ul><li><a href="/">Trang chủ</a></li></ul></div></main>')))
    p = _a(920018, "bai-dang-cap-nhat", "Bài viết đang được cập nhật",
           paragraphs=("Nội dung đang được cập nhật.",), lead="Nội dung đang được cập nhật")
    add("placeholder", p.path, "placeholder in the article template (\"đang được cập nhật\", 200)", "error",
        ["soft_404", "parse_failed"], owner="B", answer=page(article_html(p)))
    login = _a(920019, "phong-su-dac-biet-ve-rung-khop", "Phóng sự đặc biệt về rừng khộp mùa thay lá",
               paragraphs=("Nội dung dành cho thành viên. Vui lòng đăng nhập để đọc tiếp bài viết.",))
    add("login_wall", login.path, "login wall: title and lead, body only \"đăng nhập để đọc tiếp\"", "error",
        ["interstitial", "soft_404", "parse_failed"], owner="B", answer=page(article_html(
            login, extra_body='<form class="login" action="/dang-nhap"><input name="user"><input type="password" '
                              'name="pass"><button>Đăng nhập</button></form>')))
    add("navigation_only", "/chuyen-muc-trong-post920020.html", "page whose body is only navigation and footer",
        "error", ["parse_failed", "soft_404"], owner="B", answer=page(simple_page(
            "Báo Gia Lai điện tử",
            '<header class="header"><nav class="menu"><ul>' + "".join(
                f'<li><a href="/{s}/">{t}</a></li>' for s, t in [
                    ("thoi-su-su-kien", "Thời sự - Sự kiện"), ("kinh-te", "Kinh tế"), ("net-zero", "Net Zero"),
                    ("xa-hoi", "Xã hội"), ("media", "Media"), ("van-hoa", "Văn hóa"), ("the-thao", "Thể thao"),
                    ("phap-luat", "Pháp luật"), ("giao-duc", "Giáo dục"), ("suc-khoe", "Sức khỏe")])
            + "</ul></nav></header>")))
    add("empty_200", "/trang-rong-post920021.html", "empty body with status 200", "error",
        ["parse_failed", "soft_404", "truncated"], owner="B", answer=raw(b""))
    add("meta_refresh_offsite", "/chuyen-sang-trang-khac-post920022.html",
        "<meta http-equiv=refresh> to another site, nothing else on the page", "error", ["offsite_redirect"],
        owner="D", detail_has=("quangcao.example",),
        answer=page(simple_page("Đang chuyển trang", "<p>Đang chuyển trang…</p>",
                                head='<meta http-equiv="refresh" content="0;url=https://quangcao.example/khuyen-mai">\n')))

    # --- dates
    a = _a(920023, "hoi-nghi-tong-ket-cong-tac-dan-van", "Hội nghị tổng kết công tác dân vận", published=None)
    add("no_date_related_2019", a.path, "no date of its own; the related-news box has a 2019 date",
        "article+bad_date", ["bad_date"], a, owner="B",
        answer=page(article_html(a, related_date="Thứ Hai, 12/08/2019 09:00")))
    a = _a(920024, "le-phat-dong-trong-cay-nam-sau", "Lễ phát động trồng cây năm sau", published="2099-03-01T08:00:00+07:00")
    add("future_date", a.path, "publication date in 2099", "article+bad_date", ["bad_date"],
        sample_article(920024, a.slug, a.title, published=None), owner="B", answer=page(article_html(a)))
    a = _a(920025, "ngay-hoi-dai-doan-ket-toan-dan", "Ngày hội Đại đoàn kết toàn dân tộc ở khu dân cư", published=None)
    add("unparseable_date", a.path, "byline date 32/13/2025 25:61, no metadata date", "article+bad_date",
        ["bad_date"], a, owner="B", answer=page(article_html(a).replace(
            '<div class="article__author">', '<div class="article__meta"><time class="time">Thứ Hai, 32/13/2025 25:61'
                                             '</time></div>\n<div class="article__author">', 1)))
    a = _a(920026, "khanh-thanh-nha-van-hoa-lang", "Khánh thành nhà văn hóa làng", published="2026-11-12T07:45:00+07:00")
    add("date_only_in_byline", a.path, "date only in the byline (no metadata)", "article", [], a, owner="B",
        answer=page(article_html(a, meta_date=False)))

    # --- titles
    a = _a(920027, "bai-khong-tieu-de", "Hội nghị triển khai nhiệm vụ năm 2027")  # the title is never shown
    add("no_title", a.path, "no h1, <title> or og:title (the lead would become the title)", "error",
        ["no_title"], owner="B", answer=page(article_html(a, h1=None, head_title=None, og_title=None)))
    a = _a(920028, "bai-tieu-de-la-ten-bao", "Trung tâm y tế tổ chức khám bệnh miễn phí")
    add("site_name_as_title", a.path, "no h1; <title> and og:title are the site's name", "error",
        ["no_title"], owner="B", answer=page(article_html(a, h1=None, head_title=SITE_NAME, og_title="Báo Gia Lai")))
    a = _a(920029, "ho-tro-nong-dan-chuyen-doi-cay-trong", "Hỗ trợ nông dân chuyển đổi cây trồng hiệu quả")
    add("empty_h1_og_title", a.path, "empty h1; the title only in og:title", "article", [], a, owner="B",
        answer=page(article_html(a).replace(
            f'<h1 class="article__title cms-title">{html.escape(a.title)}</h1>', '<h1 class="article__title cms-title"></h1>')))
    a = _a(920030, "dien-dan-doanh-nghiep-tre", "Diễn đàn doanh nghiệp trẻ: khởi nghiệp từ nông sản & dược liệu")
    add("entities_in_title", a.path, "title and text with HTML entities (&amp; &#7889; &nbsp;)", "article", [], a,
        owner="B", answer=page(article_html(a).replace("nông sản &amp; dược", "n&#244;ng s&#7843;n &amp; d&#432;&#7907;c")))

    # --- one article, many URLs
    dup = _a(920031, "khanh-thanh-cau-treo-qua-suoi", "Khánh thành cầu treo qua suối cho người dân làng xa")
    dup_other = f"/cau-treo-moi-cho-lang-xa-post{dup.id}.html"
    add("duplicate_two_slugs", dup.path, f"one article under two slugs ({dup_other}), no canonical link", "alias",
        [], dup, owner="C", answer=page(article_html(dup, canonical=None)))
    add("duplicate_two_slugs_other", dup_other, "the same article's second slug", "alias", [], dup, owner="C",
        answer=page(article_html(dup, canonical=None)))
    a = _a(920032, "trien-khai-tiem-vac-xin-cho-tre", "Triển khai tiêm vắc xin cho trẻ ở vùng khó khăn")
    add("canonical_to_other_article", a.path,
        f"canonical link to an article stored on an earlier night ({CANONICAL_VICTIM.path})",
        "article+canonical_conflict", ["canonical_conflict"], a, owner="C",
        answer=page(article_html(a, canonical=CANONICAL_VICTIM.url)))
    a = _a(920033, "thi-truong-cuoi-nam-soi-dong", "Thị trường cuối năm sôi động")
    add("canonical_offsite", a.path, "canonical link to another site (an aggregator's copy)", "article", [], a,
        owner="B", answer=page(article_html(a, canonical="https://tintuc-tonghop.example/thi-truong-cuoi-nam.html")))
    a = _a(920034, "chuong-trinh-muc-tieu-quoc-gia-2026", "Chương trình mục tiêu quốc gia năm 2026 về đích sớm")
    add("query_variants", a.path, "linked as ?utm_source=…, ?fbclid=…, #binh-luan and plain", "article", [], a,
        owner="D", answer=page(article_html(a)))
    add("redirect_to_article", "/duong-dan-cu-post920035.html", f"301 to another stored article ({REDIRECT_TARGET.path})",
        "redirected", [], REDIRECT_TARGET, owner="C", answer=redirect(REDIRECT_TARGET.url))

    # --- Vietnamese text that broke normalisation
    a = _a(920036, "gia-lua-tang-mua-nay", "Giá luá tăng, muá vụ chuá từng có",
           paragraphs=("Giá luá tăng mạnh trong muá vụ năm nay, điều chuá từng có ở vùng này.",
                       "Nhiều hộ thuà ruộng đã quay lại canh tác; ông Hoý ở làng bên cho biết nông dân phấn khởi.",
                       "Ngành nông nghiệp khuyến cáo người dân giữ giống tốt cho vụ sau (bài mẫu có lỗi chính tả)."))
    add("misspellings_in_text", a.path, "text with \"Giá luá tăng\", \"muá\", \"chuá\", \"thuà\", \"Hoý\"", "article",
        [], a, owner="Lead", answer=page(article_html(a)))

    # --- JSON-LD
    a = _a(920037, "xay-dung-nong-thon-moi-kieu-mau", "Xây dựng nông thôn mới kiểu mẫu ở vùng biên")
    ld = json.dumps({"@context": "https://schema.org", "@type": "NewsArticle", "headline": [a.title],
                     "datePublished": [a.published], "author": [{"@type": "Person", "name": [a.author]}],
                     "articleSection": [["Thời sự"]], "keywords": [["nông thôn mới"]]}, ensure_ascii=False)
    add("jsonld_values_as_lists", a.path, "JSON-LD headline, date and author given as lists; no h1", "article", [], a,
        owner="B", answer=page(article_html(a, h1=None, og_title=None, jsonld=ld)))
    a = _a(920038, "phong-chong-dich-benh-gia-suc", "Phòng chống dịch bệnh gia súc trong mùa lạnh")
    add("jsonld_malformed", a.path, "JSON-LD that is not JSON (a trailing comma, a comment)", "article", [], a,
        owner="B", answer=page(article_html(a, jsonld='{"@type": "NewsArticle", "headline": "x", /* cms */ }')))

    # --- HTTP statuses
    for code, id_ in ((500, 920039), (503, 920040), (404, 920041), (410, 920042)):
        add(f"http_{code}", f"/loi-http-{code}-post{id_}.html", f"HTTP {code}", "error", HTTP, owner="D",
            answer=page(simple_page(f"{code}", f"<h1>Lỗi {code}</h1>"), status=code), detail_has=(str(code),))
    a = _a(920043, "dieu-chinh-gio-lam-viec-mua-dong", "Điều chỉnh giờ làm việc mùa đông tại công sở")
    # The crawler scales a site's Retry-After like its own delays (crawlers/politeness.py): at
    # the test's politeness scale the wait is short, and still measurable.
    add("http_429_retry_after", a.path, f"429 with Retry-After: {RETRY_AFTER} (under the ceiling), then the page",
        "article+waited", [], a, owner="D", answer=retry_after(RETRY_AFTER, page(article_html(a))))
    add("http_429_retry_after_long", "/qua-nhieu-yeu-cau-post920044.html", "429 with Retry-After: 3600 (over the ceiling)",
        "error", HTTP, owner="D", answer=retry_after(3600, None), detail_has=("3600",))

    # --- redirects and waiting
    add("redirect_offsite", "/quang-cao-post920045.html", "301 to another site", "error", ["offsite_redirect"], owner="D",
        answer=redirect("https://quangcao.example/khuyen-mai"), detail_has=("quangcao.example",))
    add("redirect_loop", "/vong-lap-post920046.html", "302 to a page that redirects back", "error",
        ["redirect_loop"], owner="D", answer=redirect_loop)
    add("redirect_chain_too_long", "/chuyen-huong-dai-post920047.html", "a chain of 302s, each to a new URL",
        "error", ["redirect_loop", "too_many_redirects"], owner="D", answer=redirect_chain)
    add("hung_1", "/may-chu-treo-post920048.html", "accepts the request and never answers", "error", ["timeout"],
        owner="D", answer=hang)
    add("hung_2", "/may-chu-treo-nua-post920049.html", "a second URL that never answers", "error", ["timeout"],
        owner="D", answer=hang)

    # --- size
    add("oversize_body", "/trang-qua-lon-post920050.html", f"{_size(oversize_bytes)} page with Content-Length",
        "error", ["too_large"], owner="D", answer=lambda h, f: _oversize(h, oversize_bytes))
    add("oversize_unsized", "/trang-khong-do-dai-post920051.html",
        f"{_size(oversize_bytes)} page with no Content-Length", "error", ["too_large"], owner="D",
        answer=stream_unsized(oversize_bytes))
    bomb, inflated = html_bomb(body_bomb)
    add("gzip_body_bomb", "/trang-nen-post920052.html",
        f"Content-Encoding: gzip, {_size(len(bomb))} inflating to {_size(inflated)}", "error", ["too_large"],
        owner="D", answer=raw(bomb, headers={"Content-Encoding": "gzip"}))
    a = _a(920053, "bao-cao-chuyen-de-giam-ngheo-ben-vung", "Báo cáo chuyên đề giảm nghèo bền vững giai đoạn 2021-2025",
           paragraphs=tuple(f"Đoạn {n + 1}: {SENTENCES[n % len(SENTENCES)]}" for n in range(600)))
    add("very_long_page", a.path, "a long article (600 paragraphs, about 90 KiB of text)", "article", [], a,
        owner="B", answer=page(article_html(a)))

    # --- not HTML
    add("not_html_pdf", "/tai-lieu-post920054.html", "a PDF at an article URL", "error", ["not_html"], owner="D",
        answer=raw(b"%PDF-1.4\n% pressmon sample, not a real document\n%%EOF\n", ctype="application/pdf"))
    add("not_html_json", "/du-lieu-json-post920055.html", "JSON at an article URL", "error", ["not_html"], owner="D",
        answer=raw(b'{"error": "sample"}', ctype="application/json"))
    a = _a(920056, "tuyen-dung-giao-vien-hop-dong", "Tuyển dụng giáo viên hợp đồng cho năm học mới")
    add("no_content_type", a.path, "an article with no Content-Type header", "article", [], a, owner="D",
        answer=page(article_html(a), ctype=None))
    a = _a(920057, "sua-chua-truong-hoc-sau-bao", "Sửa chữa trường học sau bão")
    add("xhtml_content_type", a.path, "an article served as application/xhtml+xml", "article", [], a, owner="D",
        answer=page(article_html(a), ctype="application/xhtml+xml; charset=utf-8"))

    a = _a(920059, "bai-noi-bo-khong-cong-khai", "Bài nội bộ: robots.txt không cho phép thu thập")
    add("robots_disallowed", a.path, "a readable article that robots.txt disallows", "error", ["robots"], owner="D",
        via="robots", answer=page(article_html(a)))
    a = _a(920060, "bai-tra-ve-404-kem-noi-dung", "Bài viết trả về mã 404 nhưng vẫn có nội dung")
    add("http_404_with_article", a.path, "a full article page answered with status 404", "error", HTTP, owner="D",
        answer=page(article_html(a), status=404), detail_has=("404",))
    a = _a(920061, "trang-html-kieu-van-ban", "Trang HTML khai báo là văn bản thuần")
    add("html_as_text_plain", a.path, "an article page served as text/plain", "error", ["not_html"], owner="D",
        answer=page(article_html(a), ctype="text/plain; charset=utf-8"))

    # --- discovery: feeds, sitemaps, traps
    add("feed_malformed_item", "/rss/net-zero-7.rss", "RSS feed of 8 items, the 2nd opens a CDATA section it never closes",
        "feed", ["parse_failed"], owner="D", via="none", answer=raw(_broken_feed(), ctype="application/rss+xml"))
    for n, size in enumerate(sitemap_bombs):
        bomb, inflated = sitemap_bomb(size)
        add("sitemap_gz_bomb" + (f"_{n + 1}" if n else ""), f"/sitemaps/news-2026-{10 - n}.xml.gz" if not n else
            f"/sitemaps/news-2025-{n}.xml.gz", f".xml.gz sitemap of {_size(len(bomb))} inflating to {_size(inflated)}",
            "error", ["too_large"], owner="D", via="sitemap", answer=raw(bomb, ctype="application/x-gzip"))
    add("sitemap_not_xml", "/sitemaps/news-2026-9.xml", "a child sitemap that answers an HTML page (200)", "error",
        ["parse_failed"], owner="D", via="sitemap",
        answer=page(simple_page("Báo Gia Lai điện tử", "<h1>Bảo trì hệ thống</h1>")))
    a = _a(920058, "sitemap-mot-muc-hong", "Tin từ sơ đồ trang có một mục hỏng")
    add("sitemap_malformed_item", "/sitemaps/news-2026-8.xml", "sitemap with one <url> without <loc> and one with garbage",
        "sitemap", ["parse_failed"], a, owner="D", via="sitemap", answer=raw(_broken_sitemap(a), ctype="application/xml"))
    F.append(Fault("sitemap_malformed_item_article", a.path, "the good entry of that sitemap", "article", (), a, "D",
                   "none", page(article_html(a))))
    add("trap_links", "/xa-hoi/", "1,000 article-shaped links on one listing page", "bounded", ["limit"], owner="D",
        via="none", answer=lambda h, f: _listing(h, "Xã hội", [(_trap_path(n), f"Tin bẫy số {n}") for n in range(1000)]),
        detail_has=("max_links_per_page",))
    add("endless_load_more", "/kinh-te/", "a \"xem thêm\" chain that never ends (2 new links a page)", "bounded",
        ["limit"], owner="D", via="none", answer=lambda h, f: _listing(h, "Kinh tế", _more_links(1)),
        detail_has=("max_listing_pages",))
    return F


def _size(n: int) -> str:
    return f"{n / MIB:.0f} MiB" if n >= MIB else f"{n / 1024:.0f} KiB"


def _oversize(h, size: int) -> None:
    h.send_response(200)
    h.send_header("Content-Type", "text/html; charset=utf-8")
    h.send_header("Content-Length", str(size))
    h.end_headers()
    chunk = b"<p>" + b"x" * 65530 + b"</p>"
    sent = 0
    while sent < size:
        part = chunk[: size - sent]
        h.wfile.write(part)
        sent += len(part)


def _trap_path(n: int) -> str:
    return f"/tin-bay-so-{n}-post{930000 + n}.html"


def _more_path(n: int) -> str:
    return f"/tin-xem-them-so-{n}-post{940000 + n}.html"


def _more_links(page_no: int) -> list[tuple[str, str]]:
    return [(_more_path(2 * page_no + k), f"Tin xem thêm số {2 * page_no + k}") for k in range(2)]


def trap_article(path: str) -> Article | None:
    """The small article behind a trap link or an endless load-more link."""
    for prefix, base, label in (("/tin-bay-so-", 930000, "Tin bẫy số"), ("/tin-xem-them-so-", 940000, "Tin xem thêm số")):
        if path.startswith(prefix) and path.endswith(".html"):
            n = path[len(prefix):].split("-post")[0]
            if n.isdigit() and path == f"{prefix}{n}-post{base + int(n)}.html":
                return sample_article(base + int(n), f"{prefix[1:-1]}-{n}", f"{label} {n} (trang mẫu)")
    return None


def _broken_feed() -> bytes:
    """8 items; the 2nd opens a CDATA section it never closes, so to an XML parser the rest of
    the feed is its text (the good items escape their descriptions: no "]]>" follows)."""
    items = []
    for i, a in enumerate(FEED_ONLY):
        if i == 1:
            items.append("<item><title>Tin hỏng</title><description><![CDATA[<p>Mô tả bị cắt giữa chừng"
                         f"</description><link>{SITE}/tin-hong-post915099.html</link></item>")
        items.append(_rss_item(a, cdata=False))
    return _rss("Net Zero", items).encode()


def _broken_sitemap(good: Article) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            "<url><lastmod>2026-08-20T08:00:00+07:00</lastmod></url>\n"
            "<url><loc>javascript:void(0)</loc></url>\n"
            f"<url><loc>{good.url}</loc><lastmod>2026-08-21T08:00:00+07:00</lastmod></url>\n"
            "</urlset>\n").encode()


def _rss_item(a: Article, cdata: bool = True) -> str:
    description = f"<![CDATA[(GLO)- {a.lead}]]>" if cdata else html.escape(f"(GLO)- {a.lead}")
    return (f"<item><title>{html.escape(a.title)}</title><link>{a.url}</link>"
            f'<guid isPermaLink="true">{a.url}</guid>'
            f"<description>{description}</description>"
            "<pubDate>Wed, 18 Nov 2026 09:30:00 +0700</pubDate></item>")


def _rss(title: str, items: list[str]) -> str:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0">\n<channel>\n'
            f"<title>Báo Gia Lai - {title}</title>\n<link>{SITE}/</link>\n<description>{SAMPLE_NOTE}</description>\n"
            + "\n".join(items) + "\n</channel>\n</rss>\n")


def _listing(h, title: str, links: list[tuple[str, str]], more: str | None = None) -> None:
    stories = "\n".join(
        f'<article class="story"><h3 class="story__title"><a href="{html.escape(href)}" title="{html.escape(t)}">'
        f"{html.escape(t)}</a></h3></article>" for href, t in links)
    button = f'<button class="btn-viewmore" data-url="{more}">Xem thêm</button>' if more else ""
    body = simple_page(f"{title} | {SITE_NAME}",
                       f'<main class="main category"><h1 class="category__title">{html.escape(title)}</h1>\n'
                       f'<div class="timeline">\n{stories}\n</div>\n{button}</main>')
    _send(h, 200, body.encode())


# -- judging a crawl -------------------------------------------------------------------

ARTICLE_PATH = re.compile(r"^/[a-z0-9-]+-post\d+\.html$")
MOJIBAKE = re.compile("\ufffd|Ã.|Æ°|á»|Ä‘|Ä\u0090|Ì\u0081|\x00")


def normalized(text):
    from pressmon.nlp.normalize import normalize_text

    return normalize_text(text)


def _query(db, sql: str, params=()) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def table_exists(db, name) -> bool:
    return bool(_query(db, "select 1 from sqlite_master where name = ?", [name]))


class Observed:
    """What the crawl left: articles, aliases and error rows by URL, and what the server saw."""

    def __init__(self, db, server):
        self.db = db
        self.articles = {r[0]: dict(zip(("url", "id", "title", "lead", "body", "published_at"), r))
                         for r in _query(db, "select url, id, title, lead, body, published_at from articles")}
        self.aliases = dict(_query(db, "select url, article_id from article_aliases")) if table_exists(
            db, "article_aliases") else {}
        self.errors: dict[str, list[tuple[str, str]]] = {}
        for url, kind, detail in _query(db, "select url, kind, detail from crawl_errors"):
            self.errors.setdefault(url, []).append((kind, detail or ""))
        self.log = [tuple(entry) for entry in server.log]
        self.fetched_paths = [target.split("?")[0].split("#")[0] for target, *_ in self.log]

    def hits(self, path: str) -> list[tuple[str, int, float, float]]:
        return [entry for entry in self.log if entry[0].split("?")[0] == path]


def article_problems(row: dict | None, a, *, date_expected: bool = True) -> list[str]:
    """What differs between a stored row and the article as served ([] when it is right)."""
    if row is None:
        return ["not stored"]
    problems = []
    if row["title"] != normalized(a.title):
        problems.append(f"title {row['title']!r}")
    if (row["lead"] or "") != normalized(a.lead):
        problems.append(f"lead {str(row['lead'])[:60]!r}")
    served = [normalized(p) for p in a.paragraphs]
    body = row["body"] or ""
    if body.split("\n\n") != served:
        got = body.split("\n\n")
        problems.append(f"body: {len(got)} of {len(served)} paragraphs"
                        + ("" if len(got) != len(served) else f", first differing {next((g for g, s in zip(got, served) if g != s), '')[:60]!r}"))
    if MOJIBAKE.search(f"{row['title']} {row['lead']} {body}"):
        problems.append("mojibake or NUL in the text")
    if date_expected:
        want = a.published[:16] if a.published else None
        got = (row["published_at"] or "")[:16] or None
        if got != want:
            problems.append(f"date {row['published_at']!r}, served {a.published!r}")
    return problems


def error_problems(obs: Observed, url: str, kinds: tuple[str, ...], detail_has: tuple[str, ...] = ()) -> tuple[list[str], str]:
    """([] when `url` has an error row of one of `kinds` with a detail a person understands, else
    what is wrong), and the rows seen."""
    rows = obs.errors.get(url, [])
    seen = "; ".join(f"{k}: {d[:90]}" for k, d in rows) or "no error row"
    fitting = [(k, d) for k, d in rows if k in kinds]
    if not fitting:
        return [f"no {'/'.join(kinds)} error row"], seen
    problems = []
    for kind, detail in fitting:
        if not detail.strip():
            problems.append(f"{kind} with an empty detail")
        if "127.0.0.1" in detail or "localhost" in detail:
            problems.append(f"{kind} detail shows the loopback address")
        if detail_has and not any(word in detail for word in detail_has):
            problems.append(f"{kind} detail does not say {' or '.join(detail_has)}")
    return problems, seen


def limits():
    from pressmon.crawlers.registry import load_registry

    limits = getattr(load_registry()["baogialai"], "limits", None)
    return {name: getattr(limits, name, None) for name in ("max_listing_pages", "max_links_per_page", "max_pages_per_night")}


def judge(fault, obs: Observed, site, scale: float) -> tuple[bool, str]:
    """(passed, what was observed) for one fault kind, after a crawl at politeness `scale`."""
    url = fault.url
    row = obs.articles.get(url)
    expect = fault.expect
    if expect == "error":
        problems, seen = error_problems(obs, fault.error_url or url, fault.errors, fault.detail_has)
        if row is not None:
            problems.insert(0, f"stored as an article ({row['title'][:40]!r})")
        if fault.via == "robots" and obs.hits(fault.path):
            problems.insert(0, "fetched although robots.txt disallows it")
        stray = [u for u, r in obs.articles.items() if fault.article and r["title"] == normalized(fault.article.title)]
        if stray:
            problems.insert(0, f"stored as an article under {stray[0]}")
        return not problems, "; ".join(problems) + (f" [{seen}]" if problems else f"error row: {seen}")
    if expect == "article":
        problems = article_problems(row, fault.article)
        if obs.errors.get(url):
            problems.append("error rows: " + "; ".join(f"{k}: {d[:60]}" for k, d in obs.errors[url]))
        if fault.name == "query_variants":
            copies = [u for u in obs.articles if u.split("?")[0].split("#")[0] == url and u != url]
            requests = len(obs.hits(fault.path))
            if copies:
                problems.append(f"also stored as {copies}")
            if requests > 1:
                problems.append(f"fetched {requests} times")
        if fault.name == "canonical_offsite":
            foreign = [u for u in obs.articles if "example" in u]
            if foreign:
                problems.append(f"stored under another site's URL {foreign[0]}")
        return not problems, "; ".join(problems) or "correct article"
    if expect == "article-or-error":
        if row is not None:
            problems = article_problems(row, fault.article)
            return not problems, "; ".join(problems) or "correct article (decoded from the bytes)"
        problems, seen = error_problems(obs, url, fault.errors)
        return not problems, ("; ".join(problems) + f" [{seen}]") if problems else f"error row: {seen}"
    if expect == "article+bad_date":
        problems = article_problems(row, fault.article, date_expected=False)
        if row is not None and row["published_at"]:
            problems.append(f"dated {row['published_at']} (served: "
                            f"{'none' if fault.name != 'future_date' else '2099, in the future'})")
        err, seen = error_problems(obs, url, ("bad_date",))
        problems += err
        return not problems, "; ".join(problems) or f"article without a date, {seen}"
    if expect == "article+waited":
        problems = article_problems(row, fault.article)
        hits = obs.hits(fault.path)
        if len(hits) < 2:
            problems.append(f"{len(hits)} request(s)")
        else:
            gap, wait = hits[1][2] - hits[0][3], RETRY_AFTER * scale
            if gap < wait - 0.1:
                problems.append(f"retried {gap:.2f} s after a 429 asking for {RETRY_AFTER} s ({wait:g} s at this scale)")
        return not problems, "; ".join(problems) or (
            f"article, retried {hits[1][2] - hits[0][3]:.1f} s after the 429 ({RETRY_AFTER} s × {scale:g})")
    if expect == "article+canonical_conflict":
        problems = article_problems(row, fault.article)
        err, seen = error_problems(obs, url, ("canonical_conflict",))
        problems += err
        victim = article_problems(obs.articles.get(CANONICAL_VICTIM.url), CANONICAL_VICTIM)
        if victim:
            problems.append(f"the other article ({CANONICAL_VICTIM.path}) overwritten: {', '.join(victim)}")
        if not err and not any(CANONICAL_VICTIM.url in d for k, d in obs.errors.get(url, []) if k == "canonical_conflict"):
            problems.append("detail does not name the other article's URL")
        return not problems, "; ".join(problems) or f"stored under its own URL, other article intact, {seen[:80]}"
    if expect == "alias":
        if fault.name.endswith("_other"):
            return True, "(checked with duplicate_two_slugs)"
        other = next(f for f in site.faults if f.name == fault.name + "_other").url
        rows = [u for u in (url, other) if u in obs.articles]
        problems = []
        if len(rows) != 1:
            problems.append(f"{len(rows)} article rows ({', '.join(rows) or 'none'})")
        else:
            problems += article_problems(obs.articles[rows[0]], fault.article)
            alias = other if rows[0] == url else url
            if obs.aliases.get(alias) != obs.articles[rows[0]]["id"]:
                problems.append(f"{alias} not recorded as an alias")
        return not problems, "; ".join(problems) or "stored once, the other URL an alias"
    if expect == "redirected":
        target = fault.article
        problems = article_problems(obs.articles.get(target.url), target)
        if row is not None:
            problems.append("also stored under the old URL")
        return not problems, "; ".join(problems) or "target article stored once, under its own URL"
    if expect == "feed":
        missing = [a.path for a in FEED_ONLY if article_problems(obs.articles.get(a.url), a)]
        problems = [f"{len(FEED_ONLY) - len(missing)} of {len(FEED_ONLY)} good items stored"] if missing else []
        err, seen = error_problems(obs, url, fault.errors)
        problems += err
        return not problems, "; ".join(problems) or f"7 of 7 good items stored, {seen[:80]}"
    if expect == "sitemap":
        problems = article_problems(obs.articles.get(fault.article.url), fault.article)
        problems = [f"good entry: {p}" for p in problems]
        err, seen = error_problems(obs, url, fault.errors)
        problems += err
        return not problems, "; ".join(problems) or f"good entry stored, {seen[:80]}"
    if expect == "bounded":
        lim = limits()
        if fault.name == "trap_links":
            fetched = len({p for p in obs.fetched_paths if p.startswith("/tin-bay-so-")})
            cap = lim["max_links_per_page"]
            what = f"{fetched} of 1000 trap links fetched"
        else:
            fetched = len({p for p in obs.fetched_paths if p.startswith("/kinh-te/xem-them/")})
            cap = lim["max_listing_pages"]
            what = f"{fetched} load-more pages fetched"
        problems = []
        if cap is None:
            problems.append(f"the registry has no {fault.detail_has[0]}")
        elif fetched > cap:
            problems.append(f"{what}, over the limit {cap}")
        limit_rows = [d for u, rows in obs.errors.items() for k, d in rows if k == "limit"]
        if not [d for d in limit_rows if fault.detail_has[0] in d]:
            problems.append(f"no limit error row naming {fault.detail_has[0]}")
        return not problems, f"{what}" + (f" (limit {cap})" if cap else "") + ("; " + "; ".join(problems) if problems else "")
    raise AssertionError(f"unknown expectation {expect}")


def wrong_articles(obs: Observed, site) -> list[str]:
    """Stored rows that are not a page's article as served: "url: what is wrong"."""
    expected = site.expected_articles()
    dup = next(f for f in site.faults if f.expect == "alias")
    dup_urls = {dup.url, next(f.url for f in site.faults if f.name == dup.name + "_other")}
    wrong = []
    for url, row in obs.articles.items():
        served = expected.get(url) or trap_article(url.removeprefix(SITE)) or (dup.article if url in dup_urls else None)
        if served is None:
            wrong.append(f"{url}: {row['title'][:50]!r} (this page serves no article)")
            continue
        problems = article_problems(row, served, date_expected=bool(served.published))
        if problems:
            wrong.append(f"{url}: {', '.join(problems)}")
    return wrong


def untraced_pages(obs: Observed, site) -> list[str]:
    """Article-shaped pages the server answered with neither an article, an alias nor an
    error row (a redirect's source counts by its target), and faulty feeds or sitemaps
    fetched without an error row."""
    redirects = {f.path: f.article.url for f in site.faults if f.expect == "redirected"}
    untraced = []
    for path in dict.fromkeys(obs.fetched_paths):
        url = SITE + path
        if not ARTICLE_PATH.match(path) or url in obs.articles or url in obs.aliases or url in obs.errors:
            continue
        if path in redirects and redirects[path] in obs.articles:
            continue
        untraced.append(url)
    for fault in site.faults:
        if (fault.via == "sitemap" or fault.expect == "feed") and obs.hits(fault.path) and fault.url not in obs.errors:
            untraced.append(fault.url)
    return untraced


def stall_seconds(log, hung) -> float:
    """The longest time, while a hung request was open, in which no other page was answered."""
    answered = sorted(e[3] for e in log if e not in hung and e[3] is not None)
    longest = 0.0
    for _, _, opened, closed in hung:
        closed = closed if closed is not None else max(answered, default=opened)
        marks = [opened, *(t for t in answered if opened < t < closed), closed]
        longest = max(longest, *(b - a for a, b in pairwise(marks)))
    return longest


def render(rows, seconds: float, max_rss_kib: int, notes: str = "") -> str:
    lines = ["| # | fault kind | what the server does | expected | observed | owner | pass |",
             "|---|---|---|---|---|---|---|"]
    for n, (fault, ok, observed) in enumerate(rows, 1):
        expected = {"error": f"error row {'/'.join(fault.errors)}",
                    "article-or-error": f"correct article or error row {'/'.join(fault.errors)}",
                    "article+bad_date": "article without a date + bad_date row",
                    "article+waited": "article, retried after Retry-After",
                    "article+canonical_conflict": "article under its own URL + canonical_conflict row",
                    "alias": "stored once, other URL an alias", "redirected": "target article stored once",
                    "feed": "7 good items stored + parse_failed row", "sitemap": "good entry stored + parse_failed row",
                    "bounded": f"fetches ≤ registry limit + limit row ({fault.detail_has[0] if fault.detail_has else ''})",
                    }.get(fault.expect, "correct article")
        cell = observed.replace("|", "\\|").replace("\n", " ")
        lines.append(f"| {n} | {fault.name} | {fault.what.replace('|', '/')} | {expected} | {cell} | {fault.owner} | "
                     f"{'pass' if ok else 'FAIL'} |")
    passed = sum(ok for _, ok, _ in rows)
    lines.append("")
    lines.append(f"{passed} of {len(rows)} rows pass; crawl {seconds:.1f} s; peak RSS of the crawl process "
                 f"{max_rss_kib / 1024:.0f} MiB{notes}")
    return "\n".join(lines)



# -- the server --------------------------------------------------------------------------


class HostileSite:
    """The site: which page answers each path, and what each fault expects."""

    def __init__(self, **sizes):
        self.faults = build_faults(**sizes)
        self.by_path = {f.path: f for f in self.faults}
        self.good = list(GOOD)
        self.feed_only = list(FEED_ONLY)
        linked = [f for f in self.faults if f.via in ("listing", "robots")]
        # Listed on the home page and the first section; a few also in the home feed and the
        # sitemap, as real sites list one article in several places.
        self.listing_faults = linked
        self.sitemap_articles = [*self.good, *(f for f in linked[:6])]
        # an earlier night, when only the good articles were published
        self.first_night = False

    def query_variant_links(self) -> list[str]:
        base = self.by_path["/chuong-trinh-muc-tieu-quoc-gia-2026-post920034.html"].path
        return [f"{base}?utm_source=zalo&utm_medium=social", f"{base}?fbclid=IwAR0sample", f"{base}#binh-luan",
                f"{base}?utm_campaign=tin-noi-bat"]

    def answer(self, h, path: str, query: str) -> None:
        if self.first_night:
            self.answer_first_night(h, path)
            return
        fault = self.by_path.get(path)
        if fault is not None and fault.answer is not None:
            fault.answer(h, fault)
            return
        if path.endswith("-b.html") and path.replace("-b.html", ".html") in self.by_path:
            redirect_loop(h, self.by_path[path.replace("-b.html", ".html")])
            return
        for a in (*self.good, *self.feed_only):
            if path == a.path:
                _send(h, 200, article_html(a).encode())
                return
        trap = trap_article(path)
        if trap is not None:
            _send(h, 200, article_html(trap).encode())
            return
        if path == "/robots.txt":
            _send(h, 200, ROBOTS_TXT.encode(),
                  "text/plain; charset=utf-8")
        elif path == "/rss/home.rss":
            items = [_rss_item(a) for a in self.good] + [
                _rss_item(f.article) for f in self.listing_faults[:4] if f.article]
            _send(h, 200, _rss("Trang chủ", items).encode(), "application/rss+xml")
        elif path == "/sitemap.xml":
            children = ["/sitemaps/news-2026-11.xml"] + [f.path for f in self.faults if f.via == "sitemap"]
            body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
                    '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
                    + "".join(f"<sitemap><loc>{SITE}{c}</loc><lastmod>2026-11-20T10:40:00+07:00</lastmod></sitemap>\n"
                              for c in children) + "</sitemapindex>\n")
            _send(h, 200, body.encode(), "application/xml")
        elif path == "/sitemaps/news-2026-11.xml":
            body = ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
                    + "".join(f"<url><loc>{u}</loc><lastmod>2026-11-18T09:30:00+07:00</lastmod></url>\n"
                              for u in [a.url for a in self.good] + [f.url for f in self.sitemap_articles[len(self.good):]])
                    + "</urlset>\n")
            _send(h, 200, body.encode(), "application/xml")
        elif path in ("/", "/thoi-su-su-kien/"):
            links = [(a.path, a.title) for a in self.good]
            if path == "/thoi-su-su-kien/":
                links += [(f.path, f.article.title if f.article and f.article.title else f.name) for f in self.listing_faults]
                links += [(u, "Chương trình mục tiêu quốc gia") for u in self.query_variant_links()]
            _listing(h, "Trang chủ" if path == "/" else "Thời sự - Sự kiện", links,
                     None if path == "/" else f"{path}xem-them/trang-2.html")
        elif path in ("/net-zero/", "/media/"):
            _listing(h, path.strip("/"), [(a.path, a.title) for a in self.good[:3]], f"{path}xem-them/trang-2.html")
        elif path.startswith("/kinh-te/xem-them/trang-"):
            n = path.rsplit("-", 1)[1].removesuffix(".html")
            page_no = int(n) if n.isdigit() else 1
            _listing(h, "Kinh tế", _more_links(page_no), f"/kinh-te/xem-them/trang-{page_no + 1}.html")
        elif "/xem-them/trang-" in path:
            _send(h, 200, b'<div class="load-more-empty"></div>')
        else:
            _send(h, 404, simple_page("404 - Không tìm thấy trang", "<h1>404</h1>").encode())

    def answer_first_night(self, h, path: str) -> None:
        """The site on an earlier night: the good articles only, in its feeds, sitemap and
        listings (so that they are known articles when the faults appear)."""
        good = {a.path: a for a in self.good}
        if path in good:
            _send(h, 200, article_html(good[path]).encode())
        elif path == "/robots.txt":
            _send(h, 200, ROBOTS_TXT.encode(),
                  "text/plain; charset=utf-8")
        elif path in ("/rss/home.rss", "/rss/net-zero-7.rss"):
            items = [_rss_item(a) for a in (self.good[:3] if "home" in path else self.good[3:])]
            _send(h, 200, _rss("Trang chủ", items).encode(), "application/rss+xml")
        elif path in ("/sitemap.xml", "/sitemaps/news-2026-11.xml"):
            body = ('<?xml version="1.0" encoding="UTF-8"?>\n<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
                    + "".join(f"<url><loc>{a.url}</loc><lastmod>2026-11-18T09:30:00+07:00</lastmod></url>\n"
                              for a in self.good) + "</urlset>\n")
            _send(h, 200, body.encode(), "application/xml")
        elif path == "/" or (path.endswith("/") and path.count("/") == 2):
            _listing(h, "Trang chủ", [(a.path, a.title) for a in self.good],
                     None if path == "/" else f"{path}xem-them/trang-2.html")
        elif "/xem-them/trang-" in path:
            _send(h, 200, b'<div class="load-more-empty"></div>')
        else:
            _send(h, 404, simple_page("404 - Không tìm thấy trang", "<h1>404</h1>").encode())

    # what a correct crawl stores
    def expected_articles(self) -> dict[str, Article]:
        """URL → article, for every page that must be stored as served."""
        out = {a.url: a for a in (*self.good, *self.feed_only)}
        for f in self.faults:
            if f.article and f.expect in ("article", "article-or-error", "article+bad_date", "article+waited",
                                          "article+canonical_conflict"):
                out[f.url] = f.article
        return out


class HostileServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address, site: HostileSite, hang_seconds: float):
        self.site = site
        self.hang_seconds = hang_seconds
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        self.hits: dict[str, int] = {}
        self.log: list[list] = []  # [target, status, started, finished or None], in order of arrival
        self.bytes_sent = 0
        super().__init__(address, _Handler)

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def shutdown(self):
        self.stopping.set()
        super().shutdown()


class _Handler(BaseHTTPRequestHandler):
    server: HostileServer
    protocol_version = "HTTP/1.1"
    server_version = "hostile-sample/1.0"
    sys_version = ""

    def log_message(self, format, *args):
        pass

    def send_response(self, code, message=None):
        self._status = code
        super().send_response(code, message)

    def do_GET(self):
        self._status = 0
        # logged when asked, completed when answered: a hung request shows while it hangs
        entry = [self.path, 0, time.monotonic(), None]
        with self.server.lock:
            self.server.log.append(entry)
        target = urlsplit(self.path)
        path = target.path or "/"
        try:
            host = (self.headers.get("Host") or "").split(":")[0].lower()
            if host.removeprefix("www.") != HOST:
                _send(self, 404, b"unknown host", "text/plain")
            else:
                self.server.site.answer(self, path, target.query)
        except (BrokenPipeError, ConnectionResetError, OSError, ValueError):
            self.close_connection = True
        finally:
            entry[1], entry[3] = self._status, time.monotonic()

    do_HEAD = do_GET

    def finish(self):
        try:
            super().finish()
        except (OSError, ValueError):
            pass


def serve_hostile(port: int = 0, *, hang_seconds: float = 60.0, **sizes) -> tuple[HostileServer, str]:
    """Serve the hostile site on 127.0.0.1:`port` from a daemon thread: (server, base_url)."""
    server = HostileServer(("127.0.0.1", port), HostileSite(**sizes), hang_seconds)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name="hostile-site", daemon=True)
    thread.start()
    return server, server.base_url


if __name__ == "__main__":  # a look by hand: python tests/hostile_site.py
    srv, url = serve_hostile(8766)
    print(f"hostile baogialai.com.vn on {url} ({len(srv.site.faults)} fault pages); "
          f"curl -H 'Host: {HOST}' {url}/thoi-su-su-kien/", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        srv.shutdown()
