"""The real spiders over loopback HTTP against the offline mirror, through the real CLI.

One demo database is built per session (`pressmon demo --no-serve`), then crawled again as a
second night; the expected counts come from the mirror's manifest and content files, not
from the crawler.
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import re
import subprocess
import sys
from urllib.parse import urlsplit

import pytest

from conftest import ROOT, TEST_SCALE, pressmon, query

ISO_VN = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+07:00$")


def run_ids(db):
    return [r[0] for r in query(db, "select distinct run_id from crawl_runs order by run_id")]


def test_demo_stores_every_mirrored_article_once(demo_db, manifest):
    db, *_ = demo_db
    expected = {a["url"] for o in manifest["outlets"].values() for a in o["articles"]}
    stored = [r[0] for r in query(db, "select url from articles")]
    assert len(stored) == len(set(stored)), "duplicate URL rows"
    assert set(stored) == expected
    assert len(stored) >= 150
    assert query(db, "select count(distinct outlet_id) from articles")[0][0] >= 5
    assert query(db, "pragma integrity_check")[0][0] == "ok"


def test_every_row_has_title_body_and_a_vietnam_time(demo_db):
    db, *_ = demo_db
    rows = query(db, "select url, title, body, published_at from articles")
    for url, title, body, published_at in rows:
        assert title and len(body) > 200, url
        assert published_at and ISO_VN.match(published_at), (url, published_at)


def test_stored_fields_match_the_content_they_were_built_from(demo_db, content_by_url):
    db, *_ = demo_db
    rows = query(db, "select url, title, lead, body, media_kind, published_at, author from articles")
    for url, title, lead, body, media_kind, published_at, author in rows:
        source = content_by_url[url]
        assert title == normalized(source["title"])
        assert lead == normalized(re.sub(r"^\(GLO\)-\s*", "", source["lead"]))
        assert body.split("\n\n")[0] == normalized(source["body"][0]), url
        assert body.split("\n\n")[-1].startswith(normalized(source["body"][-1])[:40]), url
        assert media_kind == source["media_kind"], url
        assert published_at[:10] == source["published"][:10], url


def normalized(text):
    from pressmon.nlp.normalize import normalize_text

    return normalize_text(text)


def test_no_boilerplate_reaches_the_body(demo_db, manifest):
    """Neither the templates' boxes nor what an editor pasted into the text (a related box of
    no known class, its links naming a watched document; a photo credit; a share bar)."""
    db, *_ = demo_db
    note = manifest["note"]
    leaks = query(db, "select url from articles where body like ? or body like '%Xem thêm%' "
                      "or lead like '(GLO)%' or body like '%Tin liên quan%'", [f"%{note[:20]}%"])
    assert leaks == []
    bodies = dict(query(db, "select url, body from articles"))
    carriers = [a for o in manifest["outlets"].values() for a in o["articles"] if a["pasted"]]
    hosts = {o["host"] for o in manifest["outlets"].values()}
    assert {urlsplit(a["url"]).hostname for a in carriers} == hosts  # every CMS family
    for art in carriers:
        pasted = [normalized(text) for text in art["pasted"]]
        assert [text for text in pasted if text in bodies[art["url"]]] == [], art["url"]


def test_faults_are_recorded_as_errors_never_as_articles(demo_db, manifest):
    db, *_ = demo_db
    first_run = run_ids(db)[0]
    errors = dict(query(db, "select url, kind from crawl_errors where run_id = ?", [first_run]))
    assert errors.get("https://baogialai.com.vn/loi-may-chu-post999001.html") == "http_error"
    assert errors.get("https://baogialai.com.vn/vong-lap-post999002.html") == "redirect_loop"
    assert errors.get("https://baogialai.com.vn/trang-qua-lon-post999003.html") == "too_large"
    assert errors.get("https://baogialai.com.vn/tai-lieu-post999004.html") == "not_html"
    # A broken layout: no article in it (parse_failed), or no title found first (no_title).
    assert errors.get("https://baogialai.com.vn/trang-hong-post999005.html") in ("parse_failed", "no_title")
    assert errors.get("https://baogialai.com.vn/bai-noi-bo-post999007.html") == "robots"
    fault_rows = query(db, "select url from articles where url like '%post9990%'")
    assert fault_rows == []
    counted = query(db, "select sum(errors) from crawl_runs where run_id = ?", [first_run])[0][0]
    assert counted == len(query(db, "select * from crawl_errors where run_id = ?", [first_run]))


def test_the_demo_log_says_each_thing_once_and_the_fault_pages_are_expected(demo_db):
    """No line twice (underthesea's import adds no second root handler), no telnet console
    or its password, no remote-control server, and the mirror's deliberate fault pages reported as expected, not as
    errors: in the log at INFO, and in the closing summary apart from real trouble."""
    _, first, _ = demo_db
    log = first.stderr.splitlines()
    stamped = [line for line in log if re.match(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[", line)]
    assert len(stamped) > 50
    messages = {line.split(": ", 1)[1] for line in stamped if ": " in line}
    bare = set(log) - set(stamped)
    assert not messages & bare, f"printed twice: {sorted(messages & bare)[:3]}"
    assert not [line for line in log if re.search(r"(?i)telnet", line) and "TELNETCONSOLE_ENABLED" not in line]
    assert not [line for line in log if "RemoteControl" in line or "Remote control" in line]
    assert not [line for line in stamped if "] ERROR:" in line or "] CRITICAL:" in line]
    assert "(expected: the demo's page that answers HTTP 500)" in first.stderr
    assert "7 errors on the mirror's deliberate fault pages, as expected:" in first.stdout
    assert "errors (table crawl_errors)" not in first.stdout  # no unexpected error
    assert re.search(r"│ total\s+│\s+2\d\d │", first.stdout), first.stdout


def test_second_night_adds_no_article_and_fetches_almost_nothing(demo_db):
    db, _, second = demo_db
    first_run, second_run = run_ids(db)
    first_pages = query(db, "select sum(pages_fetched) from crawl_runs where run_id = ?", [first_run])[0][0]
    new, updated, pages, not_modified = query(
        db, "select sum(articles_new), sum(articles_updated), sum(pages_fetched), sum(pages_not_modified) "
            "from crawl_runs where run_id = ?", [second_run])[0]
    total = query(db, "select count(*) from articles")[0][0]
    assert new == 0 and updated == 0
    assert query(db, "select count(*) from article_versions")[0][0] == 0
    assert f"{total:,} articles" in second.stdout
    # Feeds, sitemaps and listings are asked for with a conditional GET and answer 304;
    # known articles are not asked for at all.
    assert not_modified > 0
    assert pages <= 0.05 * first_pages, (pages, first_pages)


def test_runs_count_pages_per_outlet(demo_db, manifest):
    db, *_ = demo_db
    first_run = run_ids(db)[0]
    rows = query(db, "select outlet_id, pages_fetched, articles_new, status, finished_at from crawl_runs "
                     "where run_id = ?", [first_run])
    by_outlet = {r[0]: r for r in rows}
    for outlet_id, outlet in manifest["outlets"].items():
        _, pages, new, status, finished_at = by_outlet[outlet_id]
        assert new == len(outlet["articles"])
        assert pages > new  # listings, feeds, sitemaps, robots.txt come on top
        assert status == "finished" and finished_at


def test_references_follow_what_each_item_was_written_as(demo_db, content_by_url, manifest):
    """Items citing a document carry its reference; look-alikes and uncited items carry none,
    except the legal digests ("Điểm tin …" in the sample content), which do list the documents
    in passing: the reference is real, and deciding that it is not coverage is the classifier's
    work. An item whose page carries a related box naming a document it never cites carries
    no reference either."""
    db, *_ = demo_db
    topics = {}
    for url, topic in query(db, "select a.url, r.topic from articles a join article_references r "
                                "on r.article_id = a.id where r.topic is not null"):
        topics.setdefault(url, set()).add(topic)
    articles = [a for o in manifest["outlets"].values() for a in o["articles"]]
    named = " ".join(text for a in articles for text in a["pasted"])
    assert "Chỉ thị số 20/CT-TTg" in named and "Quyết định 1894/QĐ-TTg" in named
    carriers = {a["url"] for a in articles if a["pasted"]}
    for url, source in content_by_url.items():
        found = topics.get(url, set())
        if url in carriers:
            assert found == set(), (url, source["title"], found)
        if source["category"] == "cites_qd1894":
            assert "qd1894" in found, (url, source["title"])
        elif source["category"] == "cites_ct20":
            assert "ct20" in found, (url, source["title"])
        elif source["category"] in ("lookalike", "env_general", "unrelated", "carries_out"):
            is_digest = source["title"].startswith("Điểm tin")
            assert not found or is_digest, (url, source["category"], found)


def test_every_article_is_classified_as_it_is_stored(demo_db, content_by_url, topic_model):
    db, *_ = demo_db
    decisions = query(db, "select a.url, t.topic, t.tier, t.model_version from article_topics t "
                          "join articles a on a.id = t.article_id")
    assert {version for *_, version in decisions} == {topic_model.version}
    tiers = {(url, topic): tier for url, topic, tier, _ in decisions}
    assert len(tiers) == 2 * len(content_by_url)
    for url, source in content_by_url.items():
        if source["category"] in ("cites_qd1894", "cites_both"):
            assert tiers[url, "qd1894"] == "cited", source["title"]
        if source["category"] in ("cites_ct20", "cites_both"):
            assert tiers[url, "ct20"] == "cited", source["title"]
        if source["category"] in ("unrelated", "lookalike"):
            assert tiers[url, "qd1894"] != "cited" and tiers[url, "ct20"] != "cited", source["title"]


def test_tracking_parameters_never_make_a_second_row(demo_db):
    db, *_ = demo_db
    assert query(db, "select url from articles where url like '%?%' or url like '%#%'") == []


def test_scrapy_crawl_works_with_the_same_settings(tmp_path, mirror):
    """`scrapy crawl <outlet>` from the repository root, with a timeout short enough that the
    mirror's slow page becomes a recorded timeout."""
    db = tmp_path / "scrapy.db"
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "baogialai", "-s", f"PRESSMON_DB={db}",
         "-s", f"PRESSMON_MIRROR={mirror}", "-s", "DOWNLOAD_TIMEOUT=1", "-s", "RETRY_ENABLED=0",
         "-s", "PRESSMON_POLITENESS_SCALE=0.05", "-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_START_DELAY=0",
         "-s", "DOWNLOAD_SLOTS={}"],
        cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    errors = dict(query(db, "select url, kind from crawl_errors"))
    assert errors["https://baogialai.com.vn/trang-cham-post999006.html"] == "timeout"
    assert query(db, "select count(*) from articles where outlet_id = 'baogialai'")[0][0] > 40
    # robots.txt asks for Crawl-delay: 0.2 and the crawl applied it to the slot
    assert "'politeness/crawl_delay/baogialai.com.vn': 0.2" in result.stderr


