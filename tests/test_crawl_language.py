"""The crawl's language pool (pipeline/crawl/language.py) in real crawls of the loopback mirror:
the workers decide as the crawl process would, the model is loaded once per crawl, the work
runs in other processes than the reactor's, and a worker that dies leaves error rows, not a
hung or silent crawl."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys

from conftest import ROOT, TEST_SCALE, query

LANGUAGE_LOG = re.compile(r"language work: (\d+) items in worker processes \(PID: items\) (.*); crawl process (\d+);")

# A crawl of two outlets through run_crawl (one pool for both spiders), counting every time any
# process of the crawl opens the model file: the audit hook is inherited by forked workers, and
# os.write raises no audit event of its own.
COUNTED_CRAWL = """
import os, sys
db, mirror, model, counter_path = sys.argv[1:]
counter = os.open(counter_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND)

def count(event, args):
    if event == "open" and args and isinstance(args[0], str) and os.path.realpath(args[0]) == model:
        os.write(counter, b"x")

sys.addaudithook(count)
from pressmon.pipeline.crawl.runner import run_crawl
run_crawl(db, ["gialai-gov", "gialaitv"], mirror=mirror, politeness_scale=float(os.environ["SCALE"]), progress=False,
          settings={"PRESSMON_LANGUAGE_WORKERS": 2})
