"""One article page into fields, the way its outlet's registry entry says.

Each field is taken from the first source that has it: the outlet's CSS selectors, then the
page's JSON-LD, then OpenGraph / article meta tags, then trafilatura (body, title, author) or
htmldate (dates from markup only). `methods` records which source gave each field, so a
layout change shows up as a field falling back to a weaker source.

A wrong article is worse than an error row: `extract_page` decides the charset from the page's
bytes and refuses, with an ExtractionError whose `kind` the crawl records, a page that does not
decode cleanly, is cut short, is a challenge or "not found" page served with status 200, or
offers no title of its own (only the site's name, its lead or a box's label). Dates and
JSON-LD are read only from the article's own markup, never from related boxes or sidebars.
"""

from __future__ import annotations

import functools
import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import htmldate
import trafilatura
from cssselect import GenericTranslator
from trafilatura.utils import load_html
from w3lib.encoding import (html_body_declared_encoding, http_content_type_encoding, read_bom,
                            resolve_encoding)
from lxml import html as lxml_html
from parsel import Selector

from pressmon.crawlers.dates import VIETNAM, parse_date
from pressmon.crawlers.registry import Outlet
from pressmon.crawlers.urls import canonical_url

MIN_BODY_CHARS = 80
FUTURE_SLACK = timedelta(days=1)  # clocks and time zones differ; a later date is no date
BLOCK_TAGS = ("p", "h2", "h3", "h4", "h5", "li", "blockquote", "pre")
ARTICLE_TYPES = {"NewsArticle", "Article", "ReportageNewsArticle", "BlogPosting", "VideoObject",
                 "AnalysisNewsArticle", "WebPage"}

# -- Text on an article page that is not the item's own, wherever it sits and whatever its
# classes. A related-news box, a "see also" line or a caption carries other items' words: a
# link titled "…triển khai Chỉ thị số 20/CT-TTg…" left in an unrelated item's body would make
# that item cite the directive; share and print buttons are nobody's words. The registry's
# `drop` selectors remove the boxes of the templates we know; these rules remove the ones
# editors paste into the text by hand (see `_drop_boilerplate`). Labels and button words are
# compared folded (lower case, no diacritics, đ → d), so "TIN LIÊN QUAN", "Tin liên quan:"
# and ">> Xem thêm" are one label.
RELATED_LABELS = ("Tin liên quan", "Tin bài liên quan", "Bài liên quan", "Bài viết liên quan",
                  "Xem thêm", "Đọc thêm", "Cùng chuyên mục", "Tin cùng chuyên mục", "Tin khác",
                  "Các tin khác", "Có thể bạn quan tâm", "Bạn có thể quan tâm")
SHARE_WORDS = ("Chia sẻ", "In bài", "In bài viết", "Gửi bài", "Gửi bài viết", "Gửi email",
               "Lưu bài", "Lưu", "Bình luận", "Sao chép liên kết", "Copy link", "Facebook", "Zalo",
               "Twitter", "Email", "E-mail", "Share", "Tweet", "Print")
# A photo credit ends its block ("Ảnh: Hồng Thi", "Quang cảnh hội nghị. Ảnh minh họa"), after
# the block's start, a sentence or a bracket, so prose such as "hình ảnh: …" is not one.
PHOTO_CREDIT = re.compile(
    r"(?:^|[.!?…]\s+|[(\[]\s*|\s[-–—]\s+)"
    r"(?:(?:ảnh(?:\s+minh\s+h(?:ọa|oạ)|\s+tư\s+liệu)?|nguồn\s+ảnh|đồ\s+h(?:ọa|oạ))"
    r"\s*:\s*(?:[^.!?:;()\[\]]|\.(?=\S)){1,50}|ảnh\s+minh\s+h(?:ọa|oạ)|ảnh\s+tư\s+liệu)[)\]]?\s*\.?$",
    re.IGNORECASE)
# Captions and share bars are short: a longer block ending in a credit, or naming a share
# button, is prose.
SHORT_BLOCK_CHARS = 300
# A block is a list of links when links hold this share of its letters and digits: a
# paragraph with a link in it is far below, a list of headlines with dates far above.
LINK_LIST_SHARE = 0.8
LABEL_SEARCH_CHARS = 60  # a label opens its block: the folded text is read no further
LONG_TITLE_CHARS = 100  # a title this long that a paragraph starts with is that paragraph cut short
_PSEUDO = re.compile(r"^(.*?)\s*(::(?:attr\([^)]*\)|text))?$")
_NOT_WORD = re.compile(r"[^\w\s]+")
_TITLE_SEPARATOR = re.compile(r"\s+[|–—-]\s+|\s*\|\s*")
_HOME_WORDS = {"trang chu", "home", "homepage", "ve trang chu"}
BOX_TAGS = ("p", "div", "li", "ul", "ol", "dl", "dt", "dd", "table", "thead", "tbody", "tfoot",
            "tr", "td", "th", "h1", "h2", "h3", "h4", "h5", "h6", "blockquote", "section",
            "aside", "header", "footer", "nav", "figure", "center")


class ExtractionError(Exception):
    """The page is not an article we can read: nothing is stored for it. `kind` is the
    crawl_errors kind the spider records it under."""

    def __init__(self, detail: str, kind: str = "parse_failed"):
        super().__init__(detail)
        self.kind = kind


@dataclass
class Extraction:
    fields: dict
    methods: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {**self.fields, "methods": dict(self.methods)}


