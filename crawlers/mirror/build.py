"""Generate the offline site mirror from the sample content.

    python -m pressmon.crawlers.mirror.build                       # content/*.jsonl (not _*) -> sites/
    python -m pressmon.crawlers.mirror.build --content content/_dev.jsonl --out /tmp/sites

Reads sample items (one JSON object a line: outlet, section, title, lead, body, author, tags,
published, modified, media_kind, …) and writes a static copy of each outlet in its real URL
shapes and templates under ``sites/<host>/<path>``, plus ``sites/_manifest.json`` (each
article's URL and fields, for tests, with ``pasted``: what an editor pasted into its body that
is not the item's text, see `pasted`). The tree is cleared first. Output depends on the
content only: two runs give identical bytes (gzip with mtime=0, sorted input, no clock).

Every page carries ``<p class="sample-note">`` in its footer, outside the selectors the
spiders extract. URL shapes, listing sizes and quirks of each outlet are listed in the
docstring of its ``build_*`` function below; the server's docstring says how query strings
map to files.
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import html
import io
import json
import re
import shutil
import sys
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote_plus

from pressmon.crawlers.dates import VIETNAM
from pressmon.crawlers.registry import load_registry
from pressmon.crawlers.mirror.server import FAULT_ROUTES, LINKED_FAULTS, ROBOTS_DISALLOWED, SAMPLE_NOTE

HERE = Path(__file__).resolve().parent
CONTENT_DIR = HERE / "content"
SITES_DIR = HERE / "sites"
MANIFEST = "_manifest.json"


e = html.escape  # every text and attribute value goes through it

HOSTS = {
    "baogialai": "baogialai.com.vn",
    "gialai-gov": "gialai.gov.vn",
    "snnmt-gialai": "snnmt.gialai.gov.vn",
    "gialaitv": "gialaitv.vn",
    "nongnghiepmoitruong": "nongnghiepmoitruong.vn",
    "congthuong": "congthuong.vn",
}
ID_BASE = {  # first numeric ID of each outlet; IDs grow in publication order
    "baogialai": 565000,
    "gialai-gov": 20500,
    "snnmt-gialai": 3100,
    "gialaitv": 98200,
    "nongnghiepmoitruong": 752000,
    "congthuong": 412000,
}

# Section slug -> display name. The content names sections by slug; a slug not listed here
# is shown as a de-slugged name (no diacritics) — add it here to make it look right.
SECTION_NAMES = {
    "baogialai": {
        "thoi-su-su-kien": "Thời sự - Sự kiện", "chinh-tri": "Chính trị", "kinh-te": "Kinh tế",
        "net-zero": "Net Zero", "xa-hoi": "Xã hội", "media": "Media", "giao-duc": "Giáo dục",
        "suc-khoe": "Sức khỏe", "van-hoa": "Văn hóa", "doi-song": "Đời sống",
        "khoa-hoc-cong-nghe": "Khoa học - Công nghệ", "do-thi": "Đô thị", "du-lich": "Du lịch",
        "phap-luat": "Pháp luật", "ban-doc": "Bạn đọc", "phong-su-ky-su": "Phóng sự - Ký sự",
        "gia-lai-hom-nay": "Gia Lai hôm nay", "the-thao": "Thể thao", "podcast": "Podcast",
        "nong-nghiep": "Nông nghiệp", "moi-truong": "Môi trường", "quoc-phong-an-ninh":
        "Quốc phòng - An ninh",
    },
    "gialai-gov": {
        "thong-tin-chi-dao-dieu-hanh": "Thông tin chỉ đạo điều hành",
        "hoat-dong-cua-lanh-dao": "Hoạt động của lãnh đạo",
        "tin-tuc-chinh-tri": "Tin tức chính trị", "tin-kinh-te-tong-hop": "Tin kinh tế tổng hợp",
        "tin-van-hoa-xa-hoi": "Tin văn hóa - xã hội",
        "tin-tu-so-ban-nganh": "Tin từ sở, ban, ngành", "thong-bao": "Thông báo",
    },
    "snnmt-gialai": {"moi-truong": "Môi trường", "tin-hoat-dong": "Tin hoạt động",
                     "nong-nghiep": "Nông nghiệp", "thong-bao": "Thông báo"},
    "gialaitv": {"thoi-su": "Thời sự", "ban-tin": "Bản tin"},
    "nongnghiepmoitruong": {"moi-truong": "Môi trường", "nong-nghiep": "Nông nghiệp",
                            "thoi-su": "Thời sự", "kinh-te": "Kinh tế", "chinh-sach": "Chính sách",
                            "khoa-hoc-cong-nghe": "Khoa học - Công nghệ", "xa-hoi": "Xã hội"},
    "congthuong": {"moi-truong": "Môi trường", "cong-nghiep": "Công nghiệp", "kinh-te": "Kinh tế",
                   "thi-truong": "Thị trường", "thoi-su": "Thời sự", "chinh-sach": "Chính sách",
                   "nang-luong": "Năng lượng", "xa-hoi": "Xã hội", "dia-phuong": "Địa phương"},
}
# Outlets without a sitemap: every item must be reachable from a section the registry
# lists, so an item of another section falls back to one of them.
NO_SITEMAP = ("snnmt-gialai", "gialaitv")
GIALAITV_CATEGORIES = {"thoi-su": "tin-tuc/thoi-su", "ban-tin": "video/ban-tin"}


def registry_sections() -> dict[str, tuple[str, ...]]:
    """Section slugs of each outlet's `sections` URLs in the registry: the mirror always
    has these listing pages (empty when no item is in them)."""
    by_path = {f"category/{c}": s for s, c in GIALAITV_CATEGORIES.items()}
    found = {}
    for outlet in load_registry().values():
        slugs = []
        for url in outlet.sections:
            path = url.split("://", 1)[-1].split("/", 1)[-1].strip("/")
            slugs.append(by_path.get(path, path.rsplit("/", 1)[-1]))
        found[outlet.id] = tuple(slugs)
    return found


REGISTRY_SECTIONS = registry_sections()

WEEKDAYS = ["Thứ Hai", "Thứ Ba", "Thứ Tư", "Thứ Năm", "Thứ Sáu", "Thứ Bảy", "Chủ Nhật"]
PIXEL = "data:image/gif;base64,R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw=="

ZCE_PAGE = 12           # items on a baogialai section page and on each load-more fragment
GOV_PAGE = 10           # items per government-portal listing page
WP_PAGE = 5             # items per WordPress archive page (a WordPress setting)
RSS_HOME = 30           # items in baogialai's /rss/home.rss
GZIP_MONTH = "2025-9"   # the baogialai news sitemap stored gzip-compressed


# ----------------------------------------------------------------------------------------
# Text helpers


def slugify(text: str, maxlen: int = 100) -> str:
    """Vietnamese title -> URL slug: diacritics stripped, đ→d, lower case, hyphens."""
    text = text.replace("đ", "d").replace("Đ", "D")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(c for c in text if not unicodedata.combining(c))
    text = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    if len(text) > maxlen:
        text = text[:maxlen].rsplit("-", 1)[0]
    return text or "bai-viet"


def iso(dt: datetime) -> str:
    return dt.isoformat(timespec="seconds")


def dmy(dt: datetime) -> str:
    return dt.strftime("%d/%m/%Y")


def dmy_hm(dt: datetime) -> str:
    return dt.strftime("%d/%m/%Y %H:%M")


def dmy_short(dt: datetime) -> str:  # "22/6/2025"
    return f"{dt.day}/{dt.month}/{dt.year}"


def weekday(dt: datetime) -> str:
    return WEEKDAYS[dt.weekday()]


def rfc822(dt: datetime) -> str:
    return format_datetime(dt)  # "Thu, 04 Sep 2025 14:30:00 +0700"


def xml_text(text: str) -> str:
    return html.escape(text, quote=False)


def stable_number(text: str, low: int, high: int) -> int:
    return low + int(hashlib.sha1(text.encode("utf-8")).hexdigest()[:8], 16) % (high - low)


def json_ld(obj: dict) -> str:
    text = json.dumps(obj, ensure_ascii=False, sort_keys=True, indent=1)
    return ('<script type="application/ld+json">\n' + text.replace("</", "<\\/")
            + "\n</script>")


# ----------------------------------------------------------------------------------------
# Content


@dataclass
class Article:
    outlet: str
    section: str
    section_name: str
    title: str
    lead: str
    body: list[str]
    author: str
    tags: list[str]
    published: datetime
    modified: datetime | None
    media_kind: str
    source: str                      # file:line the item came from
    category: str = ""               # what the item was written as (cites_ct20, unrelated, …)
    id: int = 0
    slug: str = ""
    path: str = ""                   # URL path on its host

    @property
    def host(self) -> str:
        return HOSTS[self.outlet]

    @property
    def url(self) -> str:
        return f"https://{self.host}{self.path}"

    @property
    def lastmod(self) -> datetime:
        return self.modified or self.published


def _parse_time(value, where: str) -> datetime | None:
    if value in (None, ""):
        return None
    dt = datetime.fromisoformat(str(value))
    if dt.tzinfo is None:
        raise ValueError(f"{where}: time without offset: {value!r}")
    return dt.astimezone(VIETNAM)


def _section(outlet: str, raw: str | None, media_kind: str) -> tuple[str, str]:
    slug = slugify(raw.split("/")[-1]) if raw else ""
    names = SECTION_NAMES.get(outlet, {})
    if slug not in names and raw:
        for known, name in names.items():  # the content may name the section instead
            if slugify(name) == slugify(raw):
                slug = known
    allowed = REGISTRY_SECTIONS.get(outlet) if outlet in NO_SITEMAP else None
    if allowed and slug not in allowed:
        if outlet == "gialaitv":
            slug = "ban-tin" if media_kind in ("video", "audio") else "thoi-su"
        else:
            slug = allowed[-1]
    if not slug:
        slug = next(iter(names), "tin-tuc")
    name = names.get(slug) or slug.replace("-", " ").capitalize()
    return slug, name


def default_content_files(content_dir: Path = CONTENT_DIR) -> list[Path]:
    """The writers' files: every content/*.jsonl except those starting with "_"."""
    return sorted(p for p in content_dir.glob("*.jsonl") if not p.name.startswith("_"))


