"""The nightly cycle: the crash-proof lock, `run-once` over the offline mirror, the schedule's
time conversion and a clean stop on SIGTERM. Commands run through `python -m pressmon.pipeline.cli`
(the same click commands `pressmon schedule` / `pressmon run-once` register)."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from conftest import ROOT, pressmon, query
from pressmon.pipeline.nightly.cycle import run_cycle
from pressmon.pipeline.nightly.lock import AlreadyRunning, CycleLock, lock_path_for
from pressmon.pipeline.nightly.logs import relay
from pressmon.pipeline.nightly.schedule import register_job
from pressmon.pipeline.store import Store

HOLDER = textwrap.dedent("""
    import fcntl, json, os, sys, time
    fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.ftruncate(fd, 0)
    os.write(fd, json.dumps({"pid": os.getpid(), "started_at": "2026-01-01T01:30:00+07:00"}).encode())
    print("locked", flush=True)
    time.sleep(120)
""")


@pytest.fixture
def holder(tmp_path):
    """A separate process holding the lock of tmp_path/night.db, as a running cycle would."""
    db = tmp_path / "night.db"
    process = subprocess.Popen([sys.executable, "-c", HOLDER, str(lock_path_for(db))], stdout=subprocess.PIPE,
                               text=True)
    assert process.stdout.readline().strip() == "locked"
    yield db, process
    if process.poll() is None:
        process.kill()
    process.wait(timeout=10)


def test_a_second_cycle_while_one_holds_the_lock_raises_already_running(holder):
    db, process = holder
    with pytest.raises(AlreadyRunning) as caught:
        run_cycle(db, mirror="http://127.0.0.1:9")  # must refuse before any crawl starts
    assert caught.value.pid == process.pid
    assert not db.exists(), "the refused cycle touched the database"
    refused = pressmon("run-once", "--db", str(db), "--log-file", str(db.parent / "n.log"))
    assert refused.returncode == 1
    assert f"PID {process.pid}" in refused.stderr


def test_the_lock_is_free_at_the_next_start_after_sigkill(holder):
    db, process = holder
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=10)
    lock = CycleLock(db).acquire()
    try:
        assert lock.previous["pid"] == process.pid  # the unfinished cycle is noticed…
        with pytest.raises(AlreadyRunning) as caught:  # …and the new holder excludes others
            CycleLock(db).acquire()
        assert caught.value.pid == os.getpid()
    finally:
        lock.release()
    again = CycleLock(db).acquire()  # a clean release leaves no trace of an unfinished cycle
    assert again.previous is None
    again.release()


def test_a_crawl_is_refused_in_one_line_while_a_cycle_holds_the_lock(holder):
    db, process = holder
    refused = pressmon("crawl", "--db", str(db), "--outlet", "baogialai", "--mirror", "http://127.0.0.1:9",
                       "--no-progress")
    assert refused.returncode == 1
    assert refused.stderr.strip().count("\n") == 0, refused.stderr
    assert f"PID {process.pid}" in refused.stderr and "running on this database" in refused.stderr
    assert not db.exists(), "the refused crawl touched the database"


CRAWL_HOLDER = textwrap.dedent("""
    import sys, time
    from pressmon.pipeline.nightly.lock import CycleLock
    CycleLock(sys.argv[1], command="crawl").acquire()  # what run_crawl holds while it crawls
    print("locked", flush=True)
    time.sleep(120)