def extract_page(body: bytes, url: str, outlet: Outlet, content_type: str | None = None) -> Extraction:
    """The fields of a fetched page, from its bytes and its HTTP Content-Type header.

    Raises ExtractionError, whose `kind` says why the page is not stored: `bad_charset`,
    `truncated`, `interstitial`, `soft_404`, `no_title`, `parse_failed`. Nothing else escapes:
    an unexpected exception inside extraction is a `parse_failed` naming it.
    """
    try:
        text = decode_page(body, content_type)
        return _extract(text, url, outlet)
    except ExtractionError:
        raise
    except Exception as exc:  # a page must never crash the crawl: it becomes an error row
        raise ExtractionError(f"extraction failed: {type(exc).__name__}: {exc}") from exc


def extract_article(page: str | bytes, url: str, outlet: Outlet) -> Extraction:
    """The fields of a page whose text is already decoded (bytes: as extract_page, with no
    HTTP header), with the same checks and errors as extract_page."""
    if isinstance(page, bytes):
        return extract_page(page, url, outlet)
    try:
        return _extract(page, url, outlet)
    except ExtractionError:
        raise
    except Exception as exc:
        raise ExtractionError(f"extraction failed: {type(exc).__name__}: {exc}") from exc


def _extract(text: str, url: str, outlet: Outlet) -> Extraction:
    text = unicodedata.normalize("NFC", text)
    page_sel = Selector(text=text)
    scan = _TagScan.of(text)
    _refuse_a_page_that_is_not_an_article(page_sel, text, scan)
    found = _Sources(page_sel, text, url, outlet)
    result = Extraction(fields={})
    rejected: list[str] = []

    def take(name, *candidates, valid=None):
        for method, getter in candidates:
            value = getter()
            if value:
                why = valid(value, method) if valid else None
                if why:
                    rejected.append(f"{method} {value[:80]!r} is {why}")
                    continue
                result.fields[name] = value
                result.methods[name] = method
                return value
        result.fields[name] = None
        return None

    sel = outlet.selectors
    take("url", ("canonical-link", found.canonical_link), ("fetched", lambda: canonical_url(url)))
    take("lead", ("selector", lambda: _clean(found.css_text(sel.get("lead")))),
         ("json-ld", lambda: found.jsonld("description")),
         ("opengraph", lambda: found.meta("og:description")),
         ("meta", lambda: found.meta("description")))
    if found.body_container_is_empty(sel.get("body")):
        # the template's body element with nothing in it: a placeholder, whatever text a
        # generic extractor would find around it (the lead, a caption)
        raise ExtractionError("no article body found (the article's body is empty: a "
                              "placeholder page)", kind="soft_404")
    take("body", ("selector", lambda: found.css_body(sel.get("body"), sel.get("drop", ()))),
         ("json-ld", lambda: found.jsonld("articleBody")),
         ("trafilatura", lambda: found.trafilatura_body(sel.get("drop", ()))))
    # The title is read after the lead and the body: a page with no title of its own offers
    # its lead, its first paragraph or the site's name in the title's places, never a title.
    take("title", ("selector", lambda: _clean(found.css_text(sel.get("title")))),
         ("json-ld", lambda: found.jsonld("headline")),
         ("opengraph", lambda: found.meta("og:title")),
         ("trafilatura", lambda: found.trafilatura_meta("title")),
         valid=lambda title, method: found.not_a_title(title, method, result.fields))
    take("author", ("selector", lambda: _clean(found.css_text(sel.get("author")))),
         ("json-ld", found.jsonld_author),
         ("meta", lambda: found.meta("author")),
         ("trafilatura", lambda: found.trafilatura_author(sel.get("author"))))
    take("section", ("selector", lambda: _clean(found.css_text(sel.get("section")))),
         ("json-ld", lambda: found.jsonld("articleSection")),
         ("opengraph", lambda: found.meta("article:section")))
    take("tags", ("selector", lambda: found.css_list(sel.get("tags"))),
         ("json-ld", found.jsonld_keywords),
         ("opengraph", lambda: found.meta_all("article:tag")))
    # Dates only from the article's own markup: the selectors skip related boxes and
    # sidebars, JSON-LD is the article's own node, htmldate sees the page without them.
    raw_published = take("published_raw",
                         ("selector", lambda: _clean(found.css_text(sel.get("published"), own=True))),
                         ("json-ld", lambda: found.jsonld("datePublished")),
                         ("opengraph", lambda: found.meta("article:published_time")),
                         ("htmldate", lambda: found.htmldate(original=True)))
    result.fields["published_at"] = _not_in_the_future(parse_date(raw_published))
    if raw_published:
        result.methods["published_at"] = result.methods["published_raw"]
    raw_modified = take("modified_raw",
                        ("selector", lambda: _clean(found.css_text(sel.get("modified"), own=True))),
                        ("json-ld", lambda: found.jsonld("dateModified")),
                        ("opengraph", lambda: found.meta("article:modified_time")))
    result.fields["modified_at"] = parse_date(raw_modified)
    result.fields.pop("modified_raw")
    if raw_modified:
        result.methods["modified_at"] = result.methods.pop("modified_raw")
    take("media_kind", ("selector", found.media_kind), ("default", lambda: "text"))
    take("language", ("html-lang", found.html_lang), ("registry", lambda: outlet.language))
    result.fields["tags"] = result.fields["tags"] or []

    # before the title and body checks: a page cut inside the article has a title and what
    # body came before the cut
    _refuse_an_unclosed_container(scan, found.body_container(sel.get("body")))
    if result.fields["lead"] and outlet.lead_prefix:
        result.fields["lead"] = outlet.lead_prefix.sub("", result.fields["lead"], count=1).strip() or None
    if result.methods.get("body") == "trafilatura":
        result.fields["body"] = _without_repeated_fields(result.fields["body"], result.fields)
    if not result.fields["title"]:
        _explain_a_page_with_no_article(page_sel, text)
        if rejected:
            raise ExtractionError("no title found: " + "; ".join(rejected), kind="no_title")
        raise ExtractionError("no title found (selectors, JSON-LD, OpenGraph, trafilatura)",
                              kind="no_title")
    if not result.fields["body"] or len(result.fields["body"]) < MIN_BODY_CHARS:
        _explain_a_page_with_no_article(page_sel, text)
        raise ExtractionError(f"no article body found (under {MIN_BODY_CHARS} characters)")
    if result.methods["body"] != "selector" and len(result.fields["body"]) < SHORT_PAGE_CHARS:
        # a short text no template element vouches for: a challenge or placeholder page's
        # own words, if the page says it is one
        _explain_a_page_with_no_article(page_sel, text)
    _refuse_mojibake(result.fields)
    return result