def load_content(paths: list[Path]) -> dict[str, list[Article]]:
    by_outlet: dict[str, list[Article]] = {o: [] for o in HOSTS}
    for path in paths:
        with open(path, encoding="utf-8") as fh:
            for number, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                where = f"{path.name}:{number}"
                try:
                    raw = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{where}: not JSON: {exc}") from None
                outlet = raw.get("outlet")
                if outlet not in HOSTS:
                    raise ValueError(f"{where}: unknown outlet {outlet!r}")
                if not raw.get("title") or not raw.get("published"):
                    raise ValueError(f"{where}: title and published are required")
                media_kind = raw.get("media_kind") or "text"
                slug, name = _section(outlet, raw.get("section"), media_kind)
                body = raw.get("body") or []
                if isinstance(body, str):
                    body = [p for p in body.split("\n") if p.strip()]
                by_outlet[outlet].append(Article(
                    outlet=outlet, section=slug, section_name=name,
                    title=str(raw["title"]).strip(), lead=str(raw.get("lead") or "").strip(),
                    body=[str(p).strip() for p in body if str(p).strip()],
                    author=str(raw.get("author") or "").strip(),
                    tags=[str(t).strip() for t in raw.get("tags") or [] if str(t).strip()],
                    published=_parse_time(raw["published"], where),
                    modified=_parse_time(raw.get("modified"), where),
                    media_kind=media_kind, source=where, category=str(raw.get("category") or ""),
                ))
    for outlet, items in by_outlet.items():
        items.sort(key=lambda a: (a.published, a.title, a.source))
        base, seen = ID_BASE[outlet], set()
        next_id = base
        for article in items:
            article.id = next_id
            # IDs are not a clock on the real site either: leave small gaps.
            next_id += stable_number(article.title, 1, 17)
            slug = base_slug = slugify(article.title)
            n = 2
            while slug in seen:
                slug = f"{base_slug}-{n}"
                n += 1
            seen.add(slug)
            article.slug = slug
    return by_outlet


def newest_first(items: list[Article]) -> list[Article]:
    return sorted(items, key=lambda a: (a.published, a.id), reverse=True)


# ----------------------------------------------------------------------------------------
# Output


