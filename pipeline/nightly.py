"""The nightly cycle: crawl → classify → publish, once (`pressmon run-once`) or every night
at a local time in Vietnam (`pressmon schedule`).

* The crawl runs in a child process (`python -m pipeline.cli crawl`): Scrapy's Twisted reactor
  cannot be started twice in one Python process, and the scheduler lives for months.
* Classification runs here, on the stored items the current model has not decided yet, so a
  night that was killed half-way is finished by the next one.
* Publishing copies nothing (Datasette reads the same SQLite file); the cycle's end is
  recorded in `<db>.last-cycle.json` and in the log.
* `<db>.lock` holds the PID and start time of the running cycle under an `fcntl.flock` on an
  open descriptor, which the kernel drops when the holder dies, even by SIGKILL. The crawl
  child inherits the descriptor, so the lock is held as long as any part of the cycle lives.
  A lock file that still names a holder when the lock is free is the trace of a cycle that
  did not finish: it is logged, its `running` crawl rows are marked `interrupted`, and the
  new cycle proceeds.
"""

from __future__ import annotations

import fcntl
import json
import logging
import logging.handlers
import os
import re
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime
from pathlib import Path

import click

DEFAULT_AT = "01:30"
DEFAULT_TZ = "Asia/Ho_Chi_Minh"
# How long a crawl child gets to stop after SIGTERM before it is killed (the store is
# crash-safe, so a kill loses at most the item in flight).
STOP_GRACE_SECONDS = 60.0
ROOT = Path(__file__).resolve().parents[1]
_RUN_LINE = re.compile(r"^run (\d{8}T\d{6})\s*$")
_AT = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")

logger = logging.getLogger("pressmon.nightly")


class AlreadyRunning(RuntimeError):
    """Another cycle holds the lock of this database."""

    def __init__(self, lock_path: Path, pid: int | None, started_at: str | None):
        self.lock_path, self.pid, self.started_at = lock_path, pid, started_at
        super().__init__(f"another pressmon cycle is running on this database "
                         f"(PID {pid if pid is not None else '?'}, since {started_at or '?'}; lock {lock_path})")


class Interrupted(Exception):
    """A stop was requested (SIGTERM/SIGINT) while a cycle ran."""


# Lock ------------------------------------------------------------------------------------

def lock_path_for(db_path: str | os.PathLike[str]) -> Path:
    return Path(f"{Path(db_path).resolve()}.lock")


def _read_holder(fd: int) -> dict:
    os.lseek(fd, 0, os.SEEK_SET)
    raw = b""
    while chunk := os.read(fd, 4096):
        raw += chunk
    try:
        holder = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except ValueError:
        holder = {"raw": raw.decode("utf-8", "replace")[:200]}
    return holder if isinstance(holder, dict) else {}


class CycleLock:
    """`<db>.lock`: one cycle per database at a time, released by the kernel on any death.

    The file is never deleted (deleting a flock'ed file lets a second process lock a new
    inode under the same name); an empty file means the last holder released it cleanly.
    """

    def __init__(self, db_path: str | os.PathLike[str]):
        self.path = lock_path_for(db_path)
        self.fd: int | None = None
        self.previous: dict | None = None  # holder left by a cycle that did not finish
        self.started_at: str | None = None

    def acquire(self) -> CycleLock:
        from pipeline.store import now

        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited unless passed
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise AlreadyRunning(self.path, holder.get("pid"), holder.get("started_at")) from None
        except BaseException:
            os.close(fd)
            raise
        left = _read_holder(fd)
        self.previous = left or None
        self.started_at = now()
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, json.dumps({"pid": os.getpid(), "started_at": self.started_at}).encode("utf-8"))
        os.fsync(fd)
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> CycleLock:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()


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

def crawl_command(db_path: str | os.PathLike[str], mirror: str | None = None,
                  politeness_scale: float = 1.0) -> list[str]:
    args = [sys.executable, "-m", "pipeline.cli", "crawl", "--db", str(Path(db_path).resolve()),
            "--politeness-scale", repr(float(politeness_scale)), "--no-progress"]
    if mirror:
        args += ["--mirror", mirror]
    return args