# -- The charset -----------------------------------------------------------------------
# A page's bytes decide its charset when its declarations lie. Text that is valid UTF-8 is
# UTF-8 whatever the page declares (Vietnamese text in a legacy code page is practically
# never valid UTF-8). Bytes that are not: a non-UTF-8 declaration is believed when its reading
# looks clean, else the Vietnamese code page cp1258 or cp1252, whichever reads cleaner.
LEGACY_CHARSETS = ("cp1258", "cp1252")


def decode_page(body: bytes, content_type: str | None = None) -> str:
    """The page's text (NFC), or ExtractionError(kind="bad_charset")."""
    declared = [(where, resolve_encoding(name) or name) for where, name in (
        ("HTTP header", http_content_type_encoding(content_type) if content_type else None),
        ("<meta>", html_body_declared_encoding(body))) if name]
    bom = read_bom(body)
    if bom[0]:
        try:
            return unicodedata.normalize("NFC", body[len(bom[1]):].decode(bom[0]))
        except UnicodeDecodeError as exc:
            raise ExtractionError(f"the page starts with a {bom[0]} byte order mark but is not "
                                  f"valid {bom[0]} ({exc.reason} at byte {exc.start})", kind="bad_charset")
    try:
        return unicodedata.normalize("NFC", body.decode("utf-8"))
    except UnicodeDecodeError as exc:
        not_utf8 = f"byte {exc.start} ({body[exc.start]:#04x})"
    tried = []
    for where, name in [*declared, *(("guess", c) for c in LEGACY_CHARSETS)]:
        if name in ("utf-8", *(t[0] for t in tried)):
            continue
        try:
            text = unicodedata.normalize("NFC", body.decode(name))
        except (UnicodeDecodeError, LookupError):
            continue
        tried.append((name, _mojibake_signs(text), text))
        if where != "guess" and not tried[-1][1]:
            return text  # a legacy declaration the bytes bear out
    said = ", ".join(f"{name} ({where})" for where, name in declared) or "no charset"
    if not tried:
        raise ExtractionError(f"the page declares {said} but its bytes are not valid UTF-8 "
                              f"({not_utf8}) nor any charset tried", kind="bad_charset")
    name, signs, text = min(tried, key=lambda t: len(t[1]))
    if signs:
        raise ExtractionError(f"the page declares {said} but its bytes are not valid UTF-8 "
                              f"({not_utf8}); read as {name}, it still shows "
                              f"{_quote_signs(signs)}", kind="bad_charset")
    return text


# Signs of text decoded with the wrong charset: UTF-8 read as cp1252/latin-1 ("Ã¡", "á»‡",
# "Ä‘", "â€œ"), cp1258 read as cp1252 ("ð" for đ, "Þ" for a tilde), combining marks no letter
# took, replacement characters, C1 controls, and "?" inside words (letters a server could not
# encode in the page's charset).
_UTF8_AS_CP1252 = re.compile(
    "[ÃÂÄÅÆâá][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122]")
_CP1258_AS_CP1252 = re.compile("[ðÐþÞ]")
_STRAY_MARK = re.compile("[\u0300-\u036f]")  # NFC leaves none on a Vietnamese letter
_LOST_LETTER = re.compile(r"(?:^|[^\W\d_])\?[^\W\d_]")
_BAD_CHARS = re.compile("[\ufffd\u0080-\u009f]")
MOJIBAKE_SIGNS = 2  # one odd pair may be a quotation; mis-decoded Vietnamese shows dozens


def _mojibake_signs(text: str) -> list[str]:
    signs = _BAD_CHARS.findall(text)
    others = (_UTF8_AS_CP1252.findall(text) + _CP1258_AS_CP1252.findall(text)
              + _STRAY_MARK.findall(text)
              + [w for w in text.split() if _LOST_LETTER.search(w) and not _URLISH.search(w)])
    return signs + (others if len(others) >= MOJIBAKE_SIGNS else [])


def _quote_signs(signs: list[str]) -> str:
    shown = ", ".join(repr(s) for s in list(dict.fromkeys(signs))[:8])
    return f"{len(signs)} sign(s) of mojibake ({shown})"