""")


def test_a_cycle_is_refused_while_a_crawl_holds_the_lock(tmp_path):
    db = tmp_path / "night.db"
    crawl = subprocess.Popen([sys.executable, "-c", CRAWL_HOLDER, str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert crawl.stdout.readline().strip() == "locked"
        with pytest.raises(AlreadyRunning) as caught:
            run_cycle(db, mirror="http://127.0.0.1:9")
        assert caught.value.pid == crawl.pid
        assert json.loads(lock_path_for(db).read_text())["command"] == "crawl"
        assert not db.exists()
    finally:
        crawl.kill()
        crawl.wait(timeout=10)


def test_a_crawl_after_a_killed_one_marks_its_rows_interrupted(tmp_path, mirror):
    db = tmp_path / "night.db"
    with Store(db) as store:
        store.sync_outlets([{"id": "baogialai", "name": "Báo Gia Lai", "kind": "newspaper"}])
        store.start_run("20260101T013000-000001", "baogialai", source="mirror")
    killed = subprocess.Popen([sys.executable, "-c", CRAWL_HOLDER, str(db)], stdout=subprocess.PIPE, text=True)
    assert killed.stdout.readline().strip() == "locked"
    killed.kill()
    killed.wait(timeout=10)
    started = json.loads(lock_path_for(db).read_text())["started_at"]
    with sqlite3.connect(db) as conn:  # the run row of the crawl that died
        conn.execute("update crawl_runs set started_at = ?", [started])
    conn.close()
    done = pressmon("crawl", "--db", str(db), "--outlet", "gialai-gov", "--mirror", mirror,
                    "--politeness-scale", "0.05", "--no-progress")
    assert done.returncode == 0, done.stderr[-3000:]
    statuses = dict(query(db, "select run_id, status from crawl_runs"))
    assert statuses.pop("20260101T013000-000001") == "interrupted"
    assert set(statuses.values()) == {"finished"}
    assert lock_path_for(db).read_text() == ""  # released cleanly


def test_run_once_crawls_classifies_and_a_second_night_adds_nothing(tmp_path, mirror, topic_model, manifest):
    version = topic_model.version
    db, log_file = tmp_path / "night.db", tmp_path / "logs" / "nightly.log"
    expected = {a["url"] for o in manifest["outlets"].values() for a in o["articles"]}
    assert len(expected) == 164

    # A cycle SIGKILLed the night before left its holder in the lock file.
    killed = subprocess.Popen([sys.executable, "-c", HOLDER, str(lock_path_for(db))], stdout=subprocess.PIPE,
                              text=True)
    assert killed.stdout.readline().strip() == "locked"
    killed.kill()
    killed.wait(timeout=10)

    args = ("run-once", "--db", str(db), "--mirror", mirror, "--politeness-scale", "0.05", "--log-file", str(log_file))
    first = pressmon(*args)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    summary = json.loads(first.stdout.strip().splitlines()[-1])
    assert summary["status"] == "ok"
    assert summary["previous_unfinished"]["pid"] == killed.pid
    assert summary["articles_new"] == 164 and summary["articles_total"] == 164
    assert summary["model_version"] == version
    assert {r[0] for r in query(db, "select url from articles")} == expected
    decided = query(db, "select topic, count(distinct article_id) from article_topics "
                        "where model_version = ? group by topic", [version])
    assert dict(decided) == {"qd1894": 164, "ct20": 164}
    assert summary["run_id"] in {r[0] for r in query(db, "select run_id from crawl_runs")}
    assert json.loads(Path(f"{db}.last-cycle.json").read_text(encoding="utf-8"))["run_id"] == summary["run_id"]
    logged = log_file.read_text(encoding="utf-8")
    assert "did not finish" in logged and "cycle ok" in logged
    # The crawl child's lines keep Scrapy's level: the mirror's HTTP 500 page is an ERROR.
    assert re.search(r" ERROR pressmon\.nightly\.crawl: \[scrapy\.downloadermiddlewares\.retry\] Gave up retrying "
                     r"<GET https://baogialai\.com\.vn/loi-may-chu-post999001\.html>", logged)
    assert re.search(r" INFO pressmon\.nightly\.crawl: \[scrapy\.core\.engine\] Spider opened", logged)
    assert "Telnet" not in logged

    second = pressmon(*args)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-3000:]
    again = json.loads(second.stdout.strip().splitlines()[-1])
    assert again["status"] == "ok" and again["previous_unfinished"] is None
    assert again["run_id"] != summary["run_id"]
    assert again["articles_new"] == 0 and again["articles_total"] == 164
    assert again["classified"] == 0  # everything was decided by this model the night before
    assert query(db, "select count(*) from articles")[0][0] == 164
    assert query(db, "pragma integrity_check")[0][0] == "ok"
    assert lock_path_for(db).read_text() == ""  # released cleanly


def test_run_once_without_a_model_warns_and_still_crawls(tmp_path, mirror):
    db = tmp_path / "nomodel.db"
    env = {**os.environ, "PRESSMON_MODEL": str(tmp_path / "missing.joblib")}
    result = pressmon("run-once", "--db", str(db), "--mirror", mirror, "--politeness-scale", "0.05", env=env)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads(result.stdout.strip().splitlines()[-1])
    assert summary["articles_total"] == 164 and summary["classified"] is None
    assert "classification skipped" in summary["warnings"][0]
    assert "WARNING" in result.stdout and "missing.joblib" in result.stdout
    assert Path(f"{db}.nightly.log").exists()  # the default log file, beside the database


def test_the_crawl_childs_lines_are_relayed_at_their_own_level():
    lines = ["2026-01-04 01:30:02 [scrapy.core.engine] INFO: Spider opened\n",
             "2026-01-04 01:30:09 [scrapy.core.scraper] ERROR: Spider error processing <GET https://x/>\n",
             "Traceback (most recent call last):\n", "  File \"x.py\", line 1, in <module>\n", "ValueError: boom\n",
             "\n", "2026-01-04 01:31:00 [scrapy.extensions.logstats] WARNING: slow\n", "Run 20260104T013000\n"]
    log = logging.getLogger("test.relay")
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    try:
        relay(lines, log)
    finally:
        log.removeHandler(handler)
    got = [(r.levelname, r.getMessage()) for r in records]
    assert got == [("INFO", "[scrapy.core.engine] Spider opened"),
                   ("ERROR", "[scrapy.core.scraper] Spider error processing <GET https://x/>"),
                   ("ERROR", "Traceback (most recent call last):"), ("ERROR", '  File "x.py", line 1, in <module>'),
                   ("ERROR", "ValueError: boom"), ("WARNING", "[scrapy.extensions.logstats] slow"),
                   ("WARNING", "Run 20260104T013000")]


@pytest.fixture
def machine_tz(monkeypatch):
    def set_tz(name):
        monkeypatch.setenv("TZ", name)
        time.tzset()

    yield set_tz
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("machine, hour, minute", [("UTC", 18, 30), ("Asia/Ho_Chi_Minh", 1, 30),
                                                   ("Europe/Paris", None, 30)])
def test_the_job_runs_at_01_30_in_vietnam_whatever_the_machine_clock(machine_tz, machine, hour, minute):
    import schedule
    from zoneinfo import ZoneInfo

    machine_tz(machine)
    job = register_job(schedule.Scheduler(), "x.db")
    # schedule keeps next_run as naive machine-local time.
    at = job.next_run.replace(tzinfo=ZoneInfo(machine))
    in_vietnam = at.astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert (in_vietnam.hour, in_vietnam.minute) == (1, 30)
    if hour is not None:
        assert (job.next_run.hour, job.next_run.minute) == (hour, minute)
    assert timedelta(0) < at - datetime.now(ZoneInfo(machine)) <= timedelta(days=1)
    assert job.unit == "days" and job.interval == 1
    with pytest.raises(ValueError):
        register_job(schedule.Scheduler(), "x.db", at="1:30 am")


def test_sigterm_stops_the_scheduler_cleanly(tmp_path):
    db, log_file = tmp_path / "s.db", tmp_path / "s.log"
    process = subprocess.Popen([sys.executable, "-m", "pressmon.pipeline.cli", "schedule", "--db", str(db), "--at", "03:00",
                                "--log-file", str(log_file)], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        first = process.stdout.readline()
        assert "scheduler started" in first and "03:00 +07" in first, first + process.stderr.read()
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=5) == 0
        assert time.monotonic() - started < 5
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    logged = log_file.read_text(encoding="utf-8")
    assert "SIGTERM received" in logged and "scheduler stopped" in logged
    assert not lock_path_for(db).exists() or lock_path_for(db).read_text() == ""


def test_sigterm_mid_cycle_stops_the_crawl_and_releases_the_lock(tmp_path, mirror, topic_model):
    db = tmp_path / "stop.db"
    process = subprocess.Popen([sys.executable, "-m", "pressmon.pipeline.cli", "run-once", "--db", str(db), "--mirror",
                                mirror, "--politeness-scale", "0.3"], cwd=ROOT, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and _count_quietly(db) < 10:
            time.sleep(0.2)
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 1, out[-2000:] + err[-2000:]
    summary = json.loads(out.strip().splitlines()[-1])
    assert summary["status"] == "interrupted"
    assert 10 <= summary["articles_total"] < 164
    assert query(db, "pragma integrity_check")[0][0] == "ok"
    lock = CycleLock(db).acquire()  # free, and released cleanly
    assert lock.previous is None
    lock.release()


def _count_quietly(db):
    try:
        return query(db, "select count(*) from articles")[0][0]
    except sqlite3.Error:
        return 0
