"""The `pressmon` command line."""

from __future__ import annotations

import json
import os
import sys
import urllib.request
from pathlib import Path

import click

DEFAULT_DB = "pressmon.db"
DEMO_DB = "pressmon-demo.db"


@click.group()
@click.version_option(package_name="pressmon")
def cli():
    """pressmon: which outlets disseminated QĐ 1894/QĐ-TTg and CT 20/CT-TTg in Gia Lai.

    Crawl the outlets of the registry into SQLite, find document references, publish the
    result with Datasette.
    """


@cli.command()
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True, type=click.Path(dir_okay=False),
              help="SQLite file to create or update.")
@click.option("--outlet", "outlets", multiple=True, metavar="ID",
              help="Crawl only this outlet (repeatable); see `pressmon outlets`.")
@click.option("--since", metavar="YYYY-MM-DD", help="Backfill bound: skip items published before this day.")
@click.option("--mirror", metavar="URL", help="Send every outlet request to this offline mirror, e.g. http://127.0.0.1:8765.")
@click.option("--politeness-scale", type=float, default=1.0, show_default=True,
              help="Multiply the registry's delays and robots.txt Crawl-delay. Keep 1.0 for real sites.")
@click.option("--progress/--no-progress", default=None, help="Progress bars (default: when stderr is a terminal).")
def crawl(db_path, outlets, since, mirror, politeness_scale, progress):
    """Crawl the outlets into the database.

    \b
    Example:
        pressmon crawl --db pressmon.db --outlet baogialai --since 2025-07-01
    """
    from pipeline.crawl import run_crawl

    _check_since(since)
    try:
        run_id = run_crawl(db_path, list(outlets) or None, since=since, mirror=mirror,
                           politeness_scale=politeness_scale, progress=progress)
    except ValueError as exc:
        raise click.UsageError(str(exc)) from exc
    _echo_run_summary(db_path, run_id)


@cli.command()
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True,
              type=click.Path(exists=True, dir_okay=False), help="SQLite file to publish.")