def _refuse_mojibake(fields: dict) -> None:
    for name in ("title", "lead", "body", "author"):
        signs = _mojibake_signs(fields.get(name) or "")
        if signs:
            raise ExtractionError(f"the {name} shows {_quote_signs(signs)}: the page's text "
                                  f"was not decoded cleanly", kind="bad_charset")


_URLISH = re.compile(r"[/=&]|\.\w")  # "index.php?id=2", not "tri?n."

# -- Pages that are not an article ---------------------------------------------------------
# Served with status 200 all the same: an anti-bot challenge, a "not found" page, a page cut
# short. Challenge and not-found titles are refused outright; the weaker signs (a captcha
# widget, "enable JavaScript", "không tồn tại" somewhere in the text) only explain a page
# that gave no article, since real articles carry comment captchas and such words too.
CHALLENGE_TITLE = re.compile(
    r"^(?:just a moment|attention required|checking your browser|checking if the site connection"
    r"|please wait|one more step|ddos.guard|ddos protection|access denied|security check"
    r"|verify(?:ing)? you are (?:a )?human|are you a robot|captcha|human verification"
    r"|vui long (?:cho|doi)|dang kiem tra trinh duyet)\b")
CHALLENGE_MARKUP = re.compile(r"_cf_chl_opt|cf-browser-verification|id=[\"']challenge-form"
                              r"|cf-challenge-running|/\.well-known/ddos-guard/check")
CHALLENGE_SIGNS = re.compile(
    r"g-recaptcha|h-captcha|hcaptcha|cf-turnstile|captcha|enable javascript|javascript is "
    r"(?:disabled|required)|turn on javascript|bat javascript|kich hoat javascript|ddos-guard"
    r"|checking your browser|http-equiv=[\"']?refresh", re.IGNORECASE)
NOT_FOUND_PHRASE = re.compile(r"\b(?:404|khong (?:the )?tim thay|khong ton tai|da bi (?:xoa|go)"
                              r"|not found|does not exist|no longer available|da ngung xuat ban)\b")
# Words a "not found" title is made of besides its phrase: a title with any other word
# ("Không tìm thấy thi thể nạn nhân…") is a headline.
NOT_FOUND_WORDS = set("""loi error trang page bai viet noi dung tin tuc duong dan lien ket ban
    yeu cau tim truy cap hoac da bi xoa go the this that article sorry xin rat tiec oops ooops
    khong ton tai tim thay not found does exist no longer available hien nay nay co dang
    ngung xuat http""".split())
SHORT_PAGE_CHARS = 600  # a challenge or placeholder text; an article's body is longer


def _refuse_a_page_that_is_not_an_article(page_sel: Selector, text: str, scan: "_TagScan") -> None:
    if not scan.closed & {"body", "html"}:
        raise ExtractionError(f"the page is cut short: no </body> or </html> in its "
                              f"{len(text)} characters", kind="truncated")
    title = _clean(page_sel.css("title::text").get()) or ""
    folded = _fold(title)
    if CHALLENGE_TITLE.match(folded) or CHALLENGE_MARKUP.search(text):
        raise ExtractionError(f"an anti-bot challenge page, not the article (title {title!r})",
                              kind="interstitial")
    headings = [title, _TITLE_SEPARATOR.split(title)[0], page_sel.css('meta[property="og:title"]::attr(content)').get(),
                _clean(" ".join(page_sel.css("h1 ::text").getall()))]
    for heading in filter(None, headings):
        if _is_not_found_title(heading):
            raise ExtractionError(f"a 'not found' page served as a page (heading {_clean(heading)!r})",
                                  kind="soft_404")


def _is_not_found_title(heading: str) -> bool:
    folded = _fold(_NOT_WORD.sub(" ", heading))
    return bool(NOT_FOUND_PHRASE.search(folded)) and set(folded.split()) <= NOT_FOUND_WORDS | {"404"}


def _explain_a_page_with_no_article(page_sel: Selector, text: str) -> None:
    """A page that gave no article: an interstitial or a "not found" page says so."""
    visible = _visible_text(page_sel)
    if CHALLENGE_SIGNS.search(text) and len(visible) < SHORT_PAGE_CHARS * 4:
        raise ExtractionError(f"a challenge page (captcha / JavaScript check), not the article: "
                              f"{visible[:120]!r}", kind="interstitial")
    found = NOT_FOUND_PHRASE.search(_fold(visible))
    if found:
        raise ExtractionError(f"a 'not found' page served as a page: {visible[:120]!r}", kind="soft_404")


def _visible_text(page_sel: Selector) -> str:
    parts = page_sel.xpath("//body//text()[not(ancestor::script or ancestor::style "
                           "or ancestor::noscript)]").getall()
    return _clean(" ".join(parts)) or ""


def _refuse_an_unclosed_container(scan: "_TagScan", container) -> None:
    """The article's element (the outlet's body selector) must close before the page ends:
    HTML cut inside the article, even with closing tags appended after the cut, is a partial
    article. lxml closes what is left open, so the source's own tags are counted."""
    if container is None:
        return
    tag, attrs = container.tag, dict(container.attrib)
    same = [e for e in container.getroottree().iter(tag) if dict(e.attrib) == attrs]
    nth = next(i for i, e in enumerate(same) if e is container)
    if not scan.closes(tag, attrs, nth):
        raise ExtractionError(f"the article's <{tag}> is never closed: the page was cut inside "
                              f"the article", kind="truncated")


