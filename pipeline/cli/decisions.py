"""The topic decision on stored items: classify them, and let a person confirm or reject."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from contextlib import contextmanager

import click

from pressmon.nlp.documents import TIERS, TOPICS
from pressmon.pipeline.cli.options import db_option, fail, load_model_or_fail

MODEL_HELP = ("Model file (default: $PRESSMON_MODEL, else one trained with `pressmon nlp train` in the user data "
              "folder, else the model shipped with pressmon).")


@click.command()
@db_option("SQLite file whose articles to classify.")
@click.option("--all", "every_item", is_flag=True,
              help="Reclassify every stored article, not only those this model has not decided yet. A run that "
                   "was stopped (killed, machine restarted) carries on where it stopped when run again.")
@click.option("--model", "model_path", type=click.Path(dir_okay=False), default=None, help=MODEL_HELP)
@click.option("--workers", type=click.IntRange(min=1), default=None,
              help="Processes that classify at once (default: one per CPU core).")
def classify(db_path, every_item, model_path, workers):
    """(Re)classify stored articles with the current model; earlier decisions stay, by model version.

    Progress goes to stderr: a bar on a terminal, otherwise a line every 10,000 articles or
    30 seconds (for the nightly log).

    \b
    Example:
        pressmon classify --all
    """
    from rich.console import Console

    from pressmon.pipeline.decisions.classify import classify_stored, pending_work
    from pressmon.pipeline.store import Store

    model = load_model_or_fail(model_path)
    console = Console(stderr=True)
    with Store(db_path) as store:
        work = pending_work(store, model, every_item)
        if work.resumed_after is not None:
            click.echo(f"Tiếp tục lần phân loại lại bị dừng (mô hình {model.version}): đã xong {number(work.done)} "
                       f"bài, đến bài số {work.resumed_after}; còn {number(len(work.ids))} bài.", err=True)
        with progress_display(console, work.total, work.done) as advance:
            count = classify_stored(store, model, every_item=every_item, progress=advance,
                                    workers=workers or os.cpu_count() or 1, work=work)
    click.echo(f"{count} articles classified with model {model.version}")


def number(n: float) -> str:
    """A count written the Vietnamese way: 1.234.567."""
    return f"{n:,.0f}".replace(",", ".")


def duration(seconds: float) -> str:
    seconds = round(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours} giờ {minutes} phút"
    return f"{minutes} phút {seconds} giây" if minutes else f"{seconds} giây"


class PlainProgress:
    """Progress as lines for a log: one at the start, one every `every_items` articles or
    `every_seconds` seconds, whichever comes first, and one at the end (`finish`)."""

    def __init__(self, total: int, done: int, write: Callable[[str], None], every_items: int = 10_000,
                 every_seconds: float = 30.0, clock: Callable[[], float] = time.monotonic):
        self.total, self.done, self.write, self.clock = total, done, write, clock
        self.every_items, self.every_seconds = every_items, every_seconds
        self.started = self.last_time = clock()
        self.first = self.last_done = done
        write(f"Phân loại: {number(total - done)} bài cần phân loại"
              + (f" (đã xong {number(done)}/{number(total)})" if done else ""))

    def advance(self, n: int) -> None:
        self.done += n
        now = self.clock()
        if self.done - self.last_done >= self.every_items or now - self.last_time >= self.every_seconds:
            self.last_done, self.last_time = self.done, now
            rate = (self.done - self.first) / max(now - self.started, 1e-9)
            left = f", còn khoảng {duration((self.total - self.done) / rate)}" if rate > 0 else ""
            share = f"{100 * self.done / self.total:.1f}".replace(".", ",") if self.total else "100"
            self.write(f"Phân loại: {number(self.done)}/{number(self.total)} bài ({share}%), "
                       f"{number(rate)} bài/giây{left}")

    def finish(self) -> None:
        elapsed = self.clock() - self.started
        rate = (self.done - self.first) / max(elapsed, 1e-9)
        self.write(f"Phân loại: xong {number(self.done)}/{number(self.total)} bài trong {duration(elapsed)} "
                   f"({number(rate)} bài/giây)")


@contextmanager
def progress_display(console, total: int, done: int):
    """`advance(n)`: a rich progress bar on a terminal (done/total, rate, time left), plain
    lines on stderr otherwise."""
    if not console.is_terminal:
        plain = PlainProgress(total, done, lambda line: click.echo(line, err=True))
        yield plain.advance
        plain.finish()
        return
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn,
                               TimeRemainingColumn)

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TaskProgressColumn(),
               TextColumn("{task.fields[rate]} bài/giây"), TextColumn("còn"), TimeRemainingColumn())
    with Progress(*columns, console=console, transient=True) as bar:
        task = bar.add_task("Phân loại", total=total, completed=done, rate="–")

        def advance(n: int) -> None:
            bar.advance(task, n)
            speed = bar.tasks[task].speed
            bar.update(task, rate=number(speed) if speed else "–")

        yield advance


@click.command()
@db_option("SQLite file to record verdicts in.")
@click.option("--reviewer", default=lambda: os.environ.get("USER") or "", show_default="$USER",
              help="Who gives the verdicts (kept with each verdict; a CSV's reviewer column comes first).")
@click.option("--topic", type=click.Choice(TOPICS), help="Review only this document.")
@click.option("--tier", "tiers", multiple=True, type=click.Choice(TIERS),
              help="Which decisions to review (repeatable; default: probable).")
@click.option("--csv", "csv_file", type=click.Path(dir_okay=False),
              help="Record verdicts from a CSV file instead of asking: header article_id,topic,verdict"
                   "[,reviewer][,note], separated by commas or semicolons; verdict confirmed/rejected "
                   "(or xác nhận/bác bỏ), any case.")
def review(db_path, reviewer, topic, tiers, csv_file):
    """Confirm or reject the model's decisions; a verdict always overrides the model.

    \b
    Examples:
        pressmon review --reviewer chi.nguyen
        pressmon review --csv verdicts.csv
    """
    from pressmon.pipeline.decisions.review import (VerdictFileError, import_verdicts, pending_reviews,
                                                    read_verdict_file, review_interactively)
    from pressmon.pipeline.store import Store

    if csv_file is not None:
        try:
            with open(csv_file, encoding="utf-8-sig") as handle:
                rows = read_verdict_file(handle.read())
        except OSError as exc:
            raise fail(f"--csv {csv_file}: {exc.strerror}") from None
        except UnicodeDecodeError:
            raise fail(f"--csv {csv_file} is not UTF-8 text: save it as “CSV UTF-8”") from None
        except VerdictFileError as exc:
            raise fail(f"{csv_file}: {exc}; nothing was recorded") from None
        with Store(db_path) as store:
            try:
                recorded, already = import_verdicts(store, rows, reviewer or None)
            except VerdictFileError as exc:
                raise fail(f"{csv_file}: {exc}; nothing was recorded") from None
        click.echo(f"{recorded} verdicts recorded" + (f", {already} already recorded" if already else ""))
        return
    if not reviewer:
        raise fail("no reviewer: pass --reviewer NAME")
    with Store(db_path) as store:
        items = pending_reviews(store, topic, tiers or ("probable",))
        if not items:
            click.echo("Không có bài nào chờ xem xét.")
            return
        counts = review_interactively(
            store, items, reviewer, show=click.echo,
            ask=lambda text: click.prompt(text, default="", show_default=False))
    click.echo(f"xác nhận {counts['confirmed']}, bác bỏ {counts['rejected']}, bỏ qua {counts['skipped']}")


COMMANDS = (classify, review)