def _run_crawl_child(db_path, mirror, politeness_scale, lock: CycleLock, stop: StopControl,
                     log: logging.Logger) -> tuple[int, str | None]:
    """Run the crawl child, relaying its output to the log; returns (exit code, run id)."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"
    crawl_log = log.getChild("crawl")
    run_id = None
    stop.check()
    # Own session: a Ctrl-C on the terminal reaches only us, and we forward one SIGTERM.
    child = subprocess.Popen(crawl_command(db_path, mirror, politeness_scale), cwd=ROOT, env=env,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, encoding="utf-8", errors="replace", pass_fds=(lock.fd,),
                             start_new_session=True)
    stop.child = child
    log.info("crawl started: PID %s", child.pid)
    try:
        if stop.requested:  # a signal that arrived between check() and child assignment
            stop.requested = False
            stop.request()
        for line in child.stdout:
            line = line.rstrip("\n")
            match = _RUN_LINE.match(line)
            if match:
                run_id = match.group(1)
            if line.strip():
                crawl_log.info("%s", line)
        returncode = child.wait()
    finally:
        if child.poll() is None:  # we are leaving by an exception: do not orphan the crawl
            child.kill()
            child.wait()
        stop.child_done()
    return returncode, run_id


def _run_rows_since(store, started_at: str) -> list[str]:
    return [r[0] for r in store.db.execute(
        "SELECT DISTINCT run_id FROM crawl_runs WHERE started_at >= ? ORDER BY run_id", [started_at]).fetchall()]


def _mark_interrupted(store, since: str, log: logging.Logger) -> None:
    from pipeline.migrations import immediate_transaction

    with immediate_transaction(store.db):
        cursor = store.db.execute("UPDATE crawl_runs SET status = 'interrupted' "
                                  "WHERE status = 'running' AND started_at >= ?", [since])
    if cursor.rowcount:
        log.warning("%d crawl rows of the unfinished cycle marked interrupted", cursor.rowcount)


def _model_path(model_path) -> Path:
    from nlp.topics import DEFAULT_MODEL_PATH

    return Path(model_path or os.environ.get("PRESSMON_MODEL") or DEFAULT_MODEL_PATH)


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
    from nlp.topics import ModelNotFound
    from pipeline.classify import classify_stored, load_model
    from pipeline.store import Store, now

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
                    _mark_interrupted(store, lock.previous["started_at"], log)
        try:
            # 1. Crawl.
            returncode, run_id = _run_crawl_child(db_path, mirror, politeness_scale, lock, stop, log)
            summary["crawl_returncode"] = returncode
            with Store(db_path) as store:
                run_ids = [run_id] if run_id else _run_rows_since(store, lock.started_at)
                summary["run_id"] = run_ids[-1] if run_ids else None
                if run_ids:
                    marks = ",".join("?" for _ in run_ids)
                    row = store.db.execute(
                        "SELECT COALESCE(SUM(pages_fetched), 0), COALESCE(SUM(articles_new), 0), "
                        "COALESCE(SUM(articles_updated), 0), COALESCE(SUM(errors), 0) "
                        f"FROM crawl_runs WHERE run_id IN ({marks})", run_ids).fetchone()
                    (summary["pages_fetched"], summary["articles_new"], summary["articles_updated"],
                     summary["crawl_errors"]) = row
            if summary["run_id"]:  # source health: <db>.morning.md, e-mailed when configured
                try:
                    from pipeline.health import nightly_health

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
            path = _model_path(model_path)
            try:
                model = load_model(path)
            except ModelNotFound as exc:
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


# Every night -----------------------------------------------------------------------------

def register_job(scheduler, db_path, at: str = DEFAULT_AT, tz: str = DEFAULT_TZ, **cycle_kwargs):
    """Add the nightly job to a `schedule.Scheduler` at `at` (HH:MM) in `tz`; `schedule`
    converts to the machine's clock (it needs pytz for the timezone). Returns the job."""
    if not _AT.match(at):
        raise ValueError(f"{at!r} is not HH:MM (24-hour)")
    return scheduler.every().day.at(at, tz).do(_nightly_job, db_path, **cycle_kwargs)


def _nightly_job(db_path, log: logging.Logger = logger, **cycle_kwargs) -> None:
    # An exception must not end the scheduler: the next night tries again.
    try:
        run_cycle(db_path, log=log, **cycle_kwargs)
    except AlreadyRunning as exc:
        log.warning("night skipped: %s", exc)
    except Exception:
        log.exception("cycle failed; the next night tries again")


def _describe_next(job, tz: str) -> str:
    import pytz

    local = job.next_run.astimezone()  # naive machine time → aware
    return (f"{local.astimezone(pytz.timezone(tz)):%Y-%m-%d %H:%M %Z} "
            f"(machine time {local:%Y-%m-%d %H:%M %Z})")


def serve_schedule(db_path, at: str = DEFAULT_AT, tz: str = DEFAULT_TZ, mirror: str | None = None,
                   politeness_scale: float = 1.0, log: logging.Logger = logger,
                   stop: StopControl | None = None, install_signals: bool = True) -> int:
    """Run a cycle every day at `at` in `tz` until SIGTERM/SIGINT; returns 0 when stopped.
    A stop during a cycle forwards SIGTERM to the crawl, skips the rest of the cycle and
    releases the lock; the next cycle finishes the work."""
    import schedule

    stop = stop or StopControl()
    if install_signals:
        stop.install()
    scheduler = schedule.Scheduler()
    job = register_job(scheduler, db_path, at, tz, mirror=mirror, politeness_scale=politeness_scale,
                       log=log, stop=stop)
    log.info("scheduler started (PID %s) for %s: every day at %s %s; next cycle %s",
             os.getpid(), Path(db_path).resolve(), at, tz, _describe_next(job, tz))
    while not stop.requested:
        scheduler.run_pending()
        if stop.requested:
            break
        if job.last_run is not None and job.next_run is not None and getattr(job, "_announced", None) != job.next_run:
            log.info("next cycle %s", _describe_next(job, tz))
        job._announced = job.next_run
        idle = scheduler.idle_seconds
        time.sleep(max(0.0, min(1.0, idle if idle is not None else 1.0)))
    log.info("scheduler stopped")
    return 0