def test_since_bounds_a_backfill(tmp_path, mirror, manifest):
    db = tmp_path / "since.db"
    result = pressmon("crawl", "--db", str(db), "--outlet", "gialaitv", "--outlet", "gialai-gov",
                      "--since", "01/06/2026", "--mirror", mirror, "--politeness-scale", TEST_SCALE, "--no-progress")
    assert result.returncode == 0, result.stderr[-3000:]
    stored = {r[0] for r in query(db, "select url from articles")}
    expected = {a["url"] for oid in ("gialaitv", "gialai-gov") for a in manifest["outlets"][oid]["articles"]
                if a["published"] >= "2026-06-01"}
    assert stored == expected and expected


class FailingStage:
    """A test item pipeline stage: raises on one page, and on another hands the store a
    reference it must refuse (a NULL text) in the middle of the article's transaction."""

    def process_item(self, item, spider=None):
        if item.get("fetched_url") == os.environ.get("PRESSMON_TEST_RAISE_AT"):
            raise RuntimeError("stage broke on this page")
        if item.get("fetched_url") == os.environ.get("PRESSMON_TEST_BREAK_STORE_AT"):
            item["references"] = [{"field": "body", "text": None}]
        return item


def test_an_exception_in_any_pipeline_stage_is_recorded_and_the_crawl_goes_on(tmp_path, mirror, manifest):
    from pressmon.pipeline.crawl.settings import ITEM_PIPELINES
    from pressmon.pipeline.store.warc import check_archive

    db = tmp_path / "stages.db"
    expected = [a["url"] for a in manifest["outlets"]["gialai-gov"]["articles"]]
    raise_at, break_at = expected[0], expected[1]
    stages = {**ITEM_PIPELINES, "test_crawl_mirror.FailingStage": 800}
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests"), "PRESSMON_TEST_RAISE_AT": raise_at,
           "PRESSMON_TEST_BREAK_STORE_AT": break_at}
    result = subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", "gialai-gov", "-s", f"PRESSMON_DB={db}",
         "-s", f"PRESSMON_MIRROR={mirror}", "-s", f"ITEM_PIPELINES={json.dumps(stages)}",
         "-s", "PRESSMON_POLITENESS_SCALE=0.05", "-s", "DOWNLOAD_DELAY=0"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    errors = {url: (kind, detail) for url, kind, detail in
              query(db, "select url, kind, detail from crawl_errors where kind = 'pipeline_error'")}
    assert set(errors) == {raise_at, break_at}
    assert errors[raise_at][1].startswith("RuntimeError: stage broke on this page (in process_item")
    assert errors[break_at][1].startswith("IntegrityError: NOT NULL constraint failed")
    stored = {r[0] for r in query(db, "select url from articles")}
    assert stored == set(expected) - {raise_at, break_at}
    # The store's transaction was rolled back: no part of the refused article anywhere.
    assert query(db, "select count(*) from articles_fts")[0][0] == len(stored)
    assert query(db, "select sum(articles_new), sum(errors) from crawl_runs")[0] == (
        len(stored), query(db, "select count(*) from crawl_errors")[0][0])
    # Their archived responses are accounted for: the pages have error rows.
    check = check_archive(db)
    assert {url for _, _, url in check.recorded} >= {raise_at, break_at}
    assert check.untraced == [] and check.damaged == []


