"""Loopback HTTP server for the offline site mirror (`crawlers/mirror/sites/<host>/…`).

    python -m pressmon.crawlers.mirror.server --port 8765      # foreground, Ctrl-C stops it

    from pressmon.crawlers.mirror.server import serve_mirror
    server, base_url = serve_mirror()                  # a free port, daemon thread
    ...
    server.shutdown()

How a request is answered, in order:

1. The site is chosen by the `Host` header (port stripped, a leading ``www.`` dropped when
   the tree has no such directory). An absolute-form request target (``GET https://h/p``)
   names the host too. Unknown host: 404.
2. The fault table `FAULT_ROUTES` (keyed by host and path, the query ignored): HTTP 500, a
   redirect loop, a 6 MiB page generated on the fly, a PDF, a slow page (``slow_seconds``,
   default 3, then a page without an article). Redirects carry absolute
   ``https://<host>/…`` Locations, the form the real site would write. The broken-layout
   page of the table is an ordinary file of the tree.
3. Static files. Path segments starting with ``.`` or ``__`` are never served directly (they
   hold the mirror's own files: ``__404.html`` and listing pages ``__page-N.html``).
   - ``/dir/`` and ``/dir`` (when ``dir`` is a directory) serve ``dir/index.html``
     (or ``index.rss`` / ``index.xml``: WordPress' ``/feed/``). No redirect is made for a
     missing trailing slash: the government portal lists sections without one.
   - The query string ``page=N`` (N ≥ 2) on a directory URL serves ``dir/__page-N.html``
     (``/tin-tuc/moi-truong?page=2`` → ``tin-tuc/moi-truong/__page-2.html``); ``page=1``
     is the directory's index; a page that does not exist is a 404. Every other query
     parameter (``utm_source``, ``?p=123`` …) is ignored, as a static site would.
   - Unknown paths: 404 with the site's ``__404.html``.
4. ``Content-Type`` by extension (``.html`` text/html; charset=utf-8, ``.xml``
   application/xml, ``.rss`` application/rss+xml, ``.gz`` application/x-gzip with the raw
   gzip bytes and no Content-Encoding). ``ETag`` (a hash of the bytes) and ``Last-Modified``
   (the file's mtime) on every file; ``If-None-Match`` (preferred) or ``If-Modified-Since``
   that still matches gets a 304.

`server.requests` records ``(host, method, target, status)`` for every answered request
(the newest 10,000), so tests can see what a crawler really asked for. Nothing is logged.
"""

from __future__ import annotations

import argparse
import hashlib
import threading
import time
from collections import deque
from email.utils import formatdate, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

SITES_DIR = Path(__file__).resolve().parent / "sites"

# (host, path) -> (kind, title shown in the link on the home page)
# kind: "http_500", "redirect_loop", "too_large", "not_html", "slow" are answered here;
# "static" is an ordinary file of the tree (a 200 page with a broken layout).
FAULT_ROUTES: dict[tuple[str, str], tuple[str, str]] = {
    ("baogialai.com.vn", "/loi-may-chu-post999001.html"): (
        "http_500", "Trang mẫu: máy chủ trả lỗi 500"),
    ("baogialai.com.vn", "/vong-lap-post999002.html"): (
        "redirect_loop", "Trang mẫu: chuyển hướng vòng lặp"),
    ("baogialai.com.vn", "/trang-qua-lon-post999003.html"): (
        "too_large", "Trang mẫu: nội dung quá lớn"),
    ("baogialai.com.vn", "/tai-lieu-post999004.html"): (
        "not_html", "Trang mẫu: tài liệu PDF thay vì trang HTML"),
    ("baogialai.com.vn", "/trang-hong-post999005.html"): (
        "static", "Trang mẫu: bố cục bị hỏng"),
    ("baogialai.com.vn", "/trang-cham-post999006.html"): (
        "slow", "Trang mẫu: máy chủ trả lời chậm"),
    # Disallowed in robots.txt; served as a readable article so that a crawler ignoring
    # robots.txt would store it and be caught.
    ("baogialai.com.vn", "/bai-noi-bo-post999007.html"): (
        "robots_disallowed", "Trang mẫu: robots.txt không cho phép thu thập"),
}
ROBOTS_DISALLOWED = [path for (host, path), (kind, _) in FAULT_ROUTES.items() if kind == "robots_disallowed"]