class Tree:
    """Files of the mirror, kept in memory, written at the end."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def put(self, host: str, path: str, content: str | bytes) -> None:
        rel = f"{host}/{path.lstrip('/')}"
        if rel in self.files:
            raise ValueError(f"two pages for {rel}")
        self.files[rel] = content.encode("utf-8") if isinstance(content, str) else content

    def write(self, out: Path) -> None:
        if out.exists():
            if any(out.iterdir()) and not (out / MANIFEST).exists():
                raise SystemExit(f"refusing to clear {out}: it is not a mirror tree "
                                 f"(no {MANIFEST})")
            shutil.rmtree(out)
        out.mkdir(parents=True)
        for rel in sorted(self.files):
            target = out / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self.files[rel])


def gzip_bytes(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(data)
    return buf.getvalue()


def footer_note() -> str:
    return f'<p class="sample-note">{e(SAMPLE_NOTE)}</p>'


def page(title: str, head: str, body: str, body_class: str = "") -> str:
    cls = f' class="{body_class}"' if body_class else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="vi">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{e(title)}</title>\n{head}\n</head>\n<body{cls}>\n{body}\n</body>\n</html>\n"
    )


def og_head(a: Article, description: str, canonical: str | None = None,
            article_meta: bool = True) -> str:
    lines = [
        f'<meta name="description" content="{e(description)}">',
        f'<link rel="canonical" href="{e(canonical or a.url)}">',
        '<meta property="og:type" content="article">',
        f'<meta property="og:title" content="{e(a.title)}">',
        f'<meta property="og:description" content="{e(description)}">',
        f'<meta property="og:url" content="{e(canonical or a.url)}">',
        f'<meta property="og:image" content="https://{a.host}/uploads/{a.slug}.jpg">',
    ]
    if article_meta:
        lines.append(f'<meta property="article:published_time" content="{iso(a.published)}">')
        if a.modified:
            lines.append(f'<meta property="article:modified_time" content="{iso(a.modified)}">')
        lines.append(f'<meta property="article:section" content="{e(a.section_name)}">')
    return "\n".join(lines)


def robots(host: str, extra_disallow: list[str] = (), crawl_delay: str | None = None,
           sitemap: bool = True) -> str:
    lines = ["User-agent: *", "Disallow: /admin/"]
    lines += [f"Disallow: {p}" for p in extra_disallow]
    if crawl_delay:
        lines.append(f"Crawl-delay: {crawl_delay}")
    if sitemap:
        lines += ["", f"Sitemap: https://{host}/sitemap.xml"]
    return "\n".join(lines) + "\n"


def not_found_page(site_name: str) -> str:
    return page(f"404 - {site_name}", "", (
        '<main class="page-404"><h1>404</h1><p>Trang bạn tìm không tồn tại hoặc đã bị xóa.</p>'
        '<p><a href="/">Về trang chủ</a></p></main>\n'
        f'<footer class="site-footer">{footer_note()}</footer>'))


def urlset(entries: list[tuple[str, datetime | None]]) -> str:
    rows = []
    for loc, lastmod in entries:
        mod = f"<lastmod>{iso(lastmod)}</lastmod>" if lastmod else ""
        rows.append(f"<url><loc>{xml_text(loc)}</loc>{mod}</url>")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
            + "\n".join(rows) + "\n</urlset>\n")


def rss(title: str, link: str, self_url: str, items: list[Article],
        description_html: bool = False) -> str:
    rows = []
    for a in items:
        if description_html:
            text = (f'<a href="{e(a.url)}"><img src="https://{a.host}/uploads/{a.slug}.jpg" '
                    f'alt="{e(a.title)}"></a>{e(a.lead)}').replace("]]>", "]]&gt;")
            desc = f"<![CDATA[{text}]]>"
        else:
            desc = xml_text(a.lead)
        rows.append(
            f"<item>\n<title>{xml_text(a.title)}</title>\n<link>{xml_text(a.url)}</link>\n"
            f'<guid isPermaLink="true">{xml_text(a.url)}</guid>\n'
            f"<description>{desc}</description>\n<pubDate>{rfc822(a.published)}</pubDate>\n"
            f"<category>{xml_text(a.section_name)}</category>\n</item>")
    build = rfc822(max((a.published for a in items), default=datetime(2025, 1, 1, tzinfo=VIETNAM)))
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">\n<channel>\n'
        f"<title>{xml_text(title)}</title>\n<link>{xml_text(link)}</link>\n"
        f"<description>{xml_text(SAMPLE_NOTE)}</description>\n<language>vi</language>\n"
        f"<lastBuildDate>{build}</lastBuildDate>\n"
        f'<atom:link href="{e(self_url)}" rel="self" type="application/rss+xml"/>\n'
        + "\n".join(rows) + "\n</channel>\n</rss>\n")


def paragraphs(a: Article) -> list[str]:
    return [f"<p>{e(p)}</p>" for p in a.body]


# What editors paste into an article's text by hand, with none of the classes the registry
# drops: a related-news box in the middle of the text, a photo with its credit line, a share
# bar. Every other item written about something else (PASTED_CATEGORIES) carries them, and one
# link of each box names a watched document, so an extraction that kept the box would make the
# item cite a document it never names (tests/test_crawl_mirror.py, tests/fixtures/).
PASTED_CATEGORIES = ("unrelated", "env_general")
# The headline naming a document, with the content category of the item its link opens.
DOCUMENT_HEADLINES = (
    ("cites_ct20", "Gia Lai triển khai Chỉ thị số 20/CT-TTg về các nhiệm vụ cấp bách ngăn chặn "
                   "ô nhiễm môi trường"),
    ("cites_qd1894", "Thực hiện Quyết định 1894/QĐ-TTg, phát triển ngành công nghiệp môi trường "
                     "giai đoạn 2025 - 2030"),
)
# Box shapes: label (None: links only), opening, one link, closing — {label}, {url} and
# {title} are filled in escaped.
RELATED_BOXES = {
    "strong-label": ("Tin liên quan", "<p><strong>{label}:</strong></p><ul>",
                     '<li><a href="{url}">{title}</a></li>', "</ul>"),
    "table-cell": ("Đọc thêm", '<table class="tbl-inline" align="center"><tbody><tr><td>'
                               "<p><strong>{label}</strong></p>",
                   '<p><a href="{url}">{title}</a></p>', "</td></tr></tbody></table>"),
    "table-rows": ("Bài viết liên quan", '<table border="1" cellpadding="4"><tbody>'
                                         "<tr><td><p><strong>{label}</strong></p></td></tr>",
                   '<tr><td><p>» <a href="{url}">{title}</a></p></td></tr>', "</tbody></table>"),
    "see-also": ("Xem thêm", "", '<p>&gt;&gt; {label}: <a href="{url}">{title}</a></p>', ""),
    "unknown-div": ("Cùng chuyên mục", '<div class="box-news-inline"><h4>{label}</h4><ul>',
                    '<li><a href="{url}">{title}</a></li>', "</ul></div>"),
    "bare-list": (None, '<ul class="list-news-inline">', '<li><a href="{url}">{title}</a></li>',
                  "</ul>"),
}
# The box shapes an outlet's carrying pages take in turn.
OUTLET_BOXES = {
    "baogialai": ("strong-label", "table-cell", "see-also", "unknown-div", "bare-list",
                  "table-rows"),
    "gialai-gov": ("table-rows", "strong-label", "table-cell", "see-also"),
    "snnmt-gialai": ("unknown-div", "see-also", "bare-list"),
    "gialaitv": ("see-also", "bare-list", "strong-label"),
    "nongnghiepmoitruong": ("unknown-div", "strong-label"),
    "congthuong": ("see-also", "bare-list"),
}
SHARE_TEXT = "Chia sẻ | Zalo | In bài | Gửi bài"
SHARE_BAR = ('<p class="article-tools"><a href="https://www.facebook.com/sharer/sharer.php?u={url}">'
             'Chia sẻ</a> | <a href="https://zalo.me/share?u={url}">Zalo</a> | '
             '<a href="javascript:window.print()">In bài</a> | '
             '<a href="mailto:?body={url}">Gửi bài</a></p>')


@dataclass
class Pasted:
    photo: str                       # a photo and its credit line, two paragraphs
    box: str
    share: str
    texts: list[str]                 # what a reader sees of it


def pasted(a: Article, items: list[Article]) -> Pasted | None:
    """What was pasted into `a`, one of its outlet's `items` (paths set), if anything."""
    candidates = [o for o in items if o.category in PASTED_CATEGORIES and o.media_kind != "photo"]
    turn = next((k for k, o in enumerate(candidates[1::2]) if o is a), None)
    if turn is None:
        return None
    category, headline = DOCUMENT_HEADLINES[turn % len(DOCUMENT_HEADLINES)]
    neighbour = neighbours(items, a, 1)[0]
    cited = next((o for o in items if o.category == category), neighbour)
    shapes = OUTLET_BOXES[a.outlet]
    label, opening, link, closing = RELATED_BOXES[shapes[turn % len(shapes)]]
    box = (opening.format(label=e(label or ""))
           + "".join(link.format(label=e(label or ""), url=e(url), title=e(title))
                     for title, url in ((headline, cited.url), (neighbour.title, neighbour.url)))
           + closing)
    credit = f"Ảnh: {a.author or 'PV'}"
    photo = (f'<p style="text-align:center"><img src="/uploads/{a.slug}-2.jpg" alt=""></p>'
             f'<p style="text-align:center"><em>{e(credit)}</em></p>')
    return Pasted(photo=photo, box=box, share=SHARE_BAR.format(url=e(quote_plus(a.url))),
                  texts=[t for t in (label, headline, neighbour.title, credit, SHARE_TEXT) if t])


def pasted_texts(a: Article, items: list[Article]) -> list[str]:
    extra = pasted(a, items)
    return extra.texts if extra else []


def body_blocks(a: Article, items: list[Article]) -> list[str]:
    """The body as its editor left it: the content's paragraphs with, on a page that carries
    them, a photo and its credit, a related box mid-text and a share bar at the end."""
    paras = paragraphs(a)
    extra = pasted(a, items)
    if extra is None:
        return paras
    return paras[:2] + [extra.photo] + paras[2:3] + [extra.box] + paras[3:] + [extra.share]


