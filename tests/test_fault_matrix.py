"""The fault matrix: a real crawl of a hostile copy of baogialai.com.vn (tests/hostile_site.py).

One crawl (`pressmon crawl --outlet baogialai --mirror URL`, a process of its own) against a
loopback server with every fault kind of issue 10; then each kind is checked against its
expected outcome — an error row of the right kind at the page's real URL with a detail a
person understands, or a correct article — and the whole against the invariants: no wrong
article, no fetched fault page without a record, every good article stored and none
overwritten, traps bounded by the registry's limits, the outlet not stalled by hung URLs,
memory bounded. The matrix (kind → expected → observed) is printed and written to
`fault_matrix.md` in the test's temporary folder (and to $PRESSMON_FAULT_MATRIX when set).

The crawl runs with the registry's delays × 0.05 (the server is ours; article pages then time
out after 2 s, and the hung URLs hold their connection for a minute) and the registry's limits;
the bombs are 16 MiB inflated (over the 5 MiB caps; benchmarks/hostile_crawl.py uses full size).
"""

from __future__ import annotations

import os
import re
import resource
import subprocess
import time
from itertools import pairwise
from pathlib import Path

import pytest
from conftest import TEST_SCALE, pressmon, query
from hostile_site import (
    ANY_DESCRIBED,
    CANONICAL_VICTIM,
    FEED_ONLY,
    RETRY_AFTER,
    SITE,
    serve_hostile,
    trap_article,
)

HANG_SECONDS = 60
ARTICLE_PATH = re.compile(r"^/[a-z0-9-]+-post\d+\.html$")
MOJIBAKE = re.compile("\ufffd|Ã.|Æ°|á»|Ä‘|Ä\u0090|Ì\u0081|\x00")


def run_hostile_crawl(db: Path, base_url: str, scale: str = TEST_SCALE,
                      limit: float = 240) -> tuple[subprocess.CompletedProcess, float, int]:
    """`pressmon crawl` of baogialai against `base_url`: (result, seconds, the largest peak RSS
    of any child process so far, in KiB)."""
    started = time.monotonic()
    result = pressmon("crawl", "--db", str(db), "--outlet", "baogialai", "--mirror", base_url,
                      "--politeness-scale", scale, "--no-progress", timeout=limit)
    return result, time.monotonic() - started, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss


def normalized(text):
    from pressmon.nlp.normalize import normalize_text

    return normalize_text(text)


def table_exists(db, name) -> bool:
    return bool(query(db, "select 1 from sqlite_master where name = ?", [name]))


class Observed:
    """What the crawl left: articles, aliases and error rows by URL, and what the server saw."""

    def __init__(self, db: Path, server):
        self.db = db
        self.articles = {r[0]: dict(zip(("url", "id", "title", "lead", "body", "published_at"), r))
                         for r in query(db, "select url, id, title, lead, body, published_at from articles")}
        self.aliases = dict(query(db, "select url, article_id from article_aliases")) if table_exists(
            db, "article_aliases") else {}
        self.errors: dict[str, list[tuple[str, str]]] = {}
        for url, kind, detail in query(db, "select url, kind, detail from crawl_errors"):
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
    if kinds == ANY_DESCRIBED:
        fitting = [(k, d) for k, d in rows if k not in ("other", "ignored")]
    else:
        fitting = [(k, d) for k, d in rows if k in kinds]
    if not fitting:
        return [f"no {'/'.join(kinds) if kinds != ANY_DESCRIBED else 'described'} error row"], seen
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


def judge(fault, obs: Observed, site) -> tuple[bool, str]:
    """(passed, what was observed) for one fault kind."""
    url = fault.url
    row = obs.articles.get(url)
    expect = fault.expect
    if expect == "error":
        problems, seen = error_problems(obs, fault.error_url or url, fault.errors, fault.detail_has)
        if row is not None:
            problems.insert(0, f"stored as an article ({row['title'][:40]!r})")
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
            gap, wait = hits[1][2] - hits[0][3], RETRY_AFTER * float(TEST_SCALE)
            if gap < wait - 0.1:
                problems.append(f"retried {gap:.2f} s after a 429 asking for {RETRY_AFTER} s ({wait:g} s at this scale)")
        return not problems, "; ".join(problems) or (
            f"article, retried {hits[1][2] - hits[0][3]:.1f} s after the 429 ({RETRY_AFTER} s × {TEST_SCALE})")
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


@pytest.fixture(scope="module")
def hostile_crawl(tmp_path_factory, topic_model):
    server, base_url = serve_hostile(hang_seconds=HANG_SECONDS)
    db = tmp_path_factory.mktemp("hostile") / "hostile.db"
    try:
        result, seconds, max_rss_kib = run_hostile_crawl(db, base_url)
    finally:
        server.shutdown()
        server.server_close()
    assert db.exists(), result.stderr[-3000:]
    obs = Observed(db, server)
    rows = [(fault, *judge(fault, obs, server.site)) for fault in server.site.faults]
    matrix = render(rows, seconds, max_rss_kib)
    out = db.parent / "fault_matrix.md"
    out.write_text(matrix, encoding="utf-8")
    if os.environ.get("PRESSMON_FAULT_MATRIX"):
        Path(os.environ["PRESSMON_FAULT_MATRIX"]).write_text(matrix, encoding="utf-8")
    print(f"\n{matrix}\n(written to {out})")
    return {"server": server, "obs": obs, "rows": rows, "result": result, "seconds": seconds,
            "max_rss_kib": max_rss_kib, "db": db}