def test_ten_sigkills_at_random_points_lose_nothing(tmp_path, mirror, manifest):
    """benchmarks/crash_loop.py's loop, bounded: 10 crawls of one database SIGKILLed after a
    random number of new articles, or at a random moment 1.5–3 s after the crawl opened its
    run, each checked (integrity, nothing lost, changed or stored twice, every WARC record
    matching its hash), then one crawl to the end that leaves every mirrored article stored
    once."""
    spec = importlib.util.spec_from_file_location("crash_loop", ROOT / "benchmarks" / "crash_loop.py")
    crash_loop = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(crash_loop)
    seed = random.randrange(1_000_000)
    lines = []
    rounds, final = crash_loop.crash_loop(tmp_path / "killed.db", mirror, kills=10, seed=seed, max_new=12,
                                          politeness_scale=float(TEST_SCALE), max_seconds=3.0, report=lines.append)
    story = f"seed {seed}:\n" + "\n".join(lines)
    assert sum(r["killed"] for r in rounds) >= 10, story
    assert sum(r["new"] > 0 for r in rounds if r["killed"]) >= 3, story  # kills landed while articles were stored
    for figures in [*rounds, final]:
        assert crash_loop.problems(figures) == [], story
        assert figures["warc_damaged"] == 0, story
    assert final["returncode"] == 0, story
    expected = {a["url"] for o in manifest["outlets"].values() for a in o["articles"]}
    assert set(query(tmp_path / "killed.db", "select url from articles")) == {(u,) for u in expected}, story
    # Every page archived by a killed crawl and never committed was fetched and stored again.
    assert final["warc_untraced"] == 0, story