def neighbours(items: list[Article], a: Article, n: int = 2) -> list[Article]:
    """`n` other articles of the outlet, deterministic: the next ones in ID order."""
    if len(items) < 2:
        return []
    i = items.index(a)
    return [items[(i + k) % len(items)] for k in range(1, min(n, len(items) - 1) + 1)]


# ----------------------------------------------------------------------------------------
# baogialai.com.vn — the zce CMS


def build_zce(tree: Tree, items: list[Article]) -> dict:
    """baogialai.com.vn.

    /<slug>-post<ID>.html                    article (h2 or div lead by ID: ID % 3 == 0 → div)
    /<section>/                              12 newest of the section + button.btn-viewmore
    /<section>/xem-them/trang-<n>.html       fragment: the next 12 <article class="story">,
                                             <div class="load-more-empty"></div> after the last
    /<slug>-tag<ID>.html                     one page per tag
    /rss.html, /rss/home.rss (30 newest), /rss/net-zero-7.rss
    /sitemap.xml → /sitemaps/news-YYYY-M.xml (one month .xml.gz)
    """
    host = HOSTS["baogialai"]
    for a in items:
        a.path = f"/{a.slug}-post{a.id}.html"
    sections = _ordered_sections("baogialai", items)
    tags = _zce_tags(items)

    def nav() -> str:
        links = "".join(f'<li><a href="/{s}/">{e(n)}</a></li>' for s, n in sections)
        return ('<header class="header"><div class="header__logo"><a href="/">Báo Gia Lai</a>'
                f'</div><nav class="menu"><ul>{links}</ul></nav></header>')

    footer = ('<footer class="footer"><p>Báo và Phát thanh, Truyền hình Gia Lai</p>'
              f'{footer_note()}<p><a href="/rss.html">RSS</a></p></footer>')

    def story(a: Article, heading: str = "h3", href: str | None = None) -> str:
        href = href or a.path
        return (f'<article class="story" data-id="{a.id}">'
                f'<figure class="story__thumb"><a href="{e(a.path)}" title="{e(a.title)}">'
                f'<img class="cms-photo" src="{PIXEL}" data-src="/uploads/{a.slug}.jpg" '
                f'alt="{e(a.title)}"></a></figure>'
                f'<{heading} class="story__title"><a href="{e(href)}">{e(a.title)}</a></{heading}>'
                f'<div class="story__meta"><time class="time">{dmy_hm(a.published)}</time></div>'
                f'<div class="story__summary">{e(a.lead)}</div></article>')

    for a in items:
        lead = a.lead if re.match(r"^\s*\(GLO\)\s*[-–—]", a.lead) else f"(GLO)- {a.lead}"
        lead_tag = "div" if a.id % 3 == 0 else "h2"
        media = ""
        if a.media_kind == "video":
            media = (f'<div class="article__video"><video class="cms-video" controls '
                     f'preload="none" src="https://{host}/media/video/{a.slug}.mp4" '
                     f'poster="/uploads/{a.slug}.jpg"></video></div>')
        elif a.media_kind == "audio":
            media = (f'<div class="article__audio"><audio controls preload="none" '
                     f'src="https://{host}/media/podcast/{a.slug}.mp3"></audio></div>')
        paras = body_blocks(a, items)
        figure = (f'<figure class="image"><img class="cms-photo" src="{PIXEL}" '
                  f'data-src="/uploads/{a.slug}.jpg" alt="{e(a.title)}">'
                  f'<figcaption>Ảnh minh họa. Ảnh: {e(a.author or "PV")}</figcaption></figure>')
        related = neighbours(items, a)
        relate = ""
        if related:
            relate = ('<div class="article__relate"><h3 class="relate__title">Tin liên quan</h3>'
                      "<ul>" + "".join(f'<li><a href="{e(r.path)}">{e(r.title)}</a></li>'
                                       for r in related) + "</ul></div>")
        if a.media_kind == "photo":
            # a photo story: every paragraph followed by a captioned photo
            inner = "".join(p + figure.replace("Ảnh minh họa", f"Ảnh {i + 1}")
                            for i, p in enumerate(paras))
            body_inner = f'<div class="article__photo-story">{inner}</div>{relate}'
        else:
            cut = min(2, len(paras))
            body_inner = ("".join(paras[:1]) + figure + "".join(paras[1:cut]) + relate
                          + "".join(paras[cut:]))
        tag_links = "".join(f'<a href="{e(tags[t][1])}">{e(t)}</a>' for t in a.tags)
        head = og_head(a, lead)
        body = (
            f"{nav()}\n<main class=\"main\"><div class=\"article\" data-id=\"{a.id}\">\n"
            f'<div class="breadcrumb"><a href="/{a.section}/">{e(a.section_name)}</a></div>\n'
            f'<h1 class="article__title cms-title">{e(a.title)}</h1>\n'
            f'<div class="article__meta"><time class="time">{weekday(a.published)}, '
            f"{dmy_hm(a.published)}</time></div>\n"
            f'<div class="article__author">{e(a.author.upper())}</div>\n'
            f'<{lead_tag} class="article__sapo cms-desc">{e(lead)}</{lead_tag}>\n'
            f"{media}\n"
            f'<div class="article__body zce-content-body cms-body">\n{body_inner}\n</div>\n'
            f'<div class="article__tag">{tag_links}</div>\n'
            f"</div></main>\n{footer}")
        tree.put(host, a.path, page(f"{a.title} | Báo Gia Lai điện tử", head, body,
                                    "article-page"))

    # sections and load-more fragments
    for slug, name in sections:
        chosen = newest_first([a for a in items if a.section == slug])
        first, rest = chosen[:ZCE_PAGE], chosen[ZCE_PAGE:]
        body = (f"{nav()}\n<main class=\"main category\">"
                f'<h1 class="category__title">{e(name)}</h1>\n<div class="timeline">\n'
                + "\n".join(story(a) for a in first) + "\n</div>\n"
                f'<button class="btn-viewmore" data-url="/{slug}/xem-them/trang-2.html">'
                f"Xem thêm</button>\n</main>\n{footer}")
        tree.put(host, f"/{slug}/index.html",
                 page(f"{name} | Báo Gia Lai điện tử",
                      f'<link rel="canonical" href="https://{host}/{slug}/">', body))
        n = 2
        while True:
            chunk = rest[(n - 2) * ZCE_PAGE:(n - 1) * ZCE_PAGE]
            if not chunk:
                tree.put(host, f"/{slug}/xem-them/trang-{n}.html",
                         '<div class="load-more-empty"></div>\n')
                break
            tree.put(host, f"/{slug}/xem-them/trang-{n}.html",
                     f'<div class="load-more-page" data-page="{n}">\n'
                     + "\n".join(story(a) for a in chunk) + "\n</div>\n")
            n += 1

    # tag pages
    for tag, (tag_id, tag_path) in sorted(tags.items(), key=lambda kv: kv[1][0]):
        tagged = newest_first([a for a in items if tag in a.tags])
        body = (f"{nav()}\n<main class=\"main tag-page\"><h1 class=\"tag__title\">#{e(tag)}</h1>"
                '\n<div class="timeline">\n' + "\n".join(story(a) for a in tagged)
                + f"\n</div>\n</main>\n{footer}")
        tree.put(host, tag_path, page(f"{tag} | Báo Gia Lai điện tử",
                                      f'<link rel="canonical" href="https://{host}{tag_path}">',
                                      body))

    # home
    latest = newest_first(items)
    top = ""
    if latest:
        tracked = f"{latest[0].path}?utm_source=home&utm_medium=top"
        top = ('<section class="box-focus">' + story(latest[0], "h2", tracked) + "</section>\n")
    faults = "".join(
        f'<article class="story"><h3 class="story__title"><a href="{e(path)}">{e(title)}</a>'
        f"</h3></article>"
        for (fhost, path) in LINKED_FAULTS if fhost == host
        for title in [FAULT_ROUTES[(fhost, path)][1]])
    body = (f"{nav()}\n<main class=\"main home\">\n{top}"
            '<section class="box-latest"><h2 class="box-title">Tin mới</h2>\n'
            + "\n".join(story(a) for a in latest[:20]) + "\n</section>\n"
            '<section class="box-hot"><h2 class="box-title">Đáng chú ý</h2>\n'
            f"{faults}\n</section>\n</main>\n{footer}")
    tree.put(host, "/index.html", page("Báo Gia Lai điện tử",
                                        f'<link rel="canonical" href="https://{host}/">', body,
                                        "home"))
    # fault page stored as a file: 200, no title, no article body (a broken layout)
    tree.put(host, "/trang-hong-post999005.html", (
        '<!DOCTYPE html>\n<html lang="vi">\n<head>\n<meta charset="utf-8">\n</head>\n<body>\n'
        '<div class="layout-error"><div class="container"><div class="col-main"></div></div>'
        f'</div>\n<footer class="footer">{footer_note()}</footer>\n</body>\n</html>\n'))

    # RSS
    tree.put(host, "/rss/home.rss", rss("Báo Gia Lai - Trang chủ", f"https://{host}/",
                                        f"https://{host}/rss/home.rss", latest[:RSS_HOME],
                                        description_html=True))
    net_zero = newest_first([a for a in items if a.section == "net-zero"])
    tree.put(host, "/rss/net-zero-7.rss", rss("Báo Gia Lai - Net Zero", f"https://{host}/net-zero/",
                                              f"https://{host}/rss/net-zero-7.rss", net_zero,
                                              description_html=True))
    tree.put(host, "/rss.html", page("RSS | Báo Gia Lai điện tử", "", (
        f"{nav()}\n<main class=\"main rss-index\"><h1>RSS</h1><ul class=\"rss-list\">"
        '<li><a href="/rss/home.rss">Trang chủ</a></li>'
        '<li><a href="/rss/net-zero-7.rss">Net Zero</a></li></ul></main>\n' + footer)))

    # sitemaps
    months: dict[tuple[int, int], list[Article]] = {}
    for a in items:
        months.setdefault((a.published.year, a.published.month), []).append(a)
    keys = sorted(months, reverse=True)
    gz_key = next((k for k in keys if f"{k[0]}-{k[1]}" == GZIP_MONTH), keys[0] if keys else None)
    index_rows = []
    for key in keys:
        month = newest_first(months[key])
        xml = urlset([(a.url, a.lastmod) for a in month])
        name = f"news-{key[0]}-{key[1]}.xml"
        if key == gz_key:
            name += ".gz"
            tree.put(host, f"/sitemaps/{name}", gzip_bytes(xml.encode("utf-8")))
        else:
            tree.put(host, f"/sitemaps/{name}", xml)
        lastmod = max(a.lastmod for a in month)
        index_rows.append(f"<sitemap><loc>https://{host}/sitemaps/{name}</loc>"
                          f"<lastmod>{iso(lastmod)}</lastmod></sitemap>")
    tree.put(host, "/sitemap.xml", (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        + "\n".join(index_rows) + "\n</sitemapindex>\n"))
    tree.put(host, "/robots.txt", robots(host, ["/search", *ROBOTS_DISALLOWED], crawl_delay="0.2"))
    tree.put(host, "/__404.html", not_found_page("Báo Gia Lai điện tử"))
    return {
        "sections": {s: {"name": n, "url": f"https://{host}/{s}/",
                         "load_more": f"https://{host}/{s}/xem-them/trang-{{page}}.html"}
                     for s, n in sections},
        "gzip_sitemap": f"https://{host}/sitemaps/news-{gz_key[0]}-{gz_key[1]}.xml.gz"
        if gz_key else None,
        "tag_pages": len(tags),
        "tracking_url": f"https://{host}{latest[0].path}?utm_source=home&utm_medium=top"
        if latest else None,
    }