@click.option("--port", default=8001, show_default=True, help="Port on 127.0.0.1.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
def serve(db_path, port, host):
    """Publish the database with Datasette (read-only for everyone).

    \b
    Example:
        pressmon serve --db pressmon.db --port 8001
    """
    from pipeline.serve import serve as serve_datasette

    click.echo(f"Datasette: http://{host}:{port}/")
    serve_datasette(db_path, host=host, port=port)


@cli.command()
@click.option("--db", "db_path", default=DEMO_DB, show_default=True, type=click.Path(dir_okay=False),
              help="SQLite file to build or update; run again, it behaves as a second night.")
@click.option("--serve/--no-serve", "serve_after", default=True, show_default=True,
              help="Start Datasette on the result when the crawl ends.")
@click.option("--port", default=8001, show_default=True, help="Datasette port on 127.0.0.1.")
@click.option("--politeness-scale", type=float, default=0.2, show_default=True,
              help="Multiply the registry's delays and robots.txt Crawl-delay. The mirror is our own loopback server, so the demo waits a fifth of what a real site gets.")
@click.option("--progress/--no-progress", default=None, help="Progress bars (default: when stderr is a terminal).")
def demo(db_path, serve_after, port, politeness_scale, progress):
    """Crawl the bundled offline mirror of the outlets with the real spiders, store, find
    document references, classify, and publish with Datasette. Needs no network (the first
    run trains the topic model on the shipped corpus).

    \b
    Example:
        pressmon demo                         # then open http://127.0.0.1:8001
        pressmon demo --no-serve --db x.db    # build or update x.db and exit
    """
    from crawlers.mirror.server import serve_mirror
    from pipeline.classify import DEFAULT_MODEL, train_model
    from pipeline.crawl import run_crawl

    if not DEFAULT_MODEL.exists():
        click.echo(f"No topic model at {DEFAULT_MODEL}: training one on the shipped corpus first.")
        model, _ = train_model()
        DEFAULT_MODEL.parent.mkdir(parents=True, exist_ok=True)
        model.save(DEFAULT_MODEL)
    server, base_url = serve_mirror()
    try:
        run_id = run_crawl(db_path, mirror=base_url, politeness_scale=politeness_scale, progress=progress)
    finally:
        server.shutdown()
    _echo_run_summary(db_path, run_id)
    if serve_after:
        from pipeline.serve import serve as serve_datasette

        click.echo(f"Datasette: http://127.0.0.1:{port}/")
        serve_datasette(db_path, host="127.0.0.1", port=port)


@cli.command()
@click.argument("url")
@click.option("--html", "html_file", type=click.File("rb"), help="Read the page from this file instead of fetching URL.")
@click.option("--outlet", "outlet_id", metavar="ID", help="Outlet whose selectors to use (default: from the URL's host).")
def extract(url, html_file, outlet_id):
    """Run an outlet's extraction on one page and print the fields as JSON.

    The fields are as the spider yields them, before the pipeline normalises the text.

    \b
    Example:
        pressmon extract https://baogialai.com.vn/some-slug-post565021.html
        pressmon extract https://baogialai.com.vn/x-post1.html --html page.html
    """
    from crawlers.extract import ExtractionError, extract_article
    from crawlers.registry import load_registry, outlet_for_url
    from crawlers.settings import USER_AGENT

    outlet = load_registry().get(outlet_id) if outlet_id else outlet_for_url(url)
    if outlet is None:
        raise click.UsageError(f"no outlet in the registry for {url}; pass --outlet")
    if html_file is not None:
        page = html_file.read()
    else:
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                page = response.read()
        except OSError as exc:
            raise click.ClickException(f"could not fetch {url}: {exc}") from exc
    try:
        extraction = extract_article(page, url, outlet)
    except ExtractionError as exc:
        raise click.ClickException(f"{url}: {exc}") from exc
    click.echo(json.dumps({"outlet_id": outlet.id, **extraction.as_dict()}, ensure_ascii=False, indent=2, sort_keys=True))


@cli.command()
def outlets():
    """List the outlets of the registry (crawlers/outlets.toml)."""
    from crawlers.registry import load_registry

    for outlet in load_registry().values():
        click.echo(f"{outlet.id:<22} {outlet.kind:<18} {outlet.family:<10} {outlet.domain}")


@cli.command()
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True,
              type=click.Path(exists=True, dir_okay=False), help="SQLite file whose articles to classify.")
@click.option("--all", "every_item", is_flag=True,
              help="Reclassify every stored article, not only those this model has not decided yet.")
@click.option("--model", "model_path", type=click.Path(dir_okay=False), default=None,
              help="Trained model file (default: nlp/data/models/topics.joblib, or $PRESSMON_MODEL).")
def classify(db_path, every_item, model_path):
    """(Re)classify stored articles with the current model; earlier decisions stay, by model version.

    \b
    Example:
        pressmon classify --db pressmon.db --all
    """
    from pipeline.classify import DEFAULT_MODEL, classify_stored
    from pipeline.store import Store

    from rich.console import Console
    from rich.progress import Progress

    model = _load_model_or_exit(model_path or DEFAULT_MODEL)
    console = Console(stderr=True)
    with Store(db_path) as store, Progress(console=console, disable=not console.is_terminal, transient=True) as bar:
        task = bar.add_task("Phân loại", total=None)
        count = classify_stored(store, model, every_item=every_item, progress=lambda n: bar.advance(task, n))
    click.echo(f"{count} articles classified with model {model.version}")


@cli.command()
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True,
              type=click.Path(exists=True, dir_okay=False), help="SQLite file to record verdicts in.")
@click.option("--reviewer", default=lambda: os.environ.get("USER") or "", show_default="$USER",
              help="Who gives the verdicts (kept with each verdict).")
@click.option("--topic", type=click.Choice(["qd1894", "ct20"]), help="Review only this topic.")
@click.option("--tier", "tiers", multiple=True, type=click.Choice(["probable", "cited", "none"]),
              help="Which decisions to review (repeatable; default: probable).")
