"""Nightly operation: run-once, schedule, health, canary."""

from __future__ import annotations

import json
import smtplib
import sys

import click

from pressmon.crawlers.dates import TIMEZONE_NAME
from pressmon.pipeline.cli.crawling import POLITENESS_HELP
from pressmon.pipeline.cli.options import db_option, fail

CYCLE_DB_HELP = "SQLite file the cycle crawls into, classifies and publishes (created when missing)."
MIRROR_HELP = "For tests and demos: send every outlet request to this offline mirror, e.g. http://127.0.0.1:8765."
LOG_HELP = "Append the log here as well as to stdout (default: <db>.nightly.log beside the database)."


def _check_at(ctx, param, value):
    from pressmon.pipeline.nightly.schedule import AT_PATTERN

    if not AT_PATTERN.match(value):
        raise fail(f"--at {value!r} is not HH:MM (24-hour), e.g. 01:30")
    return value


def _check_tz(ctx, param, value):
    import pytz

    try:
        pytz.timezone(value)
    except pytz.UnknownTimeZoneError:
        raise fail(f"--tz {value!r} is not a time zone, e.g. Asia/Ho_Chi_Minh") from None
    return value


@click.command("schedule")
@db_option(CYCLE_DB_HELP, must_exist=False)
@click.option("--at", "at", default="01:30", show_default=True, callback=_check_at, metavar="HH:MM",
              help="Local time of the nightly cycle, in --tz (24-hour).")
@click.option("--tz", "tz", default=TIMEZONE_NAME, show_default=True, callback=_check_tz,
              help="Timezone of --at; the machine's own clock may be anything (e.g. UTC).")
@click.option("--log-file", type=click.Path(dir_okay=False), default=None, help=LOG_HELP)
@click.option("--mirror", metavar="URL", hidden=True, help=MIRROR_HELP)
@click.option("--politeness-scale", type=float, default=1.0, show_default=True, hidden=True,
              help="Multiply the registry's delays (testing with the mirror only).")
def schedule(db_path, at, tz, log_file, mirror, politeness_scale):
    """Run crawl → classify → publish every night, until SIGTERM or Ctrl-C.

    Never two cycles at once on one database (<db>.lock, released by the kernel when its
    holder dies). A stop during a cycle stops the crawl cleanly; the next cycle finishes it.

    \b
    Examples:
        pressmon schedule --db /srv/pressmon/pressmon.db
        pressmon schedule --at 02:15 --log-file /var/log/pressmon/nightly.log
    """
    from pressmon.pipeline.nightly.logs import default_log_file, setup_logging
    from pressmon.pipeline.nightly.schedule import serve_schedule

    setup_logging(log_file or default_log_file(db_path))
    sys.exit(serve_schedule(db_path, at=at, tz=tz, mirror=mirror, politeness_scale=politeness_scale))


@click.command("run-once")
@db_option(CYCLE_DB_HELP, must_exist=False)
@click.option("--mirror", metavar="URL", help=MIRROR_HELP)
@click.option("--politeness-scale", type=float, default=1.0, show_default=True, help=POLITENESS_HELP)
@click.option("--log-file", type=click.Path(dir_okay=False), default=None, help=LOG_HELP)
def run_once(db_path, mirror, politeness_scale, log_file):
    """Run one cycle now: crawl → classify → publish (exit 1 if it did not complete).

    Exits at once with an error when another cycle holds the database's lock.

    \b
    Examples:
        pressmon run-once --db /srv/pressmon/pressmon.db
        pressmon run-once --db x.db --mirror http://127.0.0.1:8765 --politeness-scale 0.05
    """
    from pressmon.pipeline.nightly.cycle import StopControl, run_cycle
    from pressmon.pipeline.nightly.lock import AlreadyRunning
    from pressmon.pipeline.nightly.logs import default_log_file, setup_logging

    setup_logging(log_file or default_log_file(db_path))
    stop = StopControl()
    stop.install()
    try:
        summary = run_cycle(db_path, mirror=mirror, politeness_scale=politeness_scale, stop=stop)
    except AlreadyRunning as exc:
        raise fail(str(exc)) from None
    click.echo(json.dumps(summary, ensure_ascii=False))
    sys.exit(0 if summary["status"] == "ok" else 1)


@click.command("health")
@db_option("The pressmon SQLite database.")
@click.option("--run-id", default=None, help="The crawl run to assess (default: the latest).")
@click.option("--send", is_flag=True, help="Also e-mail the summary (PRESSMON_SMTP_* settings).")
def health(db_path, run_id, send):
    """Assess a crawl run's source health and print the morning summary (Markdown).

    \b
    Examples:
        pressmon health
        pressmon health --run-id 20260104T013000 --send
    """
    from pressmon.pipeline.nightly.health import health_summary, summary_subject
    from pressmon.pipeline.nightly.mail import send_summary

    try:
        markdown, rows = health_summary(db_path, run_id)
    except LookupError as exc:
        raise fail(str(exc)) from None
    click.echo(markdown)
    if send:
        try:
            sent = send_summary(markdown, subject=summary_subject(rows))
        except (OSError, smtplib.SMTPException) as exc:
            raise fail(f"e-mail not sent: {exc}") from None
        if not sent:
            raise fail("e-mail not configured: set PRESSMON_SMTP_HOST and PRESSMON_MAIL_TO")
        click.echo("(đã gửi e-mail)", err=True)


@click.command("canary")
@click.option("--outlet", "outlet_ids", multiple=True, metavar="ID", help="Check only this outlet (repeatable).")
@click.option("--mirror", metavar="URL", help="For tests and demos: fetch from this offline mirror instead.")
@click.option("--politeness-scale", type=float, default=1.0, show_default=True, help=POLITENESS_HELP)
@click.option("--json", "as_json", is_flag=True, help="Print the reports as JSON instead of Markdown.")
def canary(outlet_ids, mirror, politeness_scale, as_json):
    """Fetch each outlet's newest article from its live site, the way a crawl fetches it, and
    report the fields that no longer extract (exit 1 when an outlet is broken).

    \b
    Examples:
        pressmon canary
        pressmon canary --outlet baogialai --json
    """
    from pressmon.pipeline.nightly.canary import render_canary, run_canary

    try:
        reports = run_canary(list(outlet_ids) or None, mirror, politeness_scale)
    except LookupError as exc:
        raise fail(str(exc)) from None
    click.echo(json.dumps(reports, ensure_ascii=False, indent=2) if as_json else render_canary(reports))
    sys.exit(1 if any(r["status"] == "failed" for r in reports) else 0)


COMMANDS = (run_once, schedule, health, canary)
