"""One article page into fields, the way its outlet's registry entry says.

Each field is taken from the first source that has it: the outlet's CSS selectors, then the
page's JSON-LD, then OpenGraph / article meta tags, then trafilatura (body, title, author) or
htmldate (dates from markup only). `methods` records which source gave each field, so a
layout change shows up as a field falling back to a weaker source.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

import htmldate
import trafilatura
from cssselect import GenericTranslator
from lxml import html as lxml_html
from parsel import Selector

from pressmon.crawlers.dates import parse_date
from pressmon.crawlers.registry import Outlet
from pressmon.crawlers.urls import canonical_url

MIN_BODY_CHARS = 80
BLOCK_TAGS = ("p", "h2", "h3", "h4", "h5", "li", "blockquote", "pre")
ARTICLE_TYPES = {"NewsArticle", "Article", "ReportageNewsArticle", "BlogPosting", "VideoObject",
                 "AnalysisNewsArticle", "WebPage"}


class ExtractionError(Exception):
    """The page is not an article we can read: nothing is stored for it."""


@dataclass
class Extraction:
    fields: dict
    methods: dict = field(default_factory=dict)

    def as_dict(self) -> dict:
        return {**self.fields, "methods": dict(self.methods)}


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
        prune = [GenericTranslator().css_to_xpath(css) for css in drop]
        text = trafilatura.extract(self.text, url=self.url, include_comments=False, include_tables=False,
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
