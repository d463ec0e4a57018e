"""One article page into fields, the way its outlet's registry entry says.

Each field is taken from the first source that has it: the outlet's CSS selectors, then the
page's JSON-LD, then OpenGraph / article meta tags, then trafilatura (body, title, author) or
htmldate (dates from markup only). `methods` records which source gave each field, so a
layout change shows up as a field falling back to a weaker source.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

import htmldate
import trafilatura
from cssselect import GenericTranslator
from trafilatura.utils import load_html
from w3lib.encoding import html_to_unicode
from lxml import html as lxml_html
from parsel import Selector

from pressmon.crawlers.dates import parse_date
from pressmon.crawlers.registry import Outlet
from pressmon.crawlers.urls import canonical_url

MIN_BODY_CHARS = 80
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
    """The fields of a fetched page, from its bytes and its HTTP Content-Type header."""
    _, text = html_to_unicode(content_type, body)  # as Scrapy's response.text decodes it
    return extract_article(text, url, outlet)


def extract_article(page: str | bytes, url: str, outlet: Outlet) -> Extraction:
    text = page.decode("utf-8", errors="replace") if isinstance(page, bytes) else page
    page_sel = Selector(text=text)
    found = _Sources(page_sel, text, url, outlet)
    result = Extraction(fields={})

    def take(name, *candidates):
        for method, getter in candidates:
            value = getter()
            if value:
                result.fields[name] = value
                result.methods[name] = method
                return value
        result.fields[name] = None
        return None

    sel = outlet.selectors
    take("url", ("canonical-link", found.canonical_link), ("fetched", lambda: canonical_url(url)))
    take("title", ("selector", lambda: _clean(found.css_text(sel.get("title")))),
         ("json-ld", lambda: found.jsonld("headline")),
         ("opengraph", lambda: found.meta("og:title")),
         ("trafilatura", lambda: found.trafilatura_meta("title")))
    take("lead", ("selector", lambda: _clean(found.css_text(sel.get("lead")))),
         ("json-ld", lambda: found.jsonld("description")),
         ("opengraph", lambda: found.meta("og:description")),
         ("meta", lambda: found.meta("description")))
    take("body", ("selector", lambda: found.css_body(sel.get("body"), sel.get("drop", ()))),
         ("json-ld", lambda: found.jsonld("articleBody")),
         ("trafilatura", lambda: found.trafilatura_body(sel.get("drop", ()))))
    take("author", ("selector", lambda: _clean(found.css_text(sel.get("author")))),
         ("json-ld", found.jsonld_author),
         ("meta", lambda: found.meta("author")),
         ("trafilatura", lambda: found.trafilatura_author(sel.get("author"))))
    take("section", ("selector", lambda: _clean(found.css_text(sel.get("section")))),
         ("json-ld", lambda: _first(found.jsonld("articleSection"))),
         ("opengraph", lambda: found.meta("article:section")))
    take("tags", ("selector", lambda: found.css_list(sel.get("tags"))),
         ("json-ld", found.jsonld_keywords),
         ("opengraph", lambda: found.meta_all("article:tag")))
    raw_published = take("published_raw",
                         ("selector", lambda: _clean(found.css_text(sel.get("published")))),
                         ("json-ld", lambda: found.jsonld("datePublished")),
                         ("opengraph", lambda: found.meta("article:published_time")),
                         ("htmldate", lambda: found.htmldate(original=True)))
    result.fields["published_at"] = parse_date(raw_published)
    if raw_published:
        result.methods["published_at"] = result.methods["published_raw"]
    raw_modified = take("modified_raw",
                        ("selector", lambda: _clean(found.css_text(sel.get("modified")))),
                        ("json-ld", lambda: found.jsonld("dateModified")),
                        ("opengraph", lambda: found.meta("article:modified_time")))
    result.fields["modified_at"] = parse_date(raw_modified)
    result.fields.pop("modified_raw")
    if raw_modified:
        result.methods["modified_at"] = result.methods.pop("modified_raw")
    take("media_kind", ("selector", found.media_kind), ("default", lambda: "text"))
    take("language", ("html-lang", found.html_lang), ("registry", lambda: outlet.language))
    result.fields["tags"] = result.fields["tags"] or []

    if result.fields["lead"] and outlet.lead_prefix:
        result.fields["lead"] = outlet.lead_prefix.sub("", result.fields["lead"], count=1).strip() or None
    if result.methods.get("body") == "trafilatura":
        result.fields["body"] = _without_repeated_fields(result.fields["body"], result.fields)
    if not result.fields["title"]:
        raise ExtractionError("no title found (selectors, JSON-LD, OpenGraph, trafilatura)")
    if not result.fields["body"] or len(result.fields["body"]) < MIN_BODY_CHARS:
        raise ExtractionError(f"no article body found (under {MIN_BODY_CHARS} characters)")
    return result


class _Sources:
    """Lazy access to everything a page offers; each source is parsed at most once."""

    def __init__(self, sel: Selector, text: str, url: str, outlet: Outlet):
        self.sel, self.text, self.url, self.outlet = sel, text, url, outlet
        self._jsonld = self._traf = None

    # -- CSS selectors from the registry
    def _select(self, spec: str | None):
        if not spec:
            return []
        for one in (s.strip() for s in spec.split(",")):
            matched = self.sel.css(one)
            if matched:
                return matched
        return []

    def css_text(self, spec: str | None) -> str | None:
        matched = self._select(spec)
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
        if self._jsonld is None:
            self._jsonld = {}
            for raw in self.sel.css('script[type="application/ld+json"]::text').getall():
                try:
                    data = json.loads(raw)
                except ValueError:
                    continue
                for node in _ld_nodes(data):
                    types = node.get("@type")
                    types = set(types) if isinstance(types, list) else {types}
                    if types & ARTICLE_TYPES and "headline" in node or "VideoObject" in types:
                        self._jsonld = node
                        break
                if self._jsonld:
                    break
        return self._jsonld

    def jsonld(self, key: str):
        value = self._article_ld().get(key)
        return _clean(value) if isinstance(value, str) else value

    def jsonld_author(self) -> str | None:
        author = self._article_ld().get("author")
        people = author if isinstance(author, list) else [author] if author else []
        names = [p.get("name") if isinstance(p, dict) else p for p in people]
        return ", ".join(n.strip() for n in names if isinstance(n, str) and n.strip()) or None

    def jsonld_keywords(self) -> list[str]:
        keywords = self._article_ld().get("keywords")
        if isinstance(keywords, str):
            keywords = keywords.split(",")
        return [k.strip() for k in keywords or [] if isinstance(k, str) and k.strip()]

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
        # extensive_search=False: markup only, never a date picked out of the prose.
        return htmldate.find_date(self.text, extensive_search=False, original_date=original,
                                  outputformat="%Y-%m-%dT%H:%M:%S%z")


def _ld_nodes(data):
    if isinstance(data, list):
        for item in data:
            yield from _ld_nodes(item)
    elif isinstance(data, dict):
        yield data
        for item in data.get("@graph", []):
            yield from _ld_nodes(item)


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
        label = _label_letters(block)
        if label and label == _letters(_text(block)):
            _drop_label_and_its_list(block, root)
        elif _is_boilerplate(block, label, is_article):
            block.drop_tree()


def _is_boilerplate(block, label: int, is_article) -> bool:
    """Links to the outlet's other articles; a label and links; a share bar; a photo credit."""
    return (_is_link_list(block, is_article)
            or label > 0 and _is_link_list(block, _any_link, ignored=label)
            or _is_share_bar(block) or _is_photo_credit(block))


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
    try:
        url = urljoin(page_url, href.strip())
        return canonical_url(url) if urlsplit(url).scheme in ("http", "https") else None
    except ValueError:
        return None