class _TagScan(HTMLParser):
    """Start and end tags as the source has them (no tag closed for it), scripts and
    comments skipped."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.events: list[tuple[str, str, dict | None]] = []
        self.closed: set[str] = set()

    @classmethod
    def of(cls, text: str) -> "_TagScan":
        scan = cls()
        scan.feed(text)
        scan.close()
        return scan

    def handle_starttag(self, tag, attrs):
        self.events.append(("start", tag, {k: v or "" for k, v in attrs}))

    def handle_endtag(self, tag):
        self.events.append(("end", tag, None))
        self.closed.add(tag)

    def closes(self, tag: str, attrs: dict, nth: int) -> bool:
        """Whether the nth start tag `tag` with `attrs` is matched by an end tag (True when
        that start tag cannot be found: no verdict without the element)."""
        seen, depth = -1, 0
        for kind, name, its in self.events:
            if name != tag:
                continue
            if depth:
                depth += 1 if kind == "start" else -1
                if not depth:
                    return True
            elif kind == "start" and its == attrs:
                seen += 1
                if seen == nth:
                    depth = 1
        return not depth


# Blocks that hold other items or the site's furniture: their dates are not the article's.
FOREIGN_BLOCK = re.compile(r"(?:^|[\s_-])(?:relate[ds]?|lien-?quan|others?|sidebar|side-bar|widget"
                           r"|tin-?khac|same|cung-?chuyen-?muc|box-news|list-news|most|popular"
                           r"|xem-?nhieu|moi-?nhat|latest|recommend\w*|suggest\w*|comments?)(?:$|[\s_-])",
                           re.IGNORECASE)


def _is_foreign_block(node) -> bool:
    if not isinstance(node.tag, str):
        return False
    if node.tag in ("aside", "nav"):
        return True
    return bool(FOREIGN_BLOCK.search(node.get("class") or "") or FOREIGN_BLOCK.search(node.get("id") or ""))


class _Sources:
    """Lazy access to everything a page offers; each source is parsed at most once."""

    def __init__(self, sel: Selector, text: str, url: str, outlet: Outlet):
        self.sel, self.text, self.url, self.outlet = sel, text, url, outlet
        self._jsonld = self._traf = None

    # -- CSS selectors from the registry
    def _select(self, spec: str | None, own: bool = False):
        """The first selector of `spec` that matches; with `own`, matches inside a related
        box, a sidebar or another item's block do not count."""
        if not spec:
            return []
        for one in (s.strip() for s in spec.split(",")):
            if not own:
                matched = self.sel.css(one)
            else:
                element, pseudo = _PSEUDO.match(one).groups()
                matched = [m for m in self.sel.css(element) if not self._foreign(m.root)]
                if pseudo:
                    matched = [v for m in matched for v in m.css(pseudo)]
            if matched:
                return matched
        return []

    def _foreign(self, element) -> bool:
        """Whether the element sits in a block that is not the article's own."""
        drops = [self.sel.css(css) for css in self.outlet.selectors.get("drop", ())
                 if css not in ("script", "style")]
        dropped = {id(m.root) for matched in drops for m in matched}
        for node in element.iterancestors():
            if id(node) in dropped or _is_foreign_block(node):
                return True
        return False

    def css_text(self, spec: str | None, own: bool = False) -> str | None:
        matched = self._select(spec, own)
        if not matched:
            return None
        first = matched[0]
        if isinstance(first.root, str):
            return first.get()
        return " ".join(first.css("::text").getall())

    def css_list(self, spec: str | None) -> list[str]:
        values = [_clean(" ".join(m.css("::text").getall()) if not isinstance(m.root, str) else m.get())
                  for m in self._select(spec)]
        return list(dict.fromkeys(v for v in values if v))

    def css_body(self, spec: str | None, drop) -> str | None:
        matched = self._select(spec)
        if not matched:
            return None
        element = lxml_html.fromstring(matched[0].get())
        for css in drop:
            for node in element.cssselect(css):
                node.drop_tree()
        _drop_boilerplate(element, self.outlet, self.url)
        return _paragraphs(element)

    # -- JSON-LD
    def _article_ld(self) -> dict:
        """The page's own article node: one that names this page's URL, or names no URL
        and is the only one, or has the page's heading. A node naming another URL is
        another item's (a related box, a sidebar), never read for this page."""
        if self._jsonld is None:
            nodes = []
            for raw in self.sel.css('script[type="application/ld+json"]::text').getall():
                try:
                    data = json.loads(raw)
                except ValueError:
                    continue
                for node in _ld_nodes(data):
                    types = _ld_types(node)
                    if types & ARTICLE_TYPES and "headline" in node or "VideoObject" in types:
                        nodes.append(node)
            own_urls = {u for u in (canonical_url(self.url), self.canonical_link(),
                                    self._absolute_meta("og:url")) if u}
            own, unnamed = [], []
            for node in nodes:
                urls = self._ld_urls(node)
                if urls & own_urls:
                    own.append(node)
                elif not any(self._elsewhere(u) for u in urls):
                    unnamed.append(node)  # naming no page (or the home page): maybe ours
                # else: it names another article or another site's page: not this item
            if not own and len(unnamed) > 1:
                headings = {_fold(h) for h in (self.meta("og:title"), _clean(self.sel.css("title::text").get()),
                                               _clean(" ".join(self.sel.css("h1 ::text").getall()))) if h}
                unnamed = [node for node in unnamed
                           if any(_fold(_ld_text(node.get("headline")) or "-") in h for h in headings)]
            own = own or unnamed
            self._jsonld = own[0] if own else {}
        return self._jsonld

    def _ld_urls(self, node: dict) -> set[str]:
        values = [node.get("url"), node.get("@id"), node.get("mainEntityOfPage")]
        urls = set()
        for value in values:
            for one in value if isinstance(value, list) else [value]:
                if isinstance(one, dict):
                    one = one.get("@id") or one.get("url")
                if isinstance(one, str) and one.strip():
                    url = _absolute(self.url, one)
                    if url:
                        urls.add(url)
        return urls

    def _elsewhere(self, url: str) -> bool:
        host = (urlsplit(url).hostname or "").removeprefix("www.")
        return host not in self.outlet.domains or self.outlet.is_article_url(url)

    def _absolute_meta(self, name: str) -> str | None:
        value = self.meta(name)
        return _absolute(self.url, value) if value else None

    def jsonld(self, key: str) -> str | None:
        return _ld_text(self._article_ld().get(key))

    def jsonld_author(self) -> str | None:
        author = self._article_ld().get("author")
        people = author if isinstance(author, list) else [author] if author else []
        names = [_ld_text(p.get("name")) if isinstance(p, dict) else _ld_text(p) for p in people]
        return ", ".join(n for n in names if n) or None

    def jsonld_keywords(self) -> list[str]:
        keywords = self._article_ld().get("keywords")
        if isinstance(keywords, str):
            keywords = keywords.split(",")
        if not isinstance(keywords, list):
            return []
        return [k.strip() for k in keywords if isinstance(k, str) and k.strip()]

    # -- meta tags
    def meta(self, name: str) -> str | None:
        value = self.sel.css(f'meta[property="{name}"]::attr(content), meta[name="{name}"]::attr(content)').get()
        return _clean(value)

    def meta_all(self, name: str) -> list[str]:
        return [v.strip() for v in self.sel.css(f'meta[property="{name}"]::attr(content)').getall() if v.strip()]

    def canonical_link(self) -> str | None:
        href = self.sel.css('link[rel="canonical"]::attr(href)').get()
        if href and self.outlet.is_article_url(canonical_url(href)):
            return canonical_url(href)
        return None

    def html_lang(self) -> str | None:
        lang = self.sel.css("html::attr(lang)").get()
        return lang.split("-")[0].lower() if lang else None

    def media_kind(self) -> str | None:
        for kind in ("video", "audio", "photo"):
            if self._select(self.outlet.media.get(kind)):
                return kind
        og_type = self.meta("og:type") or ""
        if og_type.startswith("video") or "VideoObject" in str(self._article_ld().get("@type")):
            return "video"
        return None

    # -- generic extractors, last resort
    def trafilatura_body(self, drop) -> str | None:
        tree = load_html(self.text)  # parsed as trafilatura parses a page itself
        if tree is None:
            return None
        _drop_boilerplate(tree, self.outlet, self.url)
        prune = [GenericTranslator().css_to_xpath(css) for css in drop]
        text = trafilatura.extract(tree, url=self.url, include_comments=False, include_tables=False,
                                   favor_precision=True, prune_xpath=prune or None)
        # trafilatura ends each paragraph with one newline; the selectors give blank-line breaks.
        return "\n\n".join(line for line in text.splitlines() if line.strip()) if text else None

    def trafilatura_meta(self, key: str) -> str | None:
        if self._traf is None:
            self._traf = trafilatura.extract_metadata(self.text, default_url=self.url)
        return _clean(getattr(self._traf, key, None)) if self._traf else None

    def trafilatura_author(self, byline: str | None) -> str | None:
        # An outlet's byline element that is on the page but empty says the item has no
        # author; trafilatura would guess from a neighbour instead (the weekday of the
        # ".author-time" date line: "Thứ Sáu"). Guess only when the byline element is missing.
        if self._select(byline):
            return None
        return self.trafilatura_meta("author")

    def htmldate(self, original: bool) -> str | None:
        """htmldate over the page without its related boxes, sidebars, link lists and JSON-LD
        (the article's own JSON-LD node was read before; another item's must not give a date).
        extensive_search=False: markup only, never a date picked out of the prose."""
        tree = load_html(self.text)
        if tree is None:
            return None
        for node in tree.xpath('//script[@type="application/ld+json"]'):
            node.drop_tree()
        for css in self.outlet.selectors.get("drop", ()):
            for node in tree.cssselect(css):
                node.drop_tree()
        for node in [n for n in tree.iter(*BOX_TAGS, "article") if _is_foreign_block(n)]:
            if _inside(node, tree):
                node.drop_tree()
        body = tree.find("body")
        if body is not None:
            _drop_boilerplate(body, self.outlet, self.url)
        return htmldate.find_date(tree, extensive_search=False, original_date=original,
                                  outputformat="%Y-%m-%dT%H:%M:%S%z")

    # -- what a title is not
    def not_a_title(self, title: str, method: str, fields: dict) -> str | None:
        """Why `title` is not the item's title (None when it is one): the site's name, or
        (from a source other than the outlet's own title element) the lead or first
        paragraph standing in for a missing title."""
        folded = _fold(_NOT_WORD.sub(" ", title))
        for name in self.site_names():
            # "Báo Gia Lai điện tử" is the name "Báo Gia Lai" with a word or two after it
            if folded == name or folded.startswith(name + " ") and len(folded.split()) - len(name.split()) <= 2:
                return "the site's name"
        label = _RELATED_LABEL.match(folded)
        if label and label.end() == len(folded):
            return "a related-news box's label"
        if method == "selector":
            return None  # the outlet's heading element: a heading even when the lead repeats it
        first = (fields.get("body") or "").split("\n\n")[0]
        folded = self._comparable(title)  # "(GLO)- …" taken from the lead is still the lead
        for name, text in (("lead", fields.get("lead")), ("first paragraph", first)):
            if not text:
                continue
            other = self._comparable(text)
            if other and (folded == other or len(folded) >= LONG_TITLE_CHARS and other.startswith(folded)):
                return f"the {name}"
        return None

    def _comparable(self, text: str) -> str:
        if self.outlet.lead_prefix:
            text = self.outlet.lead_prefix.sub("", text, count=1)
        return _fold(_NOT_WORD.sub(" ", text))

    def site_names(self) -> set[str]:
        """The site's name in every form the page gives it, folded: the registry's name,
        og:site_name, application-name, the link text to the home page, the parts of <title>
        that are not the item's, and the domain."""
        names = {self.outlet.name, self.meta("og:site_name"), self.meta("application-name")}
        home = _absolute(self.outlet.home, "")
        # lxml's elements, not a parsel Selector per link: every link of every page is read
        for anchor in self.sel.root.xpath("//a[@href]"):
            if _absolute(self.url, anchor.get("href", "")) == home:
                names.add(_clean(" ".join(anchor.xpath("descendant-or-self::text()"))))
        title = _clean(self.sel.css("title::text").get()) or ""
        parts = _TITLE_SEPARATOR.split(title)
        if len(parts) > 1:
            names.update(parts[1:])
        names.update(self.outlet.domains)
        names.update(f"www.{d}" for d in self.outlet.domains)
        folded = {_fold(_NOT_WORD.sub(" ", n)) for n in names if n}
        return {n for n in folded if n and n not in _HOME_WORDS}

    def body_container_is_empty(self, spec: str | None) -> bool:
        matched = self._select(spec)
        return bool(matched) and not _letters(" ".join(matched[0].css("::text").getall()))

    def body_container(self, spec: str | None):
        matched = self._select(spec)
        return matched[0].root if matched and not isinstance(matched[0].root, str) else None