@pytest.mark.parametrize("search, expected_in_title", [
    ("dak doa", "Đak Đoa"),
    ("Đak Đoa", "Đak Đoa"),
    ("o nhiem moi truong", None),
    ("Hoà Hội", None),
])
async def test_datasette_search_on_the_demo_database(demo_db, search, expected_in_title):
    """The staff's search box (`_search`) on the crawled demo data, with and without diacritics;
    the rows it finds are exactly those whose folded text contains the folded words and the
    text as written every word typed with diacritics (any case, either tone placement)."""
    from pressmon.nlp.normalize import fold, normalize_text
    from pressmon.pipeline.publish import make_datasette

    db, *_ = demo_db
    ds = make_datasette(db, public=True)
    response = await ds.client.get(f"/{db.stem}/articles.json", params={"_search": search, "_shape": "array",
                                                                      "_col": "title", "_size": "max"})
    assert response.status_code == 200
    found = {row["title"] for row in response.json()}
    words = fold(search).split()
    typed = [w for w in normalize_text(search).lower().split() if fold(w) != w]
    expected = {title for title, lead, body in query(db, "select title, lead, body from articles")
                if all(re.search(rf"\b{w}\b", fold(f"{title} {lead} {body}")) for w in words)
                and all(re.search(rf"\b{w}\b", f"{title} {lead} {body}".lower()) for w in typed)}
    assert found == expected and found
    if expected_in_title:
        assert any(expected_in_title in title for title in found)


