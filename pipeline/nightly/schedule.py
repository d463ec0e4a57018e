"""Every night at a local time in Vietnam, whatever the machine's clock: the `schedule`
package runs one cycle (cycle.py) a day until SIGTERM or Ctrl-C."""

from __future__ import annotations

import logging
import os
import re
import time
from pathlib import Path

from pressmon.crawlers.dates import TIMEZONE_NAME
from pressmon.pipeline.nightly.cycle import StopControl, logger, run_cycle
from pressmon.pipeline.nightly.lock import AlreadyRunning

DEFAULT_AT = "01:30"
DEFAULT_TZ = TIMEZONE_NAME
AT_PATTERN = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


def register_job(scheduler, db_path, at: str = DEFAULT_AT, tz: str = DEFAULT_TZ, **cycle_kwargs):
    """Add the nightly job to a `schedule.Scheduler` at `at` (HH:MM) in `tz`; `schedule`
    converts to the machine's clock (it needs pytz for the timezone). Returns the job."""
    if not AT_PATTERN.match(at):
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