def _not_in_the_future(published: str | None) -> str | None:
    """A publication date after tomorrow is a template's or an editor's mistake, not the
    item's date: none (the page's raw text is kept, and the crawl records a bad date)."""
    if published and datetime.fromisoformat(published) > datetime.now(VIETNAM) + FUTURE_SLACK:
        return None
    return published


def _ld_types(node: dict) -> set[str]:
    types = node.get("@type")
    return {t for t in (types if isinstance(types, list) else [types]) if isinstance(t, str)}


def _ld_text(value) -> str | None:
    """A JSON-LD value as text, whatever its shape: "…", ["…"], {"name": "…"}, {"@value": "…"}."""
    if isinstance(value, str):
        return _clean(value)
    if isinstance(value, list):
        return next((text for text in map(_ld_text, value) if text), None)
    if isinstance(value, dict):
        return _ld_text(value.get("name") or value.get("@value") or value.get("text"))
    return None


def _ld_nodes(data):
    if isinstance(data, list):
        for item in data:
            yield from _ld_nodes(item)
    elif isinstance(data, dict):
        yield data
        graph = data.get("@graph")
        if isinstance(graph, (list, dict)):
            yield from _ld_nodes(graph)


def _paragraphs(element) -> str | None:
    blocks = [node for node in element.iter(*BLOCK_TAGS)
              if not any(parent.tag in BLOCK_TAGS for parent in node.iterancestors())]
    texts = [_clean(node.text_content()) for node in blocks] if blocks else [_clean(element.text_content())]
    return "\n\n".join(t for t in texts if t) or None


