"""One nightly cycle: crawl → classify → publish, now (`pressmon run-once`) or as the
scheduler's job (`pressmon schedule`, schedule.py).

* The crawl runs in a child process (`python -m pressmon.pipeline.cli crawl --run-id …`):
  Scrapy's Twisted reactor cannot be started twice in one Python process, and the scheduler
  lives for months. The cycle makes the run id and hands it to the child.
* Classification runs here, on the stored items the current model has not decided yet, so a
  night that was killed half-way is finished by the next one.
* Publishing copies nothing (Datasette reads the same SQLite file); the cycle's end is
  recorded in `<db>.last-cycle.json` and in the log.
* `<db>.lock` (lock.py) keeps two cycles off one database; a lock left by a cycle that did
  not finish is logged, its `running` crawl rows are marked `interrupted`, and the new cycle
  proceeds.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from pressmon.crawlers.dates import now
from pressmon.pipeline.nightly.lock import CycleLock
from pressmon.pipeline.nightly.logs import relay
from pressmon.pipeline.store import Store, new_run_id

# How long a crawl child gets to stop after SIGTERM before it is killed (the store is
# crash-safe, so a kill loses at most the item in flight).
STOP_GRACE_SECONDS = 60.0

logger = logging.getLogger("pressmon.nightly")


class Interrupted(Exception):
    """A stop was requested (SIGTERM/SIGINT) while a cycle ran."""


# Stopping --------------------------------------------------------------------------------

class StopControl:
    """Set by SIGTERM/SIGINT; forwards one SIGTERM to the running crawl child (Scrapy then
    closes its spiders gracefully) and kills it if it has not stopped after a grace period."""

    def __init__(self, grace_seconds: float = STOP_GRACE_SECONDS):
        self.requested = False
        self.grace_seconds = grace_seconds
        self.child: subprocess.Popen | None = None
        self._timer: threading.Timer | None = None

    def request(self, signum: int | None = None, frame=None) -> None:
        first = not self.requested
        self.requested = True
        if signum is not None:
            logger.warning("%s received: stopping", signal.Signals(signum).name)
        child = self.child
        if not first and child is not None and child.poll() is None:
            child.kill()  # a second signal: do not wait for the graceful stop
            return
        if first and child is not None and child.poll() is None:
            try:
                child.send_signal(signal.SIGTERM)
            except ProcessLookupError:
                return
            self._timer = threading.Timer(self.grace_seconds, self._kill, args=(child,))
            self._timer.daemon = True
            self._timer.start()

    def _kill(self, child: subprocess.Popen) -> None:
        if child.poll() is None:
            logger.error("crawl PID %s did not stop within %.0f s: killing it", child.pid, self.grace_seconds)
            child.kill()

    def child_done(self) -> None:
        self.child = None
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self.request)
        signal.signal(signal.SIGINT, self.request)

    def check(self) -> None:
        if self.requested:
            raise Interrupted()


# One cycle -------------------------------------------------------------------------------

def crawl_command(db_path: str | os.PathLike[str], run_id: str, mirror: str | None = None,
                  politeness_scale: float = 1.0) -> list[str]:
    args = [sys.executable, "-m", "pressmon.pipeline.cli", "crawl", "--db", str(Path(db_path).resolve()),
            "--run-id", run_id, "--politeness-scale", repr(float(politeness_scale)), "--no-progress"]
    if mirror:
        args += ["--mirror", mirror]
    return args


def _run_crawl_child(db_path, run_id: str, mirror, politeness_scale, lock: CycleLock, stop: StopControl,
                     log: logging.Logger) -> int:
    """Run the crawl child under `run_id`, relaying its output to the log; returns its exit code."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    stop.check()
    # Own session: a Ctrl-C on the terminal reaches only us, and we forward one SIGTERM.
    child = subprocess.Popen(crawl_command(db_path, run_id, mirror, politeness_scale), env=env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, encoding="utf-8", errors="replace", pass_fds=(lock.fd,),
                             start_new_session=True)
    stop.child = child
    log.info("crawl started: PID %s", child.pid)
    try:
        if stop.requested:  # a signal that arrived between check() and child assignment
            stop.requested = False
            stop.request()
        relay(child.stdout, log.getChild("crawl"))
        returncode = child.wait()
    finally:
        if child.poll() is None:  # we are leaving by an exception: do not orphan the crawl
            child.kill()
            child.wait()
        stop.child_done()
    return returncode


def _write_last_cycle(db_path, summary: dict) -> Path:
    path = Path(f"{Path(db_path).resolve()}.last-cycle.json")
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")
    os.replace(tmp, path)
    return path


