"""`pressmon nlp`: the topic classifier on its own — train, evaluate, classify any text."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from pressmon.pipeline.cli.decisions import MODEL_HELP
from pressmon.pipeline.cli.options import check_output, fail, load_model_or_fail
from pressmon.pipeline.store import DatabaseProblem, check_database


@click.group()
def nlp():
    """The topic classifier: train, evaluate, classify any text."""


@nlp.command("train")
@click.option("--db", "db_path", type=click.Path(dir_okay=False),
              help="Also learn from this database: items with a resolved reference and staff verdicts "
                   "(not used unless given).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Where to write the model (default: $PRESSMON_MODEL, or topics.joblib in the user data folder).")
def nlp_train(db_path, out_path):
    """Train the topic model on the shipped corpus (plus a database's settled items).

    \b
    Example:
        pressmon nlp train --db pressmon.db
    """
    from pressmon.pipeline.decisions.classify import default_model_path, train_model

    if db_path:
        try:
            check_database(db_path)
        except DatabaseProblem as exc:
            raise fail(str(exc)) from None
    path = Path(out_path) if out_path else default_model_path()
    if out_path:
        check_output(path, option="--out")
    model, counts = train_model(db_path)
    model.save(path)
    click.echo(f"model {model.version} written to {path} "
               f"({counts['corpus_train']} corpus items, {counts['corpus_dev']} for thresholds, "
               f"{counts['crawled']} from the database)")


@nlp.command("evaluate")
@click.option("--out-dir", type=click.Path(file_okay=False), default="docs", show_default=True,
              help="Where to write evaluation.md and evaluation.json.")
@click.option("--realnews", type=click.Path(dir_okay=False), default=None,
              help="Real news (JSON lines with a split field) for the false-alarm rate on its holdout split "
                   "(default: ../shared/realnews/articles.jsonl beside the repository); skipped when absent.")
def nlp_evaluate(out_dir, realnews):
    """Measure the classifier: test split, 5-fold cross-validation, references, real news.

    \b
    Example:
        pressmon nlp evaluate --out-dir docs
    """
    from pressmon.nlp.corpus import load_corpus
    from pressmon.nlp.evaluate import DEFAULT_REALNEWS, evaluate, write_report

    realnews = realnews or DEFAULT_REALNEWS
    if not Path(realnews).exists():
        click.echo(f"{realnews} not found: the real-news figure is skipped", err=True)
        realnews = None
    result = evaluate(load_corpus(), realnews_path=realnews)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_report(result, out / "evaluation.md", out / "evaluation.json")
    click.echo((out / "evaluation.md").read_text(encoding="utf-8"))


@nlp.command("classify")
@click.option("--model", "model_path", type=click.Path(dir_okay=False), default=None, help=MODEL_HELP)
def nlp_classify(model_path):
    """Classify JSON lines from stdin ({id, title, lead, body, published_at}); write one JSON
    line per input line, in order: {id, topics, references}, or {id, error} for a bad line.
    Blank lines are skipped.

    \b
    Example:
        echo '{"id": 1, "title": "…", "body": "…"}' | pressmon nlp classify
    """
    model = load_model_or_fail(model_path)
    for number, line in enumerate(sys.stdin, start=1):
        if line.strip():
            click.echo(json.dumps(classify_line(model, line, number), ensure_ascii=False))


def classify_line(model, line: str, number: int) -> dict:
    try:
        item = json.loads(line)
    except ValueError as exc:
        return {"id": None, "line": number, "error": f"not JSON: {exc}"}
    if not isinstance(item, dict):
        return {"id": None, "line": number, "error": "not a JSON object"}
    try:
        decided = model.classify(item)
    except Exception as exc:  # one bad item must not stop the stream: it gets its error line
        return {"id": item.get("id"), "line": number, "error": f"{type(exc).__name__}: {exc}"}
    return {"id": item.get("id"), "topics": decided["topics"], "references": decided["references"]}


COMMANDS = (nlp,)