# Logging and commands --------------------------------------------------------------------

def default_log_file(db_path) -> Path:
    return Path(f"{Path(db_path).resolve()}.nightly.log")


def setup_logging(log_file, level: int = logging.INFO) -> None:
    """Log to `log_file` (rotated at 10 MB, 5 kept) and stdout, once per process."""
    root = logging.getLogger("pressmon")
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    Path(log_file).parent.mkdir(parents=True, exist_ok=True)
    handlers = [logging.handlers.RotatingFileHandler(log_file, maxBytes=10_000_000, backupCount=5,
                                                     encoding="utf-8"),
                logging.StreamHandler(sys.stdout)]
    for handler in handlers:
        handler.setFormatter(fmt)
        root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False


def _check_at(ctx, param, value):
    if not _AT.match(value):
        raise click.BadParameter(f"{value!r} is not HH:MM (24-hour), e.g. 01:30")
    return value


def _check_tz(ctx, param, value):
    try:
        import pytz
    except ImportError as exc:
        raise click.UsageError("the schedule package needs pytz for --tz: pip install pytz") from exc
    try:
        pytz.timezone(value)
    except pytz.UnknownTimeZoneError as exc:
        raise click.BadParameter(f"unknown timezone {value!r}") from exc
    return value


_DB_HELP = "SQLite file the cycle crawls into, classifies and publishes (created when missing)."
_MIRROR_HELP = "For tests and demos: send every outlet request to this offline mirror, e.g. http://127.0.0.1:8765."
_LOG_HELP = "Append the log here as well as to stdout (default: <db>.nightly.log beside the database)."


@click.command("schedule")
@click.option("--db", "db_path", default="pressmon.db", show_default=True, type=click.Path(dir_okay=False),
              help=_DB_HELP)
@click.option("--at", "at", default=DEFAULT_AT, show_default=True, callback=_check_at, metavar="HH:MM",
              help="Local time of the nightly cycle, in --tz (24-hour).")
@click.option("--tz", "tz", default=DEFAULT_TZ, show_default=True, callback=_check_tz,
              help="Timezone of --at; the machine's own clock may be anything (e.g. UTC).")
@click.option("--log-file", type=click.Path(dir_okay=False), default=None, help=_LOG_HELP)
@click.option("--mirror", metavar="URL", hidden=True, help=_MIRROR_HELP)
@click.option("--politeness-scale", type=float, default=1.0, show_default=True, hidden=True,
              help="Multiply the registry's delays (testing with the mirror only).")
def schedule_command(db_path, at, tz, log_file, mirror, politeness_scale):
    """Run crawl → classify → publish every night, until SIGTERM or Ctrl-C.

    Never two cycles at once on one database (<db>.lock, released by the kernel when its
    holder dies). A stop during a cycle stops the crawl cleanly; the next cycle finishes it.

    \b
    Examples:
        pressmon schedule --db /srv/pressmon/pressmon.db
        pressmon schedule --db pressmon.db --at 02:15 --log-file /var/log/pressmon/nightly.log
    """
    setup_logging(log_file or default_log_file(db_path))
    sys.exit(serve_schedule(db_path, at=at, tz=tz, mirror=mirror, politeness_scale=politeness_scale))


@click.command("run-once")
@click.option("--db", "db_path", default="pressmon.db", show_default=True, type=click.Path(dir_okay=False),
              help=_DB_HELP)
@click.option("--mirror", metavar="URL", help=_MIRROR_HELP)
@click.option("--politeness-scale", type=float, default=1.0, show_default=True,
              help="Multiply the registry's delays and robots.txt Crawl-delay. Keep 1.0 for real sites.")
@click.option("--log-file", type=click.Path(dir_okay=False), default=None, help=_LOG_HELP)
def run_once_command(db_path, mirror, politeness_scale, log_file):
    """Run one cycle now: crawl → classify → publish (exit 1 if it did not complete).

    Exits at once with an error when another cycle holds the database's lock.

    \b
    Examples:
        pressmon run-once --db /srv/pressmon/pressmon.db
        pressmon run-once --db x.db --mirror http://127.0.0.1:8765 --politeness-scale 0.05
    """
    setup_logging(log_file or default_log_file(db_path))
    stop = StopControl()
    stop.install()
    try:
        summary = run_cycle(db_path, mirror=mirror, politeness_scale=politeness_scale, stop=stop)
    except AlreadyRunning as exc:
        raise click.ClickException(str(exc)) from exc
    click.echo(json.dumps(summary, ensure_ascii=False))
    sys.exit(0 if summary["status"] == "ok" else 1)


@click.group()
def main():
    """pressmon's nightly cycle (also registered as `pressmon schedule` and `pressmon run-once`)."""


main.add_command(schedule_command)
main.add_command(run_once_command)

if __name__ == "__main__":
    main()