FAULT_DESCRIPTIONS = {
    "http_500": "answers HTTP 500", "redirect_loop": "redirects in a loop",
    "too_large": "is larger than the size cap", "not_html": "is a PDF, not a page",
    "static": "has a broken layout", "slow": "answers slowly, with no article",
    "robots_disallowed": "is disallowed by robots.txt",
}


def fault_pages() -> dict[str, str]:
    """URL → what is wrong with it, for every deliberate fault page: a crawl of the mirror
    records each as an error, and the demo reports those errors as expected."""
    return {f"https://{host}{path}": FAULT_DESCRIPTIONS[kind] for (host, path), (kind, _) in FAULT_ROUTES.items()}
# Fault routes that appear as links on the home page of their site: all of them.
LINKED_FAULTS = list(FAULT_ROUTES)

TOO_LARGE_BYTES = 6 * 1024 * 1024
SAMPLE_NOTE = "Nội dung mẫu do dự án pressmon soạn, không phải bài báo thật."

CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".htm": "text/html; charset=utf-8",
    ".xml": "application/xml",
    ".rss": "application/rss+xml",
    ".gz": "application/x-gzip",
    ".txt": "text/plain; charset=utf-8",
    ".json": "application/json",
    ".pdf": "application/pdf",
}
INDEX_NAMES = ("index.html", "index.rss", "index.xml")


def _minimal_pdf(text: str) -> bytes:
    """A small valid one-page PDF (xref offsets computed), built without any library."""
    stream = f"BT /F1 14 Tf 72 760 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
        b"/Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1, xref)
    return bytes(out)


PDF_BYTES = _minimal_pdf("pressmon sample document - not a real article")


def _simple_page(title: str, body_html: str) -> bytes:
    return (
        '<!DOCTYPE html>\n<html lang="vi">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{title}</title>\n</head>\n<body>\n{body_html}\n"
        f'<footer class="site-footer"><p class="sample-note">{SAMPLE_NOTE}</p></footer>\n'
        "</body>\n</html>\n"
    ).encode("utf-8")


def _slow_page() -> bytes:
    """What the slow route answers after its delay: a page with no article in it, so a
    crawl with a long timeout records a parse failure, never an article."""
    return _simple_page("Trang mẫu trả lời chậm",
                        '<div class="layout-error"><p>Máy chủ mẫu trả lời chậm.</p></div>')


class MirrorServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, root: Path, slow_seconds: float):
        self.root = Path(root)
        self.slow_seconds = slow_seconds
        self.requests: deque[tuple[str, str, str, int]] = deque(maxlen=10_000)
        self._etags: dict[tuple[str, int, int], str] = {}
        self._etag_lock = threading.Lock()
        super().__init__(address, _Handler)

    @property
    def base_url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def etag(self, path: Path, stat) -> str:
        key = (str(path), stat.st_mtime_ns, stat.st_size)
        with self._etag_lock:
            tag = self._etags.get(key)
        if tag is None:
            tag = '"' + hashlib.sha1(path.read_bytes()).hexdigest()[:20] + '"'
            with self._etag_lock:
                self._etags[key] = tag
        return tag