def test_commune_mentions_are_stored_with_each_article(demo_db, content_by_url):
    db, *_ = demo_db
    found = {}
    for url, name in query(db, "select a.url, p.commune_name from article_places p join articles a "
                               "on a.id = p.article_id"):
        found.setdefault(url, set()).add(name)
    for url, source in content_by_url.items():
        assert set(source["communes"]) <= found.get(url, set()), (source["title"], source["communes"])
    assert sum(bool(s["communes"]) for s in content_by_url.values()) >= 20


def test_every_article_page_is_archived_and_exported_byte_for_byte(demo_db, tmp_path):
    import hashlib
    import zipfile

    db, *_ = demo_db
    rows = query(db, "select id, warc_file, payload_sha256 from articles order by id")
    assert all(warc and digest for _, warc, digest in rows)
    for article_id, _, digest in rows[:: max(1, len(rows) // 6)]:
        out = tmp_path / f"{article_id}.html"
        result = pressmon("evidence", str(article_id), "--db", str(db), "--out", str(out))
        assert result.returncode == 0, result.stderr
        assert hashlib.sha256(out.read_bytes()).hexdigest() == digest
    pack = tmp_path / "pack.zip"
    result = pressmon("evidence", "--db", str(db), "--year", "2026", "--topic", "ct20", "--out", str(pack))
    assert result.returncode == 0, result.stderr
    counted = query(db, "select count(*) from topic_decisions where counted = 1 and topic = 'ct20' "
                        "and published_at like '2026%'")[0][0]
    with zipfile.ZipFile(pack) as archive:
        manifest = archive.read("manifest.csv").decode().splitlines()
    assert len(manifest) - 1 == counted > 0


def test_with_progress_bars_the_log_goes_to_its_file_and_a_table_closes_the_crawl(tmp_path, mirror):
    """What a person at a terminal sees: bars and a closing table, no log lines; Scrapy's
    whole log is in <db>.crawl.log."""
    db = tmp_path / "tty.db"
    result = pressmon("crawl", "--db", str(db), "--outlet", "gialaitv", "--mirror", mirror,
                      "--politeness-scale", TEST_SCALE, "--progress")
    assert result.returncode == 0, result.stderr[-3000:]
    assert "[scrapy" not in result.stdout + result.stderr
    assert re.search(r"│ gialaitv\s+│\s+2\d │", result.stdout), result.stdout
    assert f"Full log: {db}.crawl.log" in result.stdout
    log = (tmp_path / "tty.db.crawl.log").read_text(encoding="utf-8")
    assert "[scrapy.core.engine] INFO: Spider opened" in log and "Dumping Scrapy stats" in log