def render(rows, seconds: float, max_rss_kib: int) -> str:
    lines = ["| # | fault kind | what the server does | expected | observed | owner | pass |",
             "|---|---|---|---|---|---|---|"]
    for n, (fault, ok, observed) in enumerate(rows, 1):
        expected = {"error": f"error row {'/'.join(fault.errors) if fault.errors != ANY_DESCRIBED else '(described)'}",
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
    lines.append(f"{passed} of {len(rows)} kinds pass; crawl {seconds:.1f} s; peak RSS of the crawl process "
                 f"{max_rss_kib / 1024:.0f} MiB")
    return "\n".join(lines)


def test_the_matrix_has_at_least_40_fault_kinds_reachable_from_discovery(hostile_crawl):
    faults = hostile_crawl["server"].site.faults
    assert len({f.name for f in faults}) >= 40
    obs = hostile_crawl["obs"]
    never_asked = [f.name for f in faults if not obs.hits(f.path) and f.via != "none"]
    assert never_asked == [], "fault pages the crawl never reached"


def test_every_fault_kind_has_its_expected_outcome(hostile_crawl):
    failed = [f"{fault.name} ({fault.owner}): {observed}" for fault, ok, observed in hostile_crawl["rows"] if not ok]
    assert failed == [], "\n".join(failed)


def test_no_wrong_article(hostile_crawl):
    """Every stored row is a page that serves an article, holding that page's text."""
    obs, site = hostile_crawl["obs"], hostile_crawl["server"].site
    expected = site.expected_articles()
    dup = next(f for f in site.faults if f.expect == "alias")
    wrong = []
    for url, row in obs.articles.items():
        path = url.removeprefix(SITE)
        served = expected.get(url) or trap_article(path)
        if served is None and url in (dup.url, dup.url.replace(dup.path, next(
                f.path for f in site.faults if f.name == dup.name + "_other"))):
            served = dup.article
        if served is None:
            wrong.append(f"{url}: {row['title'][:50]!r} (this page serves no article)")
            continue
        problems = article_problems(row, served, date_expected=bool(served.published))
        if problems:
            wrong.append(f"{url}: {', '.join(problems)}")
    assert wrong == [], f"{len(wrong)} wrong articles:\n" + "\n".join(wrong)


def test_no_fetched_page_without_a_record(hostile_crawl):
    """Every article-shaped page the server answered is an article, an alias, or an error row
    (a redirect's source counts by its target)."""
    obs, site = hostile_crawl["obs"], hostile_crawl["server"].site
    redirects = {f.path: f.article.url for f in site.faults if f.expect == "redirected"}
    untraced = []
    for path in dict.fromkeys(obs.fetched_paths):
        url = SITE + path
        if not ARTICLE_PATH.match(path) or url in obs.articles or url in obs.aliases or url in obs.errors:
            continue
        if path in redirects and redirects[path] in obs.articles:
            continue
        untraced.append(url)
    for fault in site.faults:  # feeds and sitemaps fetched with a fault of their own
        if (fault.via == "sitemap" or fault.expect == "feed") and obs.hits(fault.path) and fault.url not in obs.errors:
            untraced.append(fault.url)
    assert untraced == [], f"{len(untraced)} fetched pages without a record: {untraced}"


def test_good_articles_all_stored_none_overwritten(hostile_crawl):
    obs, site = hostile_crawl["obs"], hostile_crawl["server"].site
    bad = {a.url: article_problems(obs.articles.get(a.url), a) for a in (*site.good, *site.feed_only)}
    assert {u: p for u, p in bad.items() if p} == {}


def test_no_error_row_shows_the_loopback_address_or_says_nothing(hostile_crawl):
    obs = hostile_crawl["obs"]
    bad = [(u, k, d) for u, rows in obs.errors.items() for k, d in rows
           if not d.strip() or "127.0.0.1" in d or not (u or "").startswith(SITE + "/") or k in ("other", "ignored")]
    assert bad == []


def test_traps_bounded_by_the_registry_limits(hostile_crawl):
    lim = limits()
    assert None not in lim.values(), f"registry limits missing: {lim}"
    obs = hostile_crawl["obs"]
    assert len([p for p in obs.fetched_paths if p != "/robots.txt"]) <= lim["max_pages_per_night"]
    assert len({p for p in obs.fetched_paths if p.startswith("/tin-bay-so-")}) <= lim["max_links_per_page"]
    assert len({p for p in obs.fetched_paths if p.startswith("/kinh-te/xem-them/")}) <= lim["max_listing_pages"]


def stall_seconds(log, hung) -> float:
    """The longest time, while a hung request was open, in which no other page was answered."""
    answered = sorted(e[3] for e in log if e not in hung and e[3] is not None)
    longest = 0.0
    for _, _, opened, closed in hung:
        closed = closed if closed is not None else max(answered, default=opened)
        marks = [opened, *(t for t in answered if opened < t < closed), closed]
        longest = max(longest, *(b - a for a, b in pairwise(marks)))
    return longest


def test_hung_urls_do_not_stall_the_outlet(hostile_crawl):
    """Both hung URLs end as timeouts, and while they hang the outlet's other pages go on
    being fetched: no pause longer than the article timeout (2 s at this scale) and a second."""
    obs, site = hostile_crawl["obs"], hostile_crawl["server"].site
    hung = [e for f in site.faults if f.name.startswith("hung_") for e in obs.hits(f.path)]
    assert len({e[0] for e in hung}) == 2, "both hung URLs requested"
    assert stall_seconds(obs.log, hung) <= 3.0


def test_crawl_finishes_fast_in_bounded_memory(hostile_crawl):
    assert hostile_crawl["result"].returncode == 0, hostile_crawl["result"].stderr[-3000:]
    assert hostile_crawl["seconds"] < 45
    assert hostile_crawl["max_rss_kib"] < 1024 * 1024