def _any_link(anchor) -> bool:
    return bool((anchor.get("href") or "").strip())


def _is_link_list(block, counts, ignored: int = 0) -> bool:
    """Whether links that `counts` hold LINK_LIST_SHARE of the block's letters and digits,
    less `ignored` of them (its label)."""
    letters = _letters(_text(block)) - ignored
    if letters <= 0:
        return False
    linked = sum(_letters(_text(a)) for a in block.iter("a") if counts(a))
    return linked >= LINK_LIST_SHARE * letters


def _label_letters(block) -> int:
    """Letters and digits of the related-news label the block starts with; 0 without one."""
    found = _RELATED_LABEL.match(_fold(_text(block)[:LABEL_SEARCH_CHARS]))
    return _letters(found.group()) if found else 0


def _drop_label_and_its_list(label, root) -> None:
    """A label alone ("Tin liên quan:") heads the link lists right after it, whatever their
    links open (a portal's box may list another site's news)."""
    while label.getparent() is not None and label.getparent() is not root \
            and _letters(_text(label.getparent())) == _letters(_text(label)):
        label = label.getparent()  # "<tr><td><b>Tin liên quan</b></td></tr>" is one label
    while not _letters(label.tail or ""):
        follower = label.getnext()
        if follower is None or _letters(_text(follower)) and not _is_link_list(follower, _any_link):
            break
        follower.drop_tree()  # its tail joins the label's, and is checked next
    label.drop_tree()


def _is_share_bar(block) -> bool:
    text = _text(block)
    if len(text) > SHORT_BLOCK_CHARS:
        return False
    rest, found = _SHARE_WORD.subn("", _fold(text))
    return found > 0 and not any(c.isalpha() for c in rest)


def _is_photo_credit(block) -> bool:
    """A caption is a block of its own: a block around other blocks is never one, so a short
    item's prose cannot go with a credit at its end."""
    if next(block.iterdescendants(*BOX_TAGS), None) is not None:
        return False
    text = _clean(unicodedata.normalize("NFC", _text(block))) or ""
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


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFD", text.replace("đ", "d").replace("Đ", "D"))
    return " ".join("".join(c for c in text if not unicodedata.combining(c)).lower().split())


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


def _first(value):
    return value[0] if isinstance(value, list) and value else value


def _clean(value) -> str | None:
    if not isinstance(value, str):
        return None
    value = re.sub(r"\s+", " ", value).strip()
    return value or None
