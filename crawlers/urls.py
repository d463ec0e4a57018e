"""Canonical article URLs: one row per article however a link was decorated."""

from courlan import normalize_url


def canonical_url(url: str) -> str:
    """Lower-cased scheme and host, default port, fragment and tracking parameters
    (utm_*, fbclid, gclid, …) dropped; the remaining query kept in order."""
    return normalize_url(url.strip(), strict=True)