@click.option("--csv", "csv_file", type=click.File("r", encoding="utf-8-sig"),
              help="Import verdicts from a CSV file (article_id,topic,verdict[,reviewer][,note]) instead of asking.")
def review(db_path, reviewer, topic, tiers, csv_file):
    """Confirm or reject the model's decisions; a verdict always overrides the model.

    \b
    Examples:
        pressmon review --db pressmon.db --reviewer chi.nguyen
        pressmon review --db pressmon.db --csv verdicts.csv
    """
    from pipeline.review import import_verdicts_csv, pending_reviews, read_csv, review_interactively
    from pipeline.store import Store

    with Store(db_path) as store:
        if csv_file is not None:
            try:
                count = import_verdicts_csv(store, read_csv(csv_file), reviewer or None)
            except ValueError as exc:
                raise click.ClickException(f"{csv_file.name}: {exc}; nothing was recorded") from exc
            click.echo(f"{count} verdicts recorded")
            return
        if not reviewer:
            raise click.UsageError("pass --reviewer NAME")
        items = pending_reviews(store, topic, tiers or ("probable",))
        if not items:
            click.echo("Không có bài nào chờ xem xét.")
            return
        counts = review_interactively(store, items, reviewer, ask=lambda text: click.prompt(text, default="s",
                                      show_default=False), show=click.echo)
    click.echo(f"xác nhận {counts['confirmed']}, bác bỏ {counts['rejected']}, bỏ qua {counts['skipped']}")


@cli.group()
def nlp():
    """The topic classifier: train, evaluate, classify any text."""


@nlp.command("train")
@click.option("--db", "db_path", type=click.Path(exists=True, dir_okay=False),
              help="Also learn from this database: items with a resolved reference and staff verdicts.")
@click.option("--out", "out_path", type=click.Path(dir_okay=False), default=None,
              help="Where to write the model (default: nlp/data/models/topics.joblib, or $PRESSMON_MODEL).")
def nlp_train(db_path, out_path):
    """Train the topic model on the shipped corpus (plus a database's settled items).

    \b
    Example:
        pressmon nlp train --db pressmon.db
    """
    from pipeline.classify import DEFAULT_MODEL, train_model

    model, counts = train_model(db_path)
    path = Path(out_path or DEFAULT_MODEL)
    path.parent.mkdir(parents=True, exist_ok=True)
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
    from nlp.corpus import load_corpus
    from nlp.evaluate import DEFAULT_REALNEWS, evaluate, write_report

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
@click.option("--model", "model_path", type=click.Path(dir_okay=False), default=None,
              help="Trained model file (default: nlp/data/models/topics.joblib, or $PRESSMON_MODEL).")
def nlp_classify(model_path):
    """Classify JSON lines from stdin ({id, title, lead, body, published_at}); write one JSON
    line per input line, in order: {id, topics, references}, or {id, error} for a bad line.

    \b
    Example:
        echo '{"id": 1, "title": "…", "body": "…"}' | pressmon nlp classify
    """
    from pipeline.classify import DEFAULT_MODEL

    model = _load_model_or_exit(model_path or DEFAULT_MODEL)
    for number, line in enumerate(sys.stdin, start=1):
        click.echo(json.dumps(_classify_line(model, line, number), ensure_ascii=False))


def _classify_line(model, line: str, number: int) -> dict:
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


def _load_model_or_exit(path):
    from nlp.topics import ModelNotFound
    from pipeline.classify import load_model

    try:
        return load_model(path)
    except ModelNotFound as exc:
        raise click.ClickException(str(exc)) from exc


def _check_since(since):
    if since:
        from datetime import date

        try:
            date.fromisoformat(since)
        except ValueError as exc:
            raise click.BadParameter(f"{since!r} is not YYYY-MM-DD", param_hint="--since") from exc


