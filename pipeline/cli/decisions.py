"""The topic decision on stored items: classify them, and let a person confirm or reject."""

from __future__ import annotations

import os

import click

from pressmon.nlp.documents import TIERS, TOPICS
from pressmon.pipeline.cli.options import db_option, fail, load_model_or_fail

MODEL_HELP = ("Model file (default: $PRESSMON_MODEL, else one trained with `pressmon nlp train` in the user data "
              "folder, else the model shipped with pressmon).")


@click.command()
@db_option("SQLite file whose articles to classify.")
@click.option("--all", "every_item", is_flag=True,
              help="Reclassify every stored article, not only those this model has not decided yet.")
@click.option("--model", "model_path", type=click.Path(dir_okay=False), default=None, help=MODEL_HELP)
def classify(db_path, every_item, model_path):
    """(Re)classify stored articles with the current model; earlier decisions stay, by model version.

    \b
    Example:
        pressmon classify --all
    """
    from rich.console import Console
    from rich.progress import Progress

    from pressmon.pipeline.decisions.classify import classify_stored
    from pressmon.pipeline.store import Store

    model = load_model_or_fail(model_path)
    console = Console(stderr=True)
    with Store(db_path) as store, Progress(console=console, disable=not console.is_terminal, transient=True) as bar:
        task = bar.add_task("Phân loại", total=None)
        count = classify_stored(store, model, every_item=every_item, progress=lambda n: bar.advance(task, n))
    click.echo(f"{count} articles classified with model {model.version}")


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