def run_cycle(db_path: str | os.PathLike[str], mirror: str | None = None, politeness_scale: float = 1.0,
              log: logging.Logger = logger, model_path: str | os.PathLike[str] | None = None,
              stop: StopControl | None = None) -> dict:
    """One cycle now: crawl (child process) → classify what the current model has not
    decided → publish (record the end). Raises AlreadyRunning when another cycle holds the
    lock. Returns the summary also written to `<db>.last-cycle.json`; its `status` is
    `ok`, `crawl-failed` (the crawl exited non-zero; stored items were still classified)
    or `interrupted` (a stop was requested; the next cycle finishes the work)."""
    from pressmon.nlp.topics import ModelError
    from pressmon.pipeline.decisions.classify import classify_stored, load_model

    stop = stop or StopControl()
    db_path = Path(db_path).resolve()
    lock = CycleLock(db_path).acquire()
    clock = time.monotonic()
    summary: dict = {"db": str(db_path), "started_at": lock.started_at, "pid": os.getpid(), "run_id": None,
                     "status": "running", "crawl_returncode": None, "pages_fetched": 0, "articles_new": 0,
                     "articles_updated": 0, "crawl_errors": 0, "articles_total": None, "classified": None,
                     "model_version": None, "warnings": [], "previous_unfinished": lock.previous,
                     "health": None}
    try:
        log.info("cycle started on %s (PID %s)", db_path, os.getpid())
        if lock.previous:
            log.warning("the previous cycle (PID %s, started %s) did not finish; its lock is released and "
                        "this cycle finishes its work", lock.previous.get("pid"), lock.previous.get("started_at"))
            if lock.previous.get("started_at") and db_path.exists():
                with Store(db_path) as store:
                    interrupted = store.mark_interrupted(lock.previous["started_at"])
                if interrupted:
                    log.warning("%d crawl rows of the unfinished cycle marked interrupted", interrupted)
        try:
            # 1. Crawl.
            run_id = new_run_id()
            returncode = _run_crawl_child(db_path, run_id, mirror, politeness_scale, lock, stop, log)
            summary["crawl_returncode"] = returncode
            if db_path.exists():
                with Store(db_path) as store:
                    row = store.db.execute(
                        "SELECT COUNT(*), COALESCE(SUM(pages_fetched), 0), COALESCE(SUM(articles_new), 0), "
                        "COALESCE(SUM(articles_updated), 0), COALESCE(SUM(errors), 0) "
                        "FROM crawl_runs WHERE run_id = ?", [run_id]).fetchone()
                if row[0]:
                    (summary["pages_fetched"], summary["articles_new"], summary["articles_updated"],
                     summary["crawl_errors"]) = row[1:]
                    summary["run_id"] = run_id
            if summary["run_id"]:  # source health: <db>.morning.md, e-mailed when configured
                try:
                    from pressmon.pipeline.nightly.health import nightly_health

                    summary["health"] = nightly_health(db_path, summary["run_id"], log=log)
                except Exception as exc:  # a health check must never cost the night its classification
                    log.exception("source health not assessed")
                    summary["warnings"].append(f"source health not assessed: {exc}")
            stop.check()
            if returncode != 0:
                log.error("crawl exited with code %s; classifying what was stored", returncode)
            else:
                log.info("crawl %s finished: %s pages, %s new, %s updated, %s errors", summary["run_id"],
                         summary["pages_fetched"], summary["articles_new"], summary["articles_updated"],
                         summary["crawl_errors"])
            # 2. Classify.
            try:
                model = load_model(model_path)
            except ModelError as exc:
                message = f"{exc}; classification skipped"
                log.warning("%s", message)
                summary["warnings"].append(message)
            else:
                summary["model_version"] = model.version
                counted = [0]

                def tick(n: int) -> None:
                    counted[0] += n
                    stop.check()  # each item is its own transaction: stopping between them is clean

                with Store(db_path) as store:
                    try:
                        classify_stored(store, model, progress=tick)
                    finally:
                        summary["classified"] = counted[0]
                log.info("%s articles classified with model %s", counted[0], model.version)
            summary["status"] = "ok" if returncode == 0 else "crawl-failed"
        except Interrupted:
            summary["status"] = "interrupted"
            log.warning("cycle interrupted; the next cycle finishes the work")
        # 3. Publish: Datasette serves this very file; record the end.
        if db_path.exists():
            with Store(db_path) as store:
                summary["articles_total"] = store.db.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
                store.db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        summary["finished_at"] = now()
        summary["duration_seconds"] = round(time.monotonic() - clock, 1)
        _write_last_cycle(db_path, summary)
        log.info("cycle %s in %.1f s: run %s, %s new articles, %s in the database", summary["status"],
                 summary["duration_seconds"], summary["run_id"], summary["articles_new"], summary["articles_total"])
        return summary
    finally:
        lock.release()