def _ordered_sections(outlet: str, items: list[Article]) -> list[tuple[str, str]]:
    """Sections with items, in the order of SECTION_NAMES, then unknown ones by slug."""
    present = {a.section: a.section_name for a in items}
    for slug in REGISTRY_SECTIONS.get(outlet, ()):  # registry sections exist even if empty
        present.setdefault(slug, _section(outlet, slug, "text")[1])
    order = list(SECTION_NAMES.get(outlet, {}))
    slugs = [s for s in order if s in present] + sorted(s for s in present if s not in order)
    return [(s, present[s]) for s in slugs]


def _zce_tags(items: list[Article]) -> dict[str, tuple[int, str]]:
    tags: dict[str, tuple[int, str]] = {}
    used: set[int] = set()
    for tag in sorted({t for a in items for t in a.tags}):
        tag_id = stable_number(tag, 10000, 99999)
        while tag_id in used:
            tag_id += 1
        used.add(tag_id)
        tags[tag] = (tag_id, f"/{slugify(tag)}-tag{tag_id}.html")
    return tags


# ----------------------------------------------------------------------------------------
# gialai.gov.vn and snnmt.gialai.gov.vn — the provincial portal template


def build_govportal(tree: Tree, outlet: str, items: list[Article]) -> dict:
    """gialai.gov.vn / snnmt.gialai.gov.vn.

    /tin-tuc/<section>/<slug>.html      article (no meta published_time; .post-date text)
    /tin-tuc/<section>                  listing, 10 per page (file tin-tuc/<section>/index.html)
    /tin-tuc/<section>?page=N           listing page N (file tin-tuc/<section>/__page-N.html)
    /sitemap.xml                        plain urlset (gialai.gov.vn only; snnmt has none)
    """
    host = HOSTS[outlet]
    main_site = outlet == "gialai-gov"
    site_name = ("Cổng thông tin điện tử tỉnh Gia Lai" if main_site
                 else "Sở Nông nghiệp và Môi trường tỉnh Gia Lai")
    brief_cls, content_cls = (("article-brief", "article-content") if main_site
                              else ("common-brief", "common-content"))
    author_cls = "article-author" if main_site else "author"
    for a in items:
        a.path = f"/tin-tuc/{a.section}/{a.slug}.html"
    sections = _ordered_sections(outlet, items)

    nav = ('<header class="header"><div class="logo"><a href="/">' + e(site_name)
           + '</a></div><nav class="main-menu"><ul><li><a href="/">Trang chủ</a></li>'
           + "".join(f'<li><a href="/tin-tuc/{s}">{e(n)}</a></li>' for s, n in sections)
           + "</ul></nav></header>")
    footer = (f'<footer class="footer"><p>{e(site_name)}</p>{footer_note()}</footer>')

    def post_date(a: Article, index: int) -> str:
        if main_site and index == 0:
            return f"{weekday(a.published)}, {dmy(a.published)} - {a.published:%H:%M}"
        if index % 4 == 2:
            return dmy_hm(a.published)
        return dmy(a.published)

    for index, a in enumerate(items):
        others = [o for o in newest_first(items) if o is not a and o.section == a.section][:5]
        other_html = ""
        if others:
            other_html = ('<div class="other-news"><h3 class="other-news__title">Tin khác</h3><ul>'
                          + "".join(f'<li><a href="{e(o.path)}">{e(o.title)}</a> '
                                    f'<span class="date">({dmy(o.published)})</span></li>'
                                    for o in others) + "</ul></div>")
        paras = body_blocks(a, items)
        figure = (f'<figure class="image"><img src="/uploads/news/{a.slug}.jpg" alt="">'
                  f"<figcaption>Ảnh: {e(a.author or 'Cổng TTĐT')}</figcaption></figure>")
        content = "".join(paras[:1]) + figure + "".join(paras[1:])
        tags = ""
        if a.tags and main_site:
            tags = ('<div class="article-tags"><span>Từ khóa:</span> '
                    + " ".join(f'<a href="/tim-kiem?tukhoa={e(quote_plus(t))}">{e(t)}</a>'
                               for t in a.tags)
                    + "</div>")
        author = f'<p class="{author_cls}">{e(a.author)}</p>' if a.author else ""
        views = stable_number(a.slug, 120, 4800)
        body = (
            f"{nav}\n<main class=\"container\">\n"
            '<ul class="breadcrumb"><li><a href="/">Trang chủ</a></li>'
            f'<li><a href="/tin-tuc/{a.section}">{e(a.section_name)}</a></li></ul>\n'
            f'<div class="detail-article" data-id="{a.id}">\n'
            f'<h1 class="title-detail">{e(a.title)}</h1>\n'
            f'<div class="article-meta"><span class="post-date">{e(post_date(a, index))}</span> '
            f'<span class="view-count">Lượt xem: {views}</span></div>\n'
            f'<div class="{brief_cls}">{e(a.lead)}</div>\n'
            f'<div class="{content_cls}">\n{content}\n</div>\n{author}\n{tags}\n</div>\n'
            f"{other_html}\n</main>\n{footer}")
        head = (f'<link rel="canonical" href="{e(a.url)}">\n'
                f'<meta property="og:title" content="{e(a.title)}">\n'
                f'<meta property="og:description" content="{e(a.lead)}">')
        tree.put(host, a.path, page(f"{a.title} - {site_name}", head, body))

    def listing_item(a: Article) -> str:
        return (f'<div class="item-news"><a class="thumb" href="{e(a.path)}">'
                f'<img src="/uploads/news/{a.slug}.jpg" alt=""></a>'
                f'<a class="article-title common-title" href="{e(a.path)}">{e(a.title)}</a>'
                f'<span class="post-date">{dmy(a.published)}</span>'
                f'<p class="item-desc">{e(a.lead)}</p></div>')

    for slug, name in sections:
        chosen = newest_first([a for a in items if a.section == slug])
        pages = [chosen[i:i + GOV_PAGE] for i in range(0, len(chosen), GOV_PAGE)] or [[]]
        base = f"/tin-tuc/{slug}"
        for number, chunk in enumerate(pages, 1):
            links = []
            if number > 1:
                prev = base if number == 2 else f"{base}?page={number - 1}"
                links.append(f'<a class="prev-pages" href="{prev}">«</a>')
            for k in range(1, len(pages) + 1):
                href = base if k == 1 else f"{base}?page={k}"
                links.append(f'<a class="active">{k}</a>' if k == number
                             else f'<a href="{href}">{k}</a>')
            if number < len(pages):
                links.append(f'<a class="next-pages" href="{base}?page={number + 1}">»</a>')
            body = (f"{nav}\n<main class=\"container\">\n"
                    '<ul class="breadcrumb"><li><a href="/">Trang chủ</a></li>'
                    f'<li><a href="{base}">{e(name)}</a></li></ul>\n'
                    f'<h1 class="category-title">{e(name)}</h1>\n<div class="list-news">\n'
                    + "\n".join(listing_item(a) for a in chunk) + "\n</div>\n"
                    f'<div class="wrapper-pagination">{" ".join(links)}</div>\n</main>\n{footer}')
            name_file = "index.html" if number == 1 else f"__page-{number}.html"
            canonical = f"https://{host}{base}" + ("" if number == 1 else f"?page={number}")
            tree.put(host, f"{base}/{name_file}",
                     page(f"{name} - {site_name}", f'<link rel="canonical" href="{canonical}">',
                          body))

    latest = newest_first(items)
    body = (f"{nav}\n<main class=\"container home\">\n<div class=\"hot-news\">"
            '<h2 class="block-title">Tin mới</h2>\n'
            + "\n".join(listing_item(a) for a in latest[:10]) + "\n</div>\n"
            + "".join(f'<p class="more"><a href="/tin-tuc/{s}">{e(n)}</a></p>' for s, n in sections)
            + f"\n</main>\n{footer}")
    tree.put(host, "/index.html", page(site_name, f'<link rel="canonical" href="https://{host}/">',
                                       body))
    if main_site:
        entries = [(f"https://{host}/", max((a.lastmod for a in items), default=None))]
        entries += [(f"https://{host}/tin-tuc/{s}",
                     max(a.lastmod for a in items if a.section == s)) for s, _ in sections
                    if any(a.section == s for a in items)]
        entries += [(a.url, a.lastmod) for a in latest]
        tree.put(host, "/sitemap.xml", urlset(entries))
    tree.put(host, "/robots.txt", robots(host, ["/tim-kiem"], sitemap=main_site))
    tree.put(host, "/__404.html", not_found_page(site_name))
    return {"sections": {s: {"name": n, "url": f"https://{host}/tin-tuc/{s}",
                             "pages": max(1, -(-sum(a.section == s for a in items) // GOV_PAGE))}
                         for s, n in sections}}


# ----------------------------------------------------------------------------------------
# gialaitv.vn — WordPress


def build_wordpress(tree: Tree, items: list[Article]) -> dict:
    """gialaitv.vn.

    /YYYY/MM/<slug>/                              post (file YYYY/MM/<slug>/index.html)
    /category/tin-tuc/thoi-su/[page/<n>/]         archive, 5 per page
    /category/video/ban-tin/[page/<n>/]           archive, 5 per page
    /feed/                                        RSS, 10 newest (file feed/index.rss)
    """
    host = HOSTS["gialaitv"]
    site = f"https://{host}"
    for a in items:
        a.path = f"/{a.published:%Y}/{a.published:%m}/{a.slug}/"
    cats = [(s, SECTION_NAMES["gialaitv"][s], GIALAITV_CATEGORIES[s])
            for s in REGISTRY_SECTIONS["gialaitv"]]
    nav = ('<header id="masthead" class="site-header"><p class="site-title"><a href="'
           + site + '/" rel="home">Gia Lai TV</a></p><nav class="main-navigation"><ul>'
           + "".join(f'<li><a href="{site}/category/{c}/">{e(n)}</a></li>' for _, n, c in cats)
           + "</ul></nav></header>")
    footer = ('<footer id="colophon" class="site-footer"><div class="site-info">'
              f"Đài Phát thanh và Truyền hình Gia Lai</div>{footer_note()}</footer>")

    for a in items:
        cat_name, cat_path = a.section_name, GIALAITV_CATEGORIES[a.section]
        media = ""
        if a.media_kind == "video":
            if a.id % 2:
                media = (f'<figure class="wp-block-embed is-type-video is-provider-youtube">'
                         f'<div class="wp-block-embed__wrapper"><iframe width="640" height="360" '
                         f'src="https://www.youtube.com/embed/pm{a.id}?feature=oembed" '
                         f'title="{e(a.title)}" allowfullscreen></iframe></div></figure>')
            else:
                media = (f'<figure class="wp-block-video"><video controls '
                         f'src="{site}/wp-content/uploads/{a.published:%Y/%m}/{a.slug}.mp4">'
                         "</video></figure>")
        elif a.media_kind == "audio":
            media = (f'<figure class="wp-block-audio"><audio controls '
                     f'src="{site}/wp-content/uploads/{a.published:%Y/%m}/{a.slug}.mp3">'
                     "</audio></figure>")
        paras = body_blocks(a, items)
        figure = (f'<figure class="wp-caption aligncenter"><img src="{site}/wp-content/uploads/'
                  f'{a.published:%Y/%m}/{a.slug}.jpg" alt="">'
                  f'<figcaption class="wp-caption-text">Ảnh: {e(a.author or "GLTV")}</figcaption>'
                  "</figure>")
        related = neighbours(items, a, 3)
        jp = ""
        if related:
            jp = ('<div id="jp-relatedposts" class="jp-relatedposts">'
                  '<h3 class="jp-relatedposts-headline"><em>Bài viết liên quan</em></h3>'
                  + "".join(f'<p class="jp-relatedposts-post"><a href="{e(site + r.path)}">'
                            f"{e(r.title)}</a></p>" for r in related) + "</div>")
        content = (f'<p class="sapo">{e(a.lead)}</p>\n{media}' + "".join(paras[:1]) + figure
                   + "".join(paras[1:]) + jp)
        updated = (f'<time class="updated" datetime="{iso(a.modified)}">{dmy(a.modified)}</time>'
                   if a.modified else "")
        author_slug = slugify(a.author) if a.author else "admin"
        tags = "".join(f'<a href="{site}/tag/{slugify(t)}/" rel="tag">{e(t)}</a>' for t in a.tags)
        head = og_head(a, a.lead) + f'\n<link rel="shortlink" href="{site}/?p={a.id}">'
        body = (
            f'{nav}\n<main id="main" class="site-main">\n'
            f'<article id="post-{a.id}" class="post-{a.id} post type-post status-publish '
            f'format-{"video" if a.media_kind == "video" else "standard"} '
            f'category-{slugify(cat_name)}">\n'
            f'<header class="entry-header"><h1 class="entry-title">{e(a.title)}</h1>\n'
            f'<div class="entry-meta"><span class="author vcard"><a class="url fn n" '
            f'href="{site}/author/{author_slug}/">{e(a.author or "admin")}</a></span> '
            f'<time class="entry-date published" datetime="{iso(a.published)}">'
            f"{dmy(a.published)}</time>{updated}</div></header>\n"
            f'<div class="entry-content">\n{content}\n</div>\n'
            f'<footer class="entry-footer"><span class="cat-links"><a href="{site}/category/'
            f'{cat_path}/" rel="category tag">{e(cat_name)}</a></span> '
            f'<span class="tags-links">{tags}</span></footer>\n'
            f"</article>\n</main>\n{footer}")
        tree.put(host, f"{a.path}index.html",
                 page(f"{a.title} – Gia Lai TV", head, body, "post-template-default single"))

    def listing(a: Article) -> str:
        return (f'<article id="post-{a.id}" class="post-{a.id} post type-post">'
                '<header class="entry-header"><h2 class="entry-title">'
                f'<a href="{e(site + a.path)}" rel="bookmark">{e(a.title)}</a></h2>'
                '<div class="entry-meta"><span class="posted-on">'
                f'<time class="entry-date published" datetime="{iso(a.published)}">'
                f"{dmy_short(a.published)}</time></span></div></header>"
                f'<div class="entry-summary"><p>{e(a.lead)}</p></div></article>')

    for slug, name, cat in cats:
        chosen = newest_first([a for a in items if a.section == slug])
        pages = [chosen[i:i + WP_PAGE] for i in range(0, len(chosen), WP_PAGE)] or [[]]
        base = f"{site}/category/{cat}/"
        for number, chunk in enumerate(pages, 1):
            nav_links = []
            for k in range(1, len(pages) + 1):
                href = base if k == 1 else f"{base}page/{k}/"
                nav_links.append(
                    f'<span aria-current="page" class="page-numbers current">{k}</span>'
                    if k == number else f'<a class="page-numbers" href="{href}">{k}</a>')
            if number < len(pages):
                nav_links.append(f'<a class="next page-numbers" href="{base}page/{number + 1}/">'
                                 "Trang sau »</a>")
            body = (f'{nav}\n<main id="main" class="site-main">\n<header class="page-header">'
                    f'<h1 class="page-title">Chuyên mục: <span>{e(name)}</span></h1></header>\n'
                    + "\n".join(listing(a) for a in chunk)
                    + '\n<nav class="navigation pagination"><div class="nav-links">'
                    + "".join(nav_links) + f"</div></nav>\n</main>\n{footer}")
            path = f"/category/{cat}/" + ("" if number == 1 else f"page/{number}/")
            tree.put(host, f"{path}index.html",
                     page(f"{name} – Gia Lai TV", f'<link rel="canonical" href="{site}{path}">',
                          body, "archive category"))

    latest = newest_first(items)
    tree.put(host, "/index.html", page("Gia Lai TV – Đài Phát thanh và Truyền hình Gia Lai",
                                       f'<link rel="canonical" href="{site}/">', (
        f'{nav}\n<main id="main" class="site-main home">\n'
        + "\n".join(listing(a) for a in latest[:10]) + f"\n</main>\n{footer}"), "home blog"))
    tree.put(host, "/feed/index.rss", rss("Gia Lai TV", f"{site}/", f"{site}/feed/", latest[:10]))
    tree.put(host, "/robots.txt", "User-agent: *\nDisallow: /admin/\nDisallow: /wp-admin/\n"
                                  "Allow: /wp-admin/admin-ajax.php\n")
    tree.put(host, "/__404.html", not_found_page("Gia Lai TV"))
    return {"sections": {s: {"name": n, "url": f"{site}/category/{c}/"} for s, n, c in cats}}


# ----------------------------------------------------------------------------------------
# nongnghiepmoitruong.vn and congthuong.vn — national outlets (generic family)


def _news_article_ld(a: Article, publisher: str) -> dict:
    ld = {
        "@context": "https://schema.org", "@type": "NewsArticle",
        "headline": a.title, "description": a.lead,
        "datePublished": iso(a.published),
        "author": {"@type": "Person", "name": a.author} if a.author else None,
        "articleSection": a.section_name, "keywords": ", ".join(a.tags),
        "image": [f"https://{a.host}/uploads/{a.slug}.jpg"],
        "mainEntityOfPage": {"@type": "WebPage", "@id": a.url},
        "publisher": {"@type": "Organization", "name": publisher},
    }
    if a.modified:
        ld["dateModified"] = iso(a.modified)
    return {k: v for k, v in ld.items() if v is not None}


def build_generic(tree: Tree, outlet: str, items: list[Article]) -> dict:
    """nongnghiepmoitruong.vn: /<slug>-d<ID>.html (h1.main-title, .main-intro,
    .content-detail, .author-name, meta published_time, JSON-LD NewsArticle).
    congthuong.vn: /<slug>-<ID>.htm, no class the registry knows (div#main-detail >
    div.detail-inner), dates only in JSON-LD; OpenGraph without article:* tags.
    Both: home page with <h3><a>, /rss/moi-truong.rss, /sitemap.xml (plain urlset).
    """
    host = HOSTS[outlet]
    nnmt = outlet == "nongnghiepmoitruong"
    site_name = "Báo Nông nghiệp và Môi trường" if nnmt else "Báo Công Thương"
    for a in items:
        a.path = f"/{a.slug}-d{a.id}.html" if nnmt else f"/{a.slug}-{a.id}.htm"
    nav = (f'<header class="header"><a class="logo" href="/">{e(site_name)}</a>'
           '<nav class="menu"><a href="/">Trang chủ</a> <a href="/rss/moi-truong.rss">RSS</a>'
           "</nav></header>")
    footer = f'<footer class="footer"><p>{e(site_name)}</p>{footer_note()}</footer>'

    for a in items:
        paras = body_blocks(a, items)
        related = neighbours(items, a)
        ld = json_ld(_news_article_ld(a, site_name))
        if nnmt:
            figure = (f'<figure class="image"><img src="/uploads/{a.slug}.jpg" alt="">'
                      f"<figcaption>Ảnh: {e(a.author or 'NNMT')}</figcaption></figure>")
            box = ""
            if related:
                box = ('<div class="box-related"><p class="box-related__title">Đọc thêm</p><ul>'
                       + "".join(f'<li><a href="{e(r.path)}">{e(r.title)}</a></li>'
                                 for r in related) + "</ul></div>")
            body = (
                f'{nav}\n<main class="main-detail">\n<ul class="breadcrumbs">'
                f'<li><a href="/">Trang chủ</a></li><li><span>{e(a.section_name)}</span></li>'
                "</ul>\n"
                f'<h1 class="main-title">{e(a.title)}</h1>\n'
                f'<div class="author-time"><span class="author-name">{e(a.author)}</span> '
                f'<span class="time-post">{weekday(a.published)}, {dmy_hm(a.published)} (GMT+7)'
                "</span></div>\n"
                f'<h2 class="main-intro">{e(a.lead)}</h2>\n'
                f'<div class="content-detail">\n' + "".join(paras[:1]) + figure
                + "".join(paras[1:]) + box + "\n</div>\n"
                '<div class="tag-detail">' + "".join(
                    f'<a href="/tag/{slugify(t)}.html">{e(t)}</a>' for t in a.tags)
                + f"</div>\n</main>\n{footer}")
            head = og_head(a, a.lead) + "\n" + ld
        else:
            figure = (f'<figure class="expNoEdit"><img src="/uploads/{a.slug}.jpg" alt="">'
                      f"<figcaption>Ảnh minh họa: {e(a.author or 'PV')}</figcaption></figure>")
            other = ""
            if related:
                other = ('<div class="detail-other"><h3 class="other-heading">Tin cùng chuyên mục'
                         "</h3><ul>" + "".join(f'<li><a href="{e(r.path)}">{e(r.title)}</a></li>'
                                               for r in related) + "</ul></div>")
            body = (
                f'{nav}\n<div class="site-wrap">\n<div id="main-detail">\n'
                f'<div class="detail-top"><span class="detail-cate">{e(a.section_name)}</span> '
                f'<span class="detail-time">{weekday(a.published)}, {dmy_hm(a.published)}</span>'
                "</div>\n"
                f'<h1 class="post-heading">{e(a.title)}</h1>\n'
                f'<div class="post-summary"><strong>{e(a.lead)}</strong></div>\n'
                '<div class="detail-inner">\n' + "".join(paras[:1]) + figure + "".join(paras[1:])
                + f'\n</div>\n<p style="text-align:right"><strong>{e(a.author)}</strong></p>\n'
                '<div class="detail-keywords">Từ khóa: ' + ", ".join(
                    f'<a href="/tag/{slugify(t)}.html">{e(t)}</a>' for t in a.tags)
                + f"</div>\n{other}\n</div>\n</div>\n{footer}")
            head = og_head(a, a.lead, article_meta=False) + "\n" + ld
        tree.put(host, a.path, page(f"{a.title} | {site_name}", head, body))

    latest = newest_first(items)
    home = (f'{nav}\n<main class="home">\n'
            + "\n".join(f'<div class="story"><h3><a href="{e(a.path)}">{e(a.title)}</a></h3>'
                        f'<p class="sapo">{e(a.lead)}</p></div>' for a in latest[:30])
            + f"\n</main>\n{footer}")
    tree.put(host, "/index.html", page(site_name, f'<link rel="canonical" href="https://{host}/">',
                                       home))
    env = [a for a in latest if a.section == "moi-truong"] or latest
    tree.put(host, "/rss/moi-truong.rss", rss(f"{site_name} - Môi trường", f"https://{host}/",
                                              f"https://{host}/rss/moi-truong.rss", env[:50]))
    tree.put(host, "/sitemap.xml", urlset([(a.url, a.lastmod) for a in latest]))
    tree.put(host, "/robots.txt", robots(host))
    tree.put(host, "/__404.html", not_found_page(site_name))
    return {"rss_items": len(env[:50])}


# ----------------------------------------------------------------------------------------


def build(content: list[Path] | None = None, out: Path = SITES_DIR) -> dict:
    """Build the mirror from `content` (default: content/*.jsonl, not _*) into `out`."""
    content = [Path(p) for p in content] if content else default_content_files()
    if not content:
        raise SystemExit(f"no content files in {CONTENT_DIR}")
    by_outlet = load_content(content)
    tree = Tree()
    details = {
        "baogialai": build_zce(tree, by_outlet["baogialai"]),
        "gialai-gov": build_govportal(tree, "gialai-gov", by_outlet["gialai-gov"]),
        "snnmt-gialai": build_govportal(tree, "snnmt-gialai", by_outlet["snnmt-gialai"]),
        "gialaitv": build_wordpress(tree, by_outlet["gialaitv"]),
        "nongnghiepmoitruong": build_generic(tree, "nongnghiepmoitruong",
                                             by_outlet["nongnghiepmoitruong"]),
        "congthuong": build_generic(tree, "congthuong", by_outlet["congthuong"]),
    }
    manifest = {
        "note": SAMPLE_NOTE,
        "content": [p.name for p in content],
        "faults": {f"https://{h}{p}": kind for (h, p), (kind, _) in FAULT_ROUTES.items()},
        "outlets": {
            outlet: {
                "host": HOSTS[outlet],
                **details[outlet],
                "articles": [{
                    "url": a.url, "id": a.id, "title": a.title, "lead": a.lead,
                    "author": a.author, "section": a.section, "section_name": a.section_name,
                    "tags": a.tags, "published": iso(a.published),
                    "modified": iso(a.modified) if a.modified else None,
                    "media_kind": a.media_kind, "source": a.source,
                    "pasted": pasted_texts(a, items),
                } for a in sorted(items, key=lambda a: a.id)],
            }
            for outlet, items in by_outlet.items()
        },
    }
    tree.files[MANIFEST] = (json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True)
                            + "\n").encode("utf-8")
    tree.write(Path(out))
    return manifest


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Generate the pressmon offline site mirror.")
    parser.add_argument("--content", type=Path, action="append",
                        help="a content .jsonl file (repeatable); default: every "
                             "crawlers/mirror/content/*.jsonl not starting with '_'")
    parser.add_argument("--out", type=Path, default=SITES_DIR,
                        help="output tree (default: crawlers/mirror/sites); cleared first")
    args = parser.parse_args(argv)
    manifest = build(args.content, args.out)
    total = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    for outlet, info in manifest["outlets"].items():
        print(f"{outlet:22} {info['host']:26} {len(info['articles']):4} articles")
    print(f"wrote {args.out} ({total / 1024:.0f} KiB) from {', '.join(manifest['content'])}",
          file=sys.stderr)


if __name__ == "__main__":
    main()