def _drop_boilerplate(root, outlet: Outlet, page_url: str) -> None:
    """Remove from `root` (never `root` itself) every block that is not the item's own text:
    a list of links to the outlet's other articles, a related-news label with the links that
    follow it or share its block, a share or print bar, a photo credit.

    Blocks are visited innermost first, so a box is judged by its own links, never by those of
    the article around it; a block holding the article's prose has its box removed first and
    is then judged by its prose. A body left under MIN_BODY_CHARS makes the page an error.
    """
    is_article = _article_link_test(outlet, page_url)
    for block in reversed(list(root.iter(*BOX_TAGS))):
        if block is root or not _inside(block, root):
            continue
        # A block's text changes only when the block goes: read once for all the tests.
        text = _text(block)
        letters = _letters(text)
        label = _label_letters(text)
        if label and label == letters:
            _drop_label_and_its_list(block, root)
        elif _is_boilerplate(block, text, letters, label, is_article):
            block.drop_tree()


def _is_boilerplate(block, text: str, letters: int, label: int, is_article) -> bool:
    """Links to the outlet's other articles; a label and links; a share bar; a photo credit."""
    return (_is_link_list(block, is_article, letters)
            or label > 0 and _is_link_list(block, _any_link, letters - label)
            or _is_share_bar(text) or _is_photo_credit(block, text))


def _article_link_test(outlet: Outlet, page_url: str):
    """Whether a link opens another article of the outlet (not the page itself)."""
    own = _absolute(page_url, "")
    known: dict[str, bool] = {}  # a link is met once per block around it

    def is_article(anchor) -> bool:
        href = anchor.get("href") or ""
        if href not in known:
            url = _absolute(page_url, href)
            known[href] = bool(url) and url != own and outlet.is_article_url(url)
        return known[href]
    return is_article


