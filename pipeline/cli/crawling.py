"""Commands that crawl or fetch: crawl, demo, extract, outlets."""

from __future__ import annotations

import json
import sqlite3
import sys
from pathlib import Path

import click

from pressmon.pipeline.cli.options import DEFAULT_DB, check_since, db_option, fail

POLITENESS_HELP = "Multiply the registry's delays and robots.txt Crawl-delay. Keep 1.0 for real sites."
PROGRESS_HELP = ("Progress bars, with Scrapy's log in the log file (default: when stderr is a terminal; "
                 "otherwise the log goes to stderr).")


def _console():
    from rich.console import Console

    return Console(highlight=False, soft_wrap=True)


@click.command()
@db_option("SQLite file to create or update.", must_exist=False)
@click.option("--outlet", "outlets", multiple=True, metavar="ID",
              help="Crawl only this outlet (repeatable); see `pressmon outlets`.")
@click.option("--since", metavar="DAY", callback=check_since,
              help="Backfill bound: skip items published before this day (YYYY-MM-DD or DD/MM/YYYY).")
@click.option("--mirror", metavar="URL", help="Send every outlet request to this offline mirror, e.g. http://127.0.0.1:8765.")
@click.option("--politeness-scale", type=float, default=1.0, show_default=True, help=POLITENESS_HELP)
@click.option("--progress/--no-progress", default=None, help=PROGRESS_HELP)
@click.option("--log-file", type=click.Path(dir_okay=False),
              help="Where Scrapy's log goes (default with progress bars: <db>.crawl.log).")
@click.option("--run-id", metavar="ID", help="Record the crawl under this run id (the nightly cycle passes its own; "
                                              "default: the start time, e.g. 20260104T013000-482913).")
def crawl(db_path, outlets, since, mirror, politeness_scale, progress, log_file, run_id):
    """Crawl the outlets into the database.

    Refused while another crawl or the nightly cycle runs on the same database (<db>.lock).

    \b
    Example:
        pressmon crawl --outlet baogialai --since 2025-07-01
    """
    from pressmon.pipeline.crawl.runner import CrawlRefused, default_log_file, run_crawl

    show_progress = sys.stderr.isatty() if progress is None else progress
    log_file = log_file or (default_log_file(db_path) if show_progress else None)
    try:
        run_id = run_crawl(db_path, list(outlets) or None, since=since, mirror=mirror,
                           politeness_scale=politeness_scale, progress=show_progress, run_id=run_id,
                           log_file=log_file)
    except CrawlRefused as exc:
        raise fail(str(exc)) from None
    _print_summary(db_path, run_id, log_file=log_file)


def _print_summary(db_path, run_id, expected_faults=None, log_file=None) -> None:
    from pressmon.pipeline.crawl.summary import print_summary

    if not Path(db_path).exists():
        raise fail(f"no database was written at {db_path}: see the log")
    print_summary(db_path, run_id, _console(), expected_faults=expected_faults, log_file=log_file)


@click.command()
@db_option("SQLite file to build or update; run again, it behaves as a second night.", must_exist=False)
@click.option("--serve/--no-serve", "serve_after", default=True, show_default=True,
              help="Start Datasette on the result when the crawl ends.")
@click.option("--port", default=8001, show_default=True, help="Datasette port on 127.0.0.1.")
@click.option("--politeness-scale", type=float, default=0.2, show_default=True,
              help="Multiply the registry's delays and robots.txt Crawl-delay. The mirror is our own loopback "
                   "server, so the demo waits a fifth of what a real site gets.")
@click.option("--progress/--no-progress", default=None, help=PROGRESS_HELP)
def demo(db_path, serve_after, port, politeness_scale, progress):
    """Crawl the bundled offline mirror of the outlets with the real spiders, store, find
    document references, classify with the shipped model, and publish with Datasette. Needs
    no network.

    The demo's database holds sample articles only: a crawl of the real sites refuses to
    write into it.

    \b
    Example:
        pressmon demo                         # then open http://127.0.0.1:8001
        pressmon demo --no-serve --db x.db    # build or update x.db and exit
    """
    from pressmon.crawlers.mirror.server import fault_pages, serve_mirror
    from pressmon.pipeline.crawl.runner import CrawlRefused, check_crawl, default_log_file, run_crawl
    from pressmon.pipeline.publish import PortInUse, check_port

    host = "127.0.0.1"
    if serve_after:
        try:
            check_port(host, port)
        except PortInUse as exc:
            raise fail(str(exc)) from None
    try:
        check_crawl(db_path, [], mirror="demo")
    except CrawlRefused as exc:
        raise fail(str(exc)) from None
    show_progress = sys.stderr.isatty() if progress is None else progress
    log_file = default_log_file(db_path) if show_progress else None
    server, base_url = serve_mirror()
    try:
        run_id = run_crawl(db_path, mirror=base_url, politeness_scale=politeness_scale, progress=show_progress,
                           log_file=log_file, expected_faults=fault_pages())
    except CrawlRefused as exc:
        raise fail(str(exc)) from None
    finally:
        server.shutdown()
        server.server_close()
    _print_summary(db_path, run_id, expected_faults=fault_pages(), log_file=log_file)
    _print_next_steps(db_path)
    if serve_after:
        from pressmon.pipeline.publish import serve

        # The demo's sample coverage is readable without an account; reviewing needs one.
        click.echo(f"Datasette: http://{host}:{port}/ (anyone on this machine may read; Ctrl-C stops it)")
        serve(db_path, host=host, port=port, public=True)