"""


def test_one_model_load_per_crawl_and_the_work_in_other_processes(tmp_path, mirror, model_path, manifest):
    db, counter = tmp_path / "counted.db", tmp_path / "model-opens"
    model = os.path.realpath(model_path)
    result = subprocess.run([sys.executable, "-c", COUNTED_CRAWL, str(db), mirror, model, str(counter)], cwd=ROOT,
                            env={**os.environ, "SCALE": TEST_SCALE}, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert counter.read_bytes() == b"x", "the model file is opened once in the whole crawl"
    expected = {a["url"] for o in ("gialai-gov", "gialaitv") for a in manifest["outlets"][o]["articles"]}
    assert {r[0] for r in query(db, "select url from articles")} == expected
    (done, per_worker, crawl_pid), = LANGUAGE_LOG.findall(result.stderr)  # one pool for both spiders
    workers = dict(pair.split(": ") for pair in per_worker.split(", "))
    assert int(done) == len(expected) == sum(map(int, workers.values()))
    assert crawl_pid not in workers and len(workers) <= 2


def test_the_workers_decide_as_the_crawl_process_would(demo_db, topic_model):
    """Every article of the demo's crawl: the tiers and probabilities stored from the pool are
    those the model gives in this process, to the last bit."""
    from pressmon.pipeline.crawl.language import article_places, article_references
    from pressmon.pipeline.decisions.classify import classification

    db, *_ = demo_db
    rows = query(db, "select id, title, lead, body, published_at from articles")
    stored = {(article_id, topic): (tier, probability) for article_id, topic, tier, probability in
              query(db, "select article_id, topic, tier, probability from article_topics")}
    references, places = {}, {}
    for article_id, *found in query(db, 'select article_id, field, "start", "end", text, document '
                                        "from article_references"):
        references.setdefault(article_id, []).append(tuple(found))
    for article_id, *found in query(db, 'select article_id, field, "start", "end", commune_code from article_places'):
        places.setdefault(article_id, []).append(tuple(found))
    assert len(rows) > 150
    for article_id, title, lead, body, published_at in rows:
        item = {"title": title, "lead": lead, "body": body, "published_at": published_at}
        decided = classification(topic_model, item)["topics"]
        for topic, decision in decided.items():
            assert stored[article_id, topic] == (decision["tier"], decision["probability"]), (title, topic)
        assert sorted(references.get(article_id, [])) == sorted(
            (r["field"], r["start"], r["end"], r["text"], r["document"]) for r in article_references(item)), title
        assert sorted(places.get(article_id, [])) == sorted(
            (p["field"], p["start"], p["end"], p["commune_code"]) for p in article_places(item)), title


class KillsItsWorker(str):
    """A body whose unpickling SIGKILLs the process that reads it: the language worker handed
    this item dies while holding it, as one killed by the OOM killer would."""

    def __reduce__(self):
        return signal.raise_signal, (signal.SIGKILL,)


class ArmOnePage:
    """A test item pipeline stage before the language stage: on one page, a body that kills its
    worker; on another, a title that is not text, which the language work fails on."""

    def process_item(self, item, spider=None):
        if item.get("fetched_url") == os.environ.get("PRESSMON_TEST_KILL_WORKER_AT"):
            item["body"] = KillsItsWorker(item["body"])
        if item.get("fetched_url") == os.environ.get("PRESSMON_TEST_BREAK_TITLE_AT"):
            item["title"] = 12345
        return item


def crawl_armed(db, mirror, outlet: str, **armed: str) -> subprocess.CompletedProcess:
    """`scrapy crawl <outlet>` (a pool of the spider's own) with ArmOnePage before the language stage."""
    from pressmon.pipeline.crawl.settings import ITEM_PIPELINES

    stages = {**ITEM_PIPELINES, "test_crawl_language.ArmOnePage": 200}
    env = {**os.environ, "PYTHONPATH": str(ROOT / "tests"),
           **{f"PRESSMON_TEST_{name.upper()}": url for name, url in armed.items()}}
    return subprocess.run(
        [sys.executable, "-m", "scrapy", "crawl", outlet, "-s", f"PRESSMON_DB={db}",
         "-s", f"PRESSMON_MIRROR={mirror}", "-s", f"ITEM_PIPELINES={json.dumps(stages)}",
         "-s", f"PRESSMON_POLITENESS_SCALE={TEST_SCALE}", "-s", "DOWNLOAD_DELAY=0", "-s", "DOWNLOAD_SLOTS={}",
         "-s", "AUTOTHROTTLE_START_DELAY=0"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)


def test_a_worker_killed_mid_item_leaves_error_rows_and_the_crawl_goes_on(tmp_path, mirror, manifest, model_path):
    """The killed item is a pipeline_error row with its URL, every other article is stored or has
    such a row, and the crawl ends normally on a restarted pool."""
    db = tmp_path / "killed.db"
    expected = [a["url"] for a in manifest["outlets"]["gialai-gov"]["articles"]]
    kill_at = expected[len(expected) // 2]
    result = crawl_armed(db, mirror, "gialai-gov", kill_worker_at=kill_at)
    assert result.returncode == 0, result.stderr[-3000:]
    errors = dict(query(db, "select url, detail from crawl_errors where kind = 'pipeline_error'"))
    assert kill_at in errors
    assert all("language worker process died" in detail for detail in errors.values()), errors
    stored = {r[0] for r in query(db, "select url from articles")}
    # None lost in silence: an article not stored has its row (a worker's death; on a loaded
    # machine, perhaps a fetch timeout).
    recorded = {r[0] for r in query(db, "select url from crawl_errors")}
    assert set(expected) <= stored | recorded and not stored & set(errors)
    assert len(stored) >= len(expected) // 2
    # Stored articles were all classified, before and after the restart.
    assert query(db, "select count(distinct article_id) from article_topics")[0][0] == len(stored)
    assert "the pool was restarted (1 restarts this crawl)" in result.stderr


def test_a_failure_inside_a_worker_is_an_error_row_naming_its_line(tmp_path, mirror, manifest):
    db = tmp_path / "broken.db"
    expected = [a["url"] for a in manifest["outlets"]["congthuong"]["articles"]]
    break_at = expected[0]
    result = crawl_armed(db, mirror, "congthuong", break_title_at=break_at)
    assert result.returncode == 0, result.stderr[-3000:]
    (url, detail), = query(db, "select url, detail from crawl_errors where kind = 'pipeline_error'")
    assert url == break_at
    assert re.fullmatch(r"TypeError: .+ \(in \w+, \w+\.py:\d+\)", detail), detail
    assert {r[0] for r in query(db, "select url from articles")} == set(expected) - {break_at}
