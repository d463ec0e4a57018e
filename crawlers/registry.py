"""The outlet registry (`outlets.toml`) as typed objects.

An outlet inherits its CMS family's selectors and discovery shapes and overrides what differs,
so a new site of a known family is a registry entry, not code.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

REGISTRY_PATH = Path(__file__).with_name("outlets.toml")
SELECTOR_FIELDS = {"title", "lead", "body", "author", "published", "modified", "section", "tags", "drop"}


class RegistryError(ValueError):
    pass


@dataclass(frozen=True)
class Limits:
    """How much one night's crawl of an outlet may fetch: traps (a listing with a thousand
    links, a "load more" that never ends, a calendar of empty pages) are cut there, and the
    spider records an error row of kind `limit` naming the limit and the URL it was hit at.
    A real night stays far below them: Báo Gia Lai publishes about 150 articles a day, its
    listings show 20-60 links a page, and paging back stops at known articles or `since`."""

    max_listing_pages: int = 30  # pages of one section's listing (page 1 included)
    max_links_per_page: int = 300  # article links followed from one listing page
    max_pages_per_night: int = 5000  # pages one spider requests in a run (robots.txt aside)


LIMIT_FIELDS = tuple(Limits.__dataclass_fields__)


@dataclass(frozen=True)
class Outlet:
    id: str
    name: str
    kind: str
    family: str
    spider: str
    domains: tuple[str, ...]
    home: str
    language: str
    article_url: re.Pattern
    lead_prefix: re.Pattern | None
    rss: tuple[str, ...] = ()
    sitemaps: tuple[str, ...] = ()
    sections: tuple[str, ...] = ()
    listing_links: str | None = None
    next_page: str | None = None
    load_more: str | None = None
    selectors: dict = field(default_factory=dict)
    media: dict = field(default_factory=dict)
    download_delay: float = 1.0
    concurrency: int = 2
    limits: Limits = field(default_factory=Limits)

    @property
    def domain(self) -> str:
        return self.domains[0]

    def is_article_url(self, url: str) -> bool:
        return bool(self.article_url.match(url))

    def as_row(self) -> dict:
        return {"id": self.id, "name": self.name, "kind": self.kind, "family": self.family,
                "domain": self.domain, "home_url": self.home, "language": self.language}


def _outlet_from_entry(entry: dict, families: dict, kinds: dict, media_kinds: dict) -> Outlet:
    oid = entry.get("id") or "?"
    missing = [k for k in ("id", "name", "kind", "family", "domains", "home", "article_url") if k not in entry]
    if missing:
        raise RegistryError(f"outlet {oid}: missing {', '.join(missing)}")
    if entry["kind"] not in kinds:
        raise RegistryError(f"outlet {oid}: kind {entry['kind']!r} is not one of {sorted(kinds)}")
    family = families.get(entry["family"])
    if family is None:
        raise RegistryError(f"outlet {oid}: unknown family {entry['family']!r}")
    selectors = {**family.get("selectors", {}), **entry.get("selectors", {})}
    unknown = set(selectors) - SELECTOR_FIELDS
    if unknown:
        raise RegistryError(f"outlet {oid}: unknown selector fields {sorted(unknown)}")
    media = {**family.get("media", {}), **entry.get("media", {})}
    if set(media) - set(media_kinds):
        raise RegistryError(f"outlet {oid}: unknown media kinds {sorted(set(media) - set(media_kinds))}")
    politeness = entry.get("politeness", {})
    limits = entry.get("limits", {})
    unknown_limits = set(limits) - set(LIMIT_FIELDS)
    if unknown_limits:
        raise RegistryError(f"outlet {oid}: unknown limits {sorted(unknown_limits)}; known: {', '.join(LIMIT_FIELDS)}")
    bad = [k for k, v in limits.items() if not isinstance(v, int) or isinstance(v, bool) or v < 1]
    if bad:
        raise RegistryError(f"outlet {oid}: limits {', '.join(sorted(bad))} must be whole numbers of at least 1")
    return Outlet(
        id=oid,
        name=entry["name"],
        kind=entry["kind"],
        family=entry["family"],
        spider=family.get("spider", entry["family"]),
        domains=tuple(entry["domains"]),
        home=entry["home"],
        language=entry.get("language", "vi"),
        article_url=re.compile(entry["article_url"]),
        lead_prefix=re.compile(entry["lead_prefix"]) if entry.get("lead_prefix") else None,
        rss=tuple(entry.get("rss", ())),
        sitemaps=tuple(entry.get("sitemaps", ())),
        sections=tuple(entry.get("sections", ())),
        listing_links=entry.get("listing_links", family.get("listing_links")),
        next_page=entry.get("next_page", family.get("next_page")),
        load_more=entry.get("load_more", family.get("load_more")),
        selectors=selectors,
        media=media,
        download_delay=float(politeness.get("download_delay", 1.0)),
        concurrency=int(politeness.get("concurrency", 2)),
        limits=Limits(**limits),
    )


@lru_cache(maxsize=4)
def _read(path: Path) -> dict:
    with open(path, "rb") as f:
        data = tomllib.load(f)
    for table in ("kinds", "media_kinds"):
        if not data.get(table):
            raise RegistryError(f"{path}: no [{table}] table")
    return data


def outlet_kinds(path: Path = REGISTRY_PATH) -> dict[str, str]:
    """Kind id → Vietnamese label (newspaper → Báo), in the registry's order."""
    return dict(_read(path)["kinds"])


def media_kinds(path: Path = REGISTRY_PATH) -> dict[str, str]:
    """Media kind id → Vietnamese label (video → Video, audio → Âm thanh)."""
    return dict(_read(path)["media_kinds"])


@lru_cache(maxsize=4)
def load_registry(path: Path = REGISTRY_PATH) -> dict[str, Outlet]:
    data = _read(path)
    families = data.get("families", {})
    outlets = [_outlet_from_entry(e, families, data["kinds"], data["media_kinds"]) for e in data.get("outlets", [])]
    ids = [o.id for o in outlets]
    if len(ids) != len(set(ids)):
        raise RegistryError("duplicate outlet ids in the registry")
    return {o.id: o for o in outlets}


def outlet_for_url(url: str) -> Outlet | None:
    """The outlet whose domain is the longest suffix of the URL's host (snnmt.gialai.gov.vn
    is its own outlet, not a page of gialai.gov.vn)."""
    host = (urlsplit(url).hostname or "").lower()
    best, best_len = None, 0
    for outlet in load_registry().values():
        for domain in outlet.domains:
            if (host == domain or host.endswith("." + domain)) and len(domain) > best_len:
                best, best_len = outlet, len(domain)
    return best


def all_domains() -> set[str]:
    return {d for o in load_registry().values() for d in o.domains}