def _absolute(page_url: str, href: str) -> str | None:
    """The canonical URL a link opens, None for mailto:, javascript: or a malformed one."""
    href = href.strip()
    if _ORIGIN_ENOUGH.match(href):
        # The same link on every page of a site opens the same URL: worked out once (menus
        # and footers repeat on every page).
        try:
            parts = urlsplit(page_url)
        except ValueError:
            return None
        if parts.scheme in ("http", "https"):
            page_url = f"{parts.scheme}://{parts.netloc}/"
    return _joined(page_url, href)


# A link that urljoin resolves from the page's scheme and host alone, never its path or query:
# a path from the root ("/…"), or a host ("//host…", "scheme://host…"). urljoin removes tabs
# and line breaks first: a link with any is left to the page's own URL.
_ORIGIN_ENOUGH = re.compile(r"(?![^\t\r\n]*[\t\r\n])(?:/(?!/)|(?:[A-Za-z][A-Za-z0-9+.-]*:)?//[^/?#])")


@functools.lru_cache(maxsize=8192)
def _joined(base: str, href: str) -> str | None:
    try:
        url = urljoin(base, href)
        return canonical_url(url) if urlsplit(url).scheme in ("http", "https") else None
    except ValueError:
        return None


def _any_link(anchor) -> bool:
    return bool((anchor.get("href") or "").strip())


def _is_link_list(block, counts, letters: int) -> bool:
    """Whether links that `counts` hold LINK_LIST_SHARE of `letters`, the block's letters and
    digits (less its label's)."""
    if letters <= 0:
        return False
    linked = sum(_letters(_text(a)) for a in block.iter("a") if counts(a))
    return linked >= LINK_LIST_SHARE * letters


def _label_letters(text: str) -> int:
    """Letters and digits of the related-news label a block's text starts with; 0 without one."""
    found = _RELATED_LABEL.match(_fold(text[:LABEL_SEARCH_CHARS]))
    return _letters(found.group()) if found else 0


def _drop_label_and_its_list(label, root) -> None:
    """A label alone ("Tin liên quan:") heads the link lists right after it, whatever their
    links open (a portal's box may list another site's news)."""
    while label.getparent() is not None and label.getparent() is not root \
            and _letters(_text(label.getparent())) == _letters(_text(label)):
        label = label.getparent()  # "<tr><td><b>Tin liên quan</b></td></tr>" is one label
    while not _letters(label.tail or ""):
        follower = label.getnext()
        if follower is None:
            break
        letters = _letters(_text(follower))
        if letters and not _is_link_list(follower, _any_link, letters):
            break
        follower.drop_tree()  # its tail joins the label's, and is checked next
    label.drop_tree()


def _is_share_bar(text: str) -> bool:
    if len(text) > SHORT_BLOCK_CHARS:
        return False
    rest, found = _SHARE_WORD.subn("", _fold(text))
    return found > 0 and not any(c.isalpha() for c in rest)


def _is_photo_credit(block, text: str) -> bool:
    """A caption is a block of its own: a block around other blocks is never one, so a short
    item's prose cannot go with a credit at its end."""
    if next(block.iterdescendants(*BOX_TAGS), None) is not None:
        return False
    text = _clean(unicodedata.normalize("NFC", text)) or ""
    return len(text) <= SHORT_BLOCK_CHARS and bool(PHOTO_CREDIT.search(text))


def _inside(node, root) -> bool:
    """False for a node in a subtree already removed."""
    while node is not None and node is not root:
        node = node.getparent()
    return node is root


def _text(node) -> str:
    return node.text_content() if isinstance(node.tag, str) else ""  # a comment has no text


def _letters(text: str) -> int:
    return len(_NOT_LETTER.sub("", text))


class _WithoutMarks(dict):
    """A str.translate table that deletes combining marks, filled as characters are met: one
    C-level pass per text instead of a Python step per character."""

    def __missing__(self, code: int) -> int | None:
        kept = None if unicodedata.combining(chr(code)) else code
        self[code] = kept
        return kept


_WITHOUT_MARKS = _WithoutMarks()


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return " ".join(text.translate(_WITHOUT_MARKS).lower().split())


def _words_pattern(words) -> str:
    return "|".join(r"\s+".join(map(re.escape, _fold(w).split()))
                    for w in sorted(words, key=len, reverse=True))


_NOT_LETTER = re.compile(r"[\W_]+")  # what _letters leaves out: all but letters and digits
_RELATED_LABEL = re.compile(rf"^\W*(?:{_words_pattern(RELATED_LABELS)})\b[\W_]*")
_SHARE_WORD = re.compile(rf"\b(?:{_words_pattern(SHARE_WORDS)})\b")


def _without_repeated_fields(body: str, fields: dict) -> str:
    """A generic extractor keeps the heading and summary above the text and the byline below
    it; the fields already hold them, so the body should not repeat them."""
    paragraphs = body.split("\n\n")
    heads = {_clean(fields.get("title")), _clean(fields.get("lead"))} - {None}
    while paragraphs and _clean(paragraphs[0]) in heads:
        paragraphs.pop(0)
    if paragraphs and fields.get("author") and _clean(paragraphs[-1]) == _clean(fields["author"]):
        paragraphs.pop()
    return "\n\n".join(paragraphs)


def _clean(value) -> str | None:
    if not isinstance(value, str):
        return None
    value = re.sub(r"\s+", " ", value).strip()
    return value or None