def _echo_run_summary(db_path, run_id):
    import sqlite3

    if not Path(db_path).exists():
        click.echo("no database was written", err=True)
        sys.exit(1)
    conn = sqlite3.connect(db_path)
    rows = conn.execute(
        "select outlet_id, pages_fetched, articles_new, articles_updated, articles_unchanged, errors "
        "from crawl_runs where run_id = ? order by outlet_id", [run_id]).fetchall()
    total = conn.execute("select count(*), count(distinct outlet_id) from articles").fetchone()
    conn.close()
    click.echo(f"run {run_id}")
    click.echo(f"{'outlet':<22}{'pages':>7}{'new':>6}{'upd':>6}{'same':>6}{'errors':>8}")
    for row in rows:
        click.echo(f"{row[0]:<22}{row[1]:>7}{row[2]:>6}{row[3]:>6}{row[4]:>6}{row[5]:>8}")
    click.echo(f"{db_path}: {total[0]} articles from {total[1]} outlets")


@cli.command()
@click.argument("article_id", required=False, type=int)
@click.option("--db", "db_path", default=DEFAULT_DB, show_default=True,
              type=click.Path(exists=True, dir_okay=False), help="SQLite file whose articles' evidence to export.")
@click.option("--out", "out_path", required=True, type=click.Path(dir_okay=False),
              help="With ARTICLE_ID: the file for the page body, byte for byte. Otherwise: the zip pack.")
@click.option("--year", type=int, help="Pack the counted items published in this year.")
@click.option("--topic", type=click.Choice(["qd1894", "ct20", "all"]), default="all", show_default=True,
              help="Pack only the items counted for this document.")
def evidence(article_id, db_path, out_path, year, topic):
    """Export archived pages: one article's body as fetched, or a pack of WARC records with a
    CSV manifest of hashes for the items a report counts.

    \b
    Examples:
        pressmon evidence 42 --db pressmon.db --out trang-42.html
        pressmon evidence --db pressmon.db --year 2026 --topic ct20 --out pack.zip
    """
    import sqlite3

    from pipeline.evidence import EvidenceError, read_payload, write_pack

    db_folder = Path(db_path).resolve().parent
    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        if article_id is not None:
            row = conn.execute("SELECT warc_file, warc_offset, payload_sha256 FROM articles WHERE id = ?",
                               [article_id]).fetchone()
            if row is None:
                raise click.ClickException(f"no article {article_id} in {db_path}")
            if not row["warc_file"]:
                raise click.ClickException(f"article {article_id} has no archived page (crawled before WARC archiving)")
            body = read_payload(db_folder / row["warc_file"], row["warc_offset"], row["payload_sha256"])
            Path(out_path).write_bytes(body)
            click.echo(f"{out_path}: {len(body)} bytes, SHA-256 {row['payload_sha256']}")
            return
        if year is None:
            raise click.UsageError("give ARTICLE_ID, or --year for a pack")
        rows = [dict(r) for r in conn.execute(
            "SELECT d.article_id, d.topic, d.outlet_id, d.published_at, d.url, a.warc_file, a.warc_offset, "
            "a.payload_sha256 FROM topic_decisions d JOIN articles a ON a.id = d.article_id "
            "WHERE d.counted = 1 AND substr(d.published_at, 1, 4) = ? AND (? = 'all' OR d.topic = ?) "
            "AND a.warc_file IS NOT NULL ORDER BY d.published_at, d.article_id, d.topic",
            [str(year), topic, topic])]
        count = write_pack(rows, db_folder, out_path)
        click.echo(f"{out_path}: {count} records")
    except EvidenceError as exc:
        raise click.ClickException(str(exc)) from exc
    finally:
        conn.close()


def _register_operations():
    from pipeline.health import canary_command, health_command
    from pipeline.nightly import run_once_command, schedule_command
    from pipeline.report import report

    cli.add_command(schedule_command)
    cli.add_command(run_once_command)
    cli.add_command(report)
    cli.add_command(health_command)
    cli.add_command(canary_command)


_register_operations()


if __name__ == "__main__":
    cli()
