"""The documents watched (`pressmon documents`) and the topic classifier on its own
(`pressmon nlp`: train, evaluate, classify any text)."""

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
              help="Also learn from this database: items with a resolved reference and staff verdicts.")
@click.option("--realnews", type=click.Path(dir_okay=False, exists=True),
              help="Also learn from real news (JSON lines with a split field; its dev split as negatives).")
@click.option("--realtopics", type=click.Path(dir_okay=False, exists=True),
              help="Also learn from real items labelled per document (JSON lines with tiers as labels).")
@click.option("--items", "item_files", multiple=True, type=click.Path(dir_okay=False, exists=True),
              help="Also learn from these labelled items (JSON lines in the corpus format; repeatable).")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Where to write the model (default: $PRESSMON_MODEL, or topics.npz in the user data folder).")
def nlp_train(db_path, realnews, realtopics, item_files, out_path):
    """Train the topic model. From the repository alone it is the shipped model (same
    version); every extra source must be named and gives another version.

    \b
    Examples:
        pressmon nlp train                       # the shipped recipe, into the user data folder
        pressmon nlp train --db pressmon.db      # plus the database's settled items
    """
    from pressmon.pipeline.decisions.classify import train_model, user_model_path

    if db_path:
        try:
            check_database(db_path)
        except DatabaseProblem as exc:
            raise fail(str(exc)) from None
    if out_path:
        path = Path(out_path)
        check_output(path, option="--out")
    else:
        path = user_model_path()
        path.parent.mkdir(parents=True, exist_ok=True)
    try:
        model, counts = train_model(db_path, realnews, realtopics, item_files)
    except ValueError as exc:  # a labelled-items file that is not one
        raise fail(str(exc)) from None
    model.save(path)
    extra = ", ".join(f"{n} {name}" for name, n in (("from the database", counts["crawled"]),
                                                    ("real-topics items", counts["realtopics"]),
                                                    ("items from --items", counts["items"])) if n)
    click.echo(f"model {model.version} written to {path} ({counts['corpus_train']} corpus items, "
               f"{counts['corpus_dev']} for thresholds" + (f", {extra}" if extra else "")
               + (", real news as negatives" if counts["realnews"] else "") + ")")


@nlp.command("evaluate")
@click.option("--out-dir", type=click.Path(file_okay=False), required=True,
              help="Where to write evaluation.md and evaluation.json (the repository's docs/ only when you mean it).")
@click.option("--realnews", type=click.Path(dir_okay=False), default=None,
              help="Real news (JSON lines with a split field) for the false-alarm rate on its holdout split "
                   "(default: ../shared/realnews/articles.jsonl beside the repository); skipped when absent.")
@click.option("--realtopics", type=click.Path(dir_okay=False), default=None,
              help="Real items labelled per document, for figures on real text "
                   "(default: ../shared/realtopics/items.jsonl beside the repository); skipped when absent.")
@click.option("--train-realnews", is_flag=True,
              help="Measure the model that also learns from the real-news dev split, not the shipped recipe.")
@click.option("--model-out", type=click.Path(dir_okay=False), default=None,
              help="Also save the model measured, with its model card (<name>.card.md) beside it.")
def nlp_evaluate(out_dir, realnews, realtopics, train_realnews, model_out):
    """Measure the classifier: test split, 5-fold cross-validation, references, real text.

    \b
    Examples:
        pressmon nlp evaluate --out-dir /tmp/eval
        pressmon nlp evaluate --out-dir docs --model-out nlp/data/model/topics.npz   # re-ship
    """
    from pressmon.nlp.corpus import load_corpus
    from pressmon.nlp.evaluate import DEFAULT_REALNEWS, DEFAULT_REALTOPICS, evaluate, model_card, write_report

    realnews = realnews or DEFAULT_REALNEWS
    realtopics = realtopics or DEFAULT_REALTOPICS
    for name, path in (("real-news", realnews), ("real-topics", realtopics)):
        if not Path(path).exists():
            click.echo(f"{path} not found: the {name} figures are skipped", err=True)
    if train_realnews and not Path(realnews).exists():
        raise fail(f"--train-realnews needs the real-news file, not found at {realnews}")
    result, model = evaluate(load_corpus(), realnews_path=realnews, realtopics_path=realtopics,
                             train_with_realnews=train_realnews, log=lambda m: click.echo(m, err=True))
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    write_report(result, out / "evaluation.md", out / "evaluation.json")
    if model_out:
        model.save(model_out)
        Path(model_out).with_name(Path(model_out).stem + ".card.md").write_text(model_card(result), encoding="utf-8")
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


@click.command()
@click.option("--json", "as_json", is_flag=True,
              help="Print them as JSON (id, number, kind, title, label, short_label, signed_on, signer, "
                   "implementing, related, signs).")
def documents(as_json):
    """List the documents pressmon watches (nlp/documents.toml, or the file $PRESSMON_DOCUMENTS names).

    \b
    Example:
        pressmon documents --json
    """
    from pressmon.nlp.documents import DOCUMENTS

    if as_json:
        click.echo(json.dumps([d.as_dict() for d in DOCUMENTS.values()], ensure_ascii=False, indent=2))
        return
    for d in DOCUMENTS.values():
        counted = ", ".join(c.key for c in d.implementing)
        click.echo(f"{d.id:<10} {d.key:<14} {d.label} — {d.subject} ({d.signed_on:%d/%m/%Y}, {d.signer})"
                   + (f"; counted with it: {counted}" if counted else ""))


COMMANDS = (documents, nlp)