def _print_next_steps(db_path) -> None:
    conn = sqlite3.connect(db_path)
    try:
        year = conn.execute("SELECT substr(max(published_at), 1, 4) FROM articles").fetchone()[0]
    finally:
        conn.close()
    if year is None:
        return
    db = "" if db_path == DEFAULT_DB else f" --db {db_path}"
    click.echo("Next, on the same database:")
    for command in (f"pressmon users add NAME{db} --role reviewer   # then review at /-/review in the browser",
                    f"pressmon serve{db}", f"pressmon report{db} --year {year} -o bao-cao-{year}.xlsx",
                    f"pressmon health{db}", f"pressmon review{db} --reviewer NAME"):
        click.echo(f"  {command}")


@click.command()
@click.argument("url")
@click.option("--html", "html_file", type=click.File("rb"), help="Read the page from this file instead of fetching URL.")
@click.option("--outlet", "outlet_id", metavar="ID", help="Outlet whose selectors to use (default: from the URL's host).")
@click.option("--mirror", metavar="URL", help="For tests and demos: fetch from this offline mirror instead.")
def extract(url, html_file, outlet_id, mirror):
    """Run an outlet's extraction on one page and print the fields as JSON.

    The page is fetched the way a crawl fetches it (robots.txt, the outlet's politeness, size
    cap, timeout, pressmon's User-Agent). The fields are as the spider yields them, before the
    pipeline normalises the text.

    \b
    Example:
        pressmon extract https://baogialai.com.vn/some-slug-post565021.html
        pressmon extract https://baogialai.com.vn/x-post1.html --html page.html
    """
    from pressmon.crawlers.extract import ExtractionError, extract_article
    from pressmon.crawlers.fetch import FetchError, fetch_article
    from pressmon.crawlers.registry import load_registry, outlet_for_url

    registry = load_registry()
    if outlet_id:
        if outlet_id not in registry:
            raise fail(f"unknown outlet {outlet_id!r}; known: {', '.join(registry)}")
        outlet = registry[outlet_id]
    else:
        outlet = outlet_for_url(url)
        if outlet is None:
            raise fail(f"no outlet in the registry for {url}: pass --outlet ID (known: {', '.join(registry)})")
    if html_file is not None:
        try:
            extraction = extract_article(html_file.read(), url, outlet)
        except ExtractionError as exc:
            raise fail(f"{url}: {exc}") from None
        fields = {"outlet_id": outlet.id, **extraction.as_dict()}
    else:
        if not url.startswith(("http://", "https://")):
            raise fail(f"{url} is not an http(s) URL")
        try:
            item = fetch_article(url, outlet.id, mirror)
        except FetchError as exc:
            raise fail(str(exc)) from None
        fields = {k: v for k, v in item.items() if k not in ("type", "fetched_url", "http_status")}
    click.echo(json.dumps(fields, ensure_ascii=False, indent=2, sort_keys=True))


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print the outlets as JSON (id, name, kind, family, domain, home).")
def outlets(as_json):
    """List the outlets of the registry (crawlers/outlets.toml)."""
    from pressmon.crawlers.registry import load_registry, outlet_kinds

    registry = load_registry()
    if as_json:
        click.echo(json.dumps([{"id": o.id, "name": o.name, "kind": o.kind, "family": o.family, "domain": o.domain,
                                "home": o.home} for o in registry.values()], ensure_ascii=False, indent=2))
        return
    kinds = outlet_kinds()
    for outlet in registry.values():
        click.echo(f"{outlet.id:<22} {kinds[outlet.kind]:<26} {outlet.family:<10} {outlet.domain}")


COMMANDS = (crawl, demo, extract, outlets)