class _Handler(BaseHTTPRequestHandler):
    server: MirrorServer
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes: with Nagle's algorithm the body waited for the
    # client's delayed ACK (~40 ms a response), which made any crawl of the mirror slow.
    disable_nagle_algorithm = True
    server_version = "pressmon-mirror/1.0"
    sys_version = ""

    # -- plumbing ------------------------------------------------------------------------
    def log_message(self, format, *args):  # noqa: A002 - quiet: no stderr logging
        pass

    def log_request(self, code="-", size="-"):
        try:
            status = int(code)
        except (TypeError, ValueError):
            status = 0
        self.server.requests.append(
            (getattr(self, "_site_host", ""), self.command, self.path, status))

    def do_HEAD(self):
        self._answer(head=True)

    def do_GET(self):
        self._answer(head=False)

    def _send(self, status: int, body: bytes, content_type: str,
              extra: dict[str, str] | None = None, head: bool = False) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if not head:
            self.wfile.write(body)

    # -- routing -------------------------------------------------------------------------
    def _answer(self, head: bool) -> None:
        target = urlsplit(self.path)
        host = target.hostname if target.scheme else None
        if not host:
            host = self.headers.get("Host", "").strip().lower().rstrip(".")
            if host.startswith("["):
                host = host.split("]")[0] + "]"
            else:
                host = host.split(":")[0]
        site = self._site_dir(host)
        self._site_host = host
        try:
            path = unquote(target.path or "/")
            if site is None:
                self._not_found(None, head)
                return
            fault = FAULT_ROUTES.get((site.name, path))
            if fault and fault[0] != "static":
                self._fault(fault[0], site.name, path, target.query, head)
                return
            file = self._resolve(site, path, target.query)
            if file is None:
                self._not_found(site, head)
                return
            self._serve_file(file, head)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True

    def _site_dir(self, host: str) -> Path | None:
        if not host or "/" in host or host.startswith("."):
            return None
        for name in (host, host[4:] if host.startswith("www.") else None):
            if name and (self.server.root / name).is_dir():
                return self.server.root / name
        return None

    @staticmethod
    def _resolve(site: Path, path: str, query: str) -> Path | None:
        segments = [s for s in path.split("/") if s]
        if any(s in (".", "..") or s.startswith((".", "__")) or "\\" in s or "\x00" in s
               for s in segments):
            return None
        target = site.joinpath(*segments) if segments else site
        if path.endswith("/") or target.is_dir():
            if not target.is_dir():
                return None
            page = parse_qs(query).get("page", [""])[0]
            if page.isdigit() and int(page) >= 2:
                candidate = target / f"__page-{int(page)}.html"
                return candidate if candidate.is_file() else None
            for name in INDEX_NAMES:
                if (target / name).is_file():
                    return target / name
            return None
        return target if target.is_file() else None

    def _serve_file(self, file: Path, head: bool) -> None:
        stat = file.stat()
        etag = self.server.etag(file, stat)
        last_modified = formatdate(int(stat.st_mtime), usegmt=True)
        validators = {"ETag": etag, "Last-Modified": last_modified}
        if self._not_modified(etag, int(stat.st_mtime)):
            self.send_response(304)
            for name, value in validators.items():
                self.send_header(name, value)
            self.end_headers()
            return
        content_type = CONTENT_TYPES.get(file.suffix.lower(), "application/octet-stream")
        self._send(200, file.read_bytes(), content_type, validators, head)

    def _not_modified(self, etag: str, mtime: int) -> bool:
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            tags = [t.strip() for t in inm.split(",")]
            return "*" in tags or any(t.removeprefix("W/") == etag for t in tags)
        ims = self.headers.get("If-Modified-Since")
        if ims:
            try:
                return mtime <= parsedate_to_datetime(ims).timestamp()
            except (TypeError, ValueError, IndexError, OverflowError):
                return False
        return False

    def _not_found(self, site: Path | None, head: bool) -> None:
        page = site / "__404.html" if site is not None else None
        if page is not None and page.is_file():
            body = page.read_bytes()
        else:
            body = _simple_page("404 - Không tìm thấy trang",
                                "<h1>404</h1><p>Không tìm thấy trang.</p>")
        self._send(404, body, "text/html; charset=utf-8", head=head)

    def _fault(self, kind: str, host: str, path: str, query: str, head: bool) -> None:
        html = "text/html; charset=utf-8"
        if kind == "http_500":
            body = _simple_page("500 - Lỗi máy chủ", "<h1>500</h1><p>Lỗi máy chủ nội bộ.</p>")
            self._send(500, body, html, head=head)
        elif kind == "redirect_loop":
            step = parse_qs(query).get("r", ["0"])[0]
            step = int(step) if step.isdigit() else 0
            location = f"https://{host}{path}?r={step + 1}"
            body = _simple_page("302", f'<p><a href="{location}">{location}</a></p>')
            self._send(302, body, html, {"Location": location}, head)
        elif kind == "too_large":
            self._too_large(head)
        elif kind == "not_html":
            self._send(200, PDF_BYTES, "application/pdf", head=head)
        elif kind == "slow":
            time.sleep(self.server.slow_seconds)
            self._send(200, _slow_page(), html, head=head)
        elif kind == "robots_disallowed":
            self._send(200, _disallowed_article(), html, head=head)
        else:  # pragma: no cover - table and code out of step
            self._send(500, b"unknown fault", "text/plain")

    def _too_large(self, head: bool) -> None:
        """A 6 MiB HTML page, generated in chunks, never stored."""
        opening = (
            '<!DOCTYPE html>\n<html lang="vi"><head><meta charset="utf-8">'
            "<title>Trang mẫu quá lớn</title></head><body>"
            '<h1 class="article__title cms-title">Trang mẫu quá lớn</h1>'
            '<div class="article__body zce-content-body cms-body">\n'
        ).encode("utf-8")
        closing = (
            f'</div><footer class="site-footer"><p class="sample-note">{SAMPLE_NOTE}</p>'
            "</footer></body></html>\n"
        ).encode("utf-8")
        filler = "<p>Đoạn văn mẫu lặp lại để trang vượt quá giới hạn kích thước.</p>\n".encode()
        middle = TOO_LARGE_BYTES - len(opening) - len(closing)
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(TOO_LARGE_BYTES))
        self.end_headers()
        if head:
            return
        self.wfile.write(opening)
        chunk = filler * (65536 // len(filler))
        sent = 0
        while sent < middle:
            part = chunk[: middle - sent]
            self.wfile.write(part)
            sent += len(part)
        self.wfile.write(closing)


def serve_mirror(root: str | Path | None = None, port: int = 0, *,
                 slow_seconds: float = 3.0) -> tuple[MirrorServer, str]:
    """Serve the mirror tree on 127.0.0.1:`port` (0: any free port) from a daemon thread.

    Returns ``(server, base_url)``; ``server.shutdown()`` stops it (then
    ``server.server_close()`` releases the port).
    """
    server = MirrorServer(("127.0.0.1", port), Path(root) if root else SITES_DIR, slow_seconds)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name="pressmon-mirror", daemon=True)
    thread.start()
    return server, server.base_url


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the pressmon offline site mirror.")
    parser.add_argument("--port", type=int, default=8765, help="port on 127.0.0.1 (default 8765)")
    parser.add_argument("--root", type=Path, default=SITES_DIR,
                        help="the sites/ tree (default: crawlers/mirror/sites)")
    parser.add_argument("--slow-seconds", type=float, default=3.0,
                        help="delay of the slow fault page (default 3)")
    args = parser.parse_args(argv)
    server = MirrorServer(("127.0.0.1", args.port), args.root, args.slow_seconds)
    hosts = sorted(p.name for p in args.root.iterdir() if p.is_dir())
    print(f"pressmon mirror on {server.base_url} for: {', '.join(hosts)}", flush=True)
    print(f"e.g. curl -H 'Host: {hosts[0] if hosts else 'baogialai.com.vn'}' {server.base_url}/",
          flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()


def _disallowed_article() -> bytes:
    paragraph = "<p>Đoạn văn mẫu của một trang mà robots.txt không cho phép thu thập; " \
                "trình thu thập tuân thủ robots.txt sẽ không bao giờ tải trang này.</p>"
    return _simple_page("Trang mẫu bị robots.txt chặn", (
        '<h1 class="article__title cms-title">Trang mẫu bị robots.txt chặn</h1>'
        '<div class="article__meta"><time class="time">Thứ Hai, 01/09/2025 08:00</time></div>'
        f'<div class="article__body zce-content-body cms-body">{paragraph * 3}</div>'))
