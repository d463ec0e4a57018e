"""`pressmon classify` over many stored articles: a pool of processes decides as one process
does, a killed `--all` run carries on where it stopped, progress reaches a log."""

from __future__ import annotations

import shutil
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner

from pressmon.nlp.corpus import load_corpus
from pressmon.nlp.topics import SHIPPED_MODEL, TopicModel
from pressmon.pipeline.cli import cli
from pressmon.pipeline.cli.decisions import PlainProgress
from pressmon.pipeline.decisions.classify import Work, classify_stored, pending_work
from pressmon.pipeline.store import Store

from conftest import ROOT

OUTLET = {"id": "baogialai", "name": "Báo Gia Lai", "kind": "newspaper", "family": "zce",
          "domain": "baogialai.com.vn", "home_url": "https://baogialai.com.vn/", "language": "vi"}
ARTICLES = 600
DECISION = "SELECT article_id, topic, tier, probability, evidence, reason, model_version FROM article_topics"


@pytest.fixture(scope="module")
def stored(tmp_path_factory):
    """A database of ARTICLES corpus items (every kind: cited, uncited, hard negatives), none classified."""
    db = tmp_path_factory.mktemp("classify") / "stored.db"
    items = load_corpus()
    with Store(db) as store:
        store.sync_outlets([OUTLET])
        for n in range(ARTICLES):
            item = items[n * 2 % len(items)]
            store.save_article("r1", {"title": f"{item['title']} ({n})", "lead": item.get("lead"),
                                      "body": item.get("body") or "", "published_at": item.get("published_at"),
                                      "url": f"https://baogialai.com.vn/bai-{n}-post{n}.html", "outlet_id": "baogialai"})
    return db


@pytest.fixture(scope="module")
def model():
    return TopicModel.load(SHIPPED_MODEL)


def copy(db, tmp_path, name):
    shutil.copy(db, tmp_path / name)
    return tmp_path / name


def rows(db, sql, params=()):
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def test_a_pool_of_workers_decides_as_one_process(stored, model, tmp_path):
    one, pool = copy(stored, tmp_path, "one.db"), copy(stored, tmp_path, "pool.db")
    some = Work([a for a, in rows(stored, "SELECT id FROM articles ORDER BY id LIMIT 250")])
    with Store(one) as store:
        assert classify_stored(store, model, work=some) == 250
    with Store(pool) as store:
        assert classify_stored(store, model, workers=2, batch_size=37, work=some) == 250
    decided = rows(one, DECISION + " ORDER BY article_id, topic")
    assert len(decided) == 2 * 250
    assert rows(pool, DECISION + " ORDER BY article_id, topic") == decided
    assert {tier for _, _, tier, *_ in decided} == {"cited", "probable", "none"}


def test_a_killed_run_carries_on_where_it_stopped(stored, model, tmp_path):
    db = copy(stored, tmp_path, "killed.db")
    command = [sys.executable, "-m", "pressmon.pipeline.cli", "classify", "--all", "--db", str(db),
               "--model", str(SHIPPED_MODEL), "--workers", "2"]
    run = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    progress = []
    deadline = time.monotonic() + 120
    while not progress and run.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
        if db.with_name(db.name + "-wal").exists():  # the run opened the database
            progress = rows(db, "SELECT classified FROM reclassify_runs WHERE classified > 0")
    run.send_signal(signal.SIGKILL)
    run.wait()
    assert progress, "the run finished before a batch was written: give it more articles"
    (last, done, finished), = rows(db, "SELECT last_article_id, classified, finished_at FROM reclassify_runs")
    assert finished is None and 0 < done < ARTICLES
    decided = rows(db, "SELECT DISTINCT article_id FROM article_topics WHERE model_version = ?", [model.version])
    assert sorted(a for a, in decided) == [a for a, in rows(db, "SELECT id FROM articles WHERE id <= ? ORDER BY id",
                                                              [last])]

    again = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    assert "Tiếp tục lần phân loại lại bị dừng" in again.stderr
    assert again.stdout.startswith(f"{ARTICLES - done} articles classified")
    per_article = rows(db, "SELECT article_id, count(*) FROM article_topics WHERE model_version = ? "
                           "GROUP BY article_id", [model.version])
    assert len(per_article) == ARTICLES and {n for _, n in per_article} == {2}
    (done, finished), = rows(db, "SELECT classified, finished_at FROM reclassify_runs")
    assert done == ARTICLES and finished is not None

    with Store(db) as store:  # the run finished: the next --all starts over
        assert pending_work(store, model, every_item=True) == Work([a for a, _ in per_article])


def test_progress_reaches_a_log_when_not_a_terminal(stored, tmp_path):
    db = copy(stored, tmp_path, "log.db")
    result = CliRunner().invoke(cli, ["classify", "--db", str(db), "--model", str(SHIPPED_MODEL), "--workers", "1"])
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith(f"{ARTICLES} articles classified")
    lines = result.stderr.splitlines()
    assert lines[0] == f"Phân loại: {ARTICLES} bài cần phân loại"
    assert lines[-1].startswith(f"Phân loại: xong {ARTICLES}/{ARTICLES} bài trong ")


def test_plain_progress_writes_a_line_every_so_many_articles():
    lines = []
    progress = PlainProgress(total=12_000, done=2_000, write=lines.append, every_items=3_000,
                             every_seconds=float("inf"))
    for _ in range(10):
        progress.advance(1_000)
    progress.finish()
    assert lines[0] == "Phân loại: 10.000 bài cần phân loại (đã xong 2.000/12.000)"
    assert [line.split(" bài")[0] for line in lines[1:-1]] == [
        "Phân loại: 5.000/12.000", "Phân loại: 8.000/12.000", "Phân loại: 11.000/12.000"]
    assert all(", còn khoảng " in line for line in lines[1:-1])
    assert lines[-1].startswith("Phân loại: xong 12.000/12.000 bài trong ")
