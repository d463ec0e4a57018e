"""The canary, the Fundus way: fetch one fresh article per outlet from the live site and check
that each field still extracts the way the registry says.

The fetch goes through the outlet's own spider (crawlers/fetch.py): its discovery finds the
newest article (feeds, then sitemaps, then listings) and the crawl's politeness applies. A
field whose outlet selector no longer matches but that a weaker source (JSON-LD, OpenGraph,
trafilatura) still fills is a warning; a core field (title, body, publication date) that
nothing fills, a page that no longer extracts, or no article found at all is a failure.
"""

from __future__ import annotations

from pressmon.crawlers.fetch import Fetched, newest_articles
from pressmon.crawlers.registry import Outlet, load_registry

CORE_FIELDS = ("title", "body", "published_at")
# Registry selector name → extraction field.
SELECTOR_TO_FIELD = {"title": "title", "lead": "lead", "body": "body", "author": "author",
                     "section": "section", "tags": "tags", "published": "published_at",
                     "modified": "modified_at"}
# Fields many articles legitimately lack (never edited; no tags): not reported when empty.
OPTIONAL_FIELDS = ("modified_at", "tags")
STATUS_LABELS = {"ok": "ổn", "warning": "cần xem", "failed": "hỏng"}


def check_outlet(outlet: Outlet, fetched: Fetched) -> dict:
    """{"outlet_id", "name", "status" (ok|warning|failed), "url", "found_in", "missing" (fields
    nothing extracts), "fallback" {field: method} (selector no longer matches), "problems"}."""
    url, found_in = fetched.newest or (None, None)
    problems = [f"{e['url']}: {e['kind']}: {e['detail']}" for e in fetched.errors]
    report = {"outlet_id": outlet.id, "name": outlet.name, "status": "ok", "url": url, "found_in": found_in,
              "missing": [], "fallback": {}, "problems": problems}
    if url is None:
        report.update(status="failed", problems=problems + ["không tìm thấy bài mới nhất"])
        return report
    if not fetched.articles:  # the one page fetched did not extract: its error is in problems
        report.update(status="failed", problems=problems or [f"{url}: không trích xuất được"])
        return report
    article = fetched.articles[0]
    methods = article.get("methods") or {}
    expected = (set(CORE_FIELDS) | {SELECTOR_TO_FIELD[s] for s in outlet.selectors if s in SELECTOR_TO_FIELD}) \
        - set(OPTIONAL_FIELDS)
    report["missing"] = sorted(f for f in expected if not article.get(f))
    report["fallback"] = {SELECTOR_TO_FIELD[s]: methods.get(SELECTOR_TO_FIELD[s])
                          for s in sorted(outlet.selectors) if s in SELECTOR_TO_FIELD
                          and article.get(SELECTOR_TO_FIELD[s]) and methods.get(SELECTOR_TO_FIELD[s]) != "selector"}
    if set(report["missing"]) & set(CORE_FIELDS):
        report["status"] = "failed"
    elif report["missing"] or report["fallback"]:
        report["status"] = "warning"
    return report


def run_canary(outlet_ids: list[str] | None = None, mirror: str | None = None,
               politeness_scale: float = 1.0) -> list[dict]:
    """One report per outlet (all by default). LookupError for an unknown outlet id."""
    registry = load_registry()
    unknown = [o for o in (outlet_ids or ()) if o not in registry]
    if unknown:
        raise LookupError(f"unknown outlet(s): {', '.join(unknown)}; known: {', '.join(registry)}")
    outlet_ids = list(outlet_ids or registry)
    fetched = newest_articles(outlet_ids, mirror, politeness_scale)
    return [check_outlet(registry[o], fetched[o]) for o in outlet_ids]


def render_canary(reports: list[dict]) -> str:
    lines = ["# Kiểm tra trích xuất (canary)", ""]
    for r in sorted(reports, key=lambda r: ({"failed": 0, "warning": 1, "ok": 2}[r["status"]], r["outlet_id"])):
        lines.append(f"- **{r['name']}** (`{r['outlet_id']}`): {STATUS_LABELS[r['status']]}"
                     + (f" — {r['url']}" if r["url"] else ""))
        if r["missing"]:
            lines.append(f"  - Không trích xuất được: {', '.join(r['missing'])}")
        if r["fallback"]:
            lines.append("  - Bộ chọn không còn khớp (lấy từ nguồn khác): "
                         + ", ".join(f"{f} ← {m}" for f, m in r["fallback"].items()))
        lines += [f"  - {p}" for p in r["problems"] if r["status"] == "failed"]
    failed = sum(r["status"] == "failed" for r in reports)
    lines += ["", f"{failed}/{len(reports)} nguồn hỏng." if failed else f"Cả {len(reports)} nguồn đều trích xuất được.",
              ""]
    return "\n".join(lines)
