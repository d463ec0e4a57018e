"""Serve the pressmon database with Datasette, read-only.

The publication lives in the repository's `datasette/` folder: `metadata.yml` (Vietnamese
labels, facets, canned queries), `templates/` and `plugins/`. This module only assembles
them around a database file:

    from pipeline.serve import make_datasette, serve
    ds = make_datasette("data/pressmon.db")      # a datasette.app.Datasette
    serve("data/pressmon.db", port=8001)         # blocks, like `datasette serve`

Read-only by construction: the file is attached in Datasette's default file mode, so every
connection Datasette reads through is opened `file:…?mode=ro`; there is no write canned
query and no write plugin, and Datasette 0.65 has no write API. Anonymous users may still
run read-only SQL (the default `allow_sql`), which a `mode=ro` connection cannot turn into
a write.

Not `immutables=`: Datasette would hash the whole file at start-up and cache counts as if
the file never changed, while the nightly crawl keeps writing to it. The store keeps the
database in WAL mode; a `mode=ro` reader sees each committed transaction and does not block
the writer. SQLite needs the directory to be writable so that a reader can create the
`-shm`/`-wal` files when no writer has them open — true wherever the crawl itself writes.
"""

from __future__ import annotations

from pathlib import Path

from datasette.app import Datasette
from datasette.utils import parse_metadata

# The folder holding metadata.yml, templates/ and plugins/ (the repository's datasette/).
DATASETTE_DIR = Path(__file__).resolve().parent.parent / "datasette"

# The key metadata.yml uses for the database (its file is normally pressmon.db).
METADATA_DATABASE_KEY = "pressmon"

SETTINGS = {
    # 50 rows a page: article rows carry long bodies.
    "default_page_size": 50,
    # Counts per outlet × month can exceed the default 1,000 rows; CSV of a table can
    # still stream every row with ?_stream=on.
    "max_returned_rows": 5000,
    # FTS search plus a join on ~10^5 articles is well under this; it stops runaway SQL.
    "sql_time_limit_ms": 3000,
    # The five article facets are requested on every table page; give each time to finish.
    "facet_time_limit_ms": 1000,
    # Suggested facets try every column (column, array and date facets): ~4 s a page at
    # 10^5 articles. The metadata names the facets staff need; ?_facet= still adds others.
    "suggest_facets": False,
    # The table view shows the start of long texts; the article page shows them whole.
    "truncate_cells_html": 300,
    # Meaningful only for immutable files, stated anyway: the .db file is not offered.
    "allow_download": False,
    "allow_csv_stream": True,
}


def load_metadata(db_path: str | Path, datasette_dir: Path = DATASETTE_DIR) -> dict:
    """metadata.yml, its database section keyed by the name Datasette gives `db_path` (the
    file's stem), so labels, facets and canned queries apply whatever the file is called."""
    metadata = parse_metadata((datasette_dir / "metadata.yml").read_text(encoding="utf-8"))
    name = Path(db_path).stem
    databases = metadata.get("databases") or {}
    if METADATA_DATABASE_KEY in databases and name != METADATA_DATABASE_KEY:
        databases[name] = databases.pop(METADATA_DATABASE_KEY)
    dashboards = (metadata.get("plugins") or {}).get("datasette-dashboards") or {}
    for dashboard in dashboards.values():
        for chart in (dashboard.get("charts") or {}).values():
            if chart.get("db") == METADATA_DATABASE_KEY:
                chart["db"] = name
    return metadata


def datasette_options(db_path: str | Path, datasette_dir: Path = DATASETTE_DIR) -> dict:
    """Keyword arguments for `datasette.app.Datasette` serving `db_path` read-only."""
    path = Path(db_path)
    if not path.is_file():
        raise FileNotFoundError(f"no database at {path}: run a crawl (or the demo) first")
    if not (datasette_dir / "metadata.yml").is_file():
        raise FileNotFoundError(f"no metadata.yml in {datasette_dir}: serve from a source checkout")
    return {
        "files": [str(path)],
        "metadata": load_metadata(path, datasette_dir),
        "template_dir": str(datasette_dir / "templates"),
        "plugins_dir": str(datasette_dir / "plugins"),
        "settings": dict(SETTINGS),
        "cors": False,
    }


def make_datasette(db_path: str | Path, datasette_dir: Path = DATASETTE_DIR) -> Datasette:
    """A Datasette instance publishing `db_path` with pressmon's metadata, templates and plugins."""
    _plain_error_tracebacks()
    return Datasette(**datasette_options(db_path, datasette_dir))


def _plain_error_tracebacks() -> None:
    # Datasette 0.65's default error handler prints every error (404s included) with
    # rich.print_exception(show_locals=True) when rich is importable, and pressmon depends on
    # rich. With rich 13+ that call raises ValueError when no exception is being handled, which
    # is the case for a URL that matches no route (e.g. /db/table/-/insert): the request
    # then fails with a 500 and a traceback instead of a 404. Without rich, the handler
    # falls back to a plain traceback for real 500s and to silence for 404s.
    import datasette.handle_exception

    datasette.handle_exception.rich = None


def serve(db_path: str | Path, host: str = "127.0.0.1", port: int = 8001) -> None:
    """Serve until interrupted, the way `datasette serve` does (uvicorn, one worker)."""
    import uvicorn

    ds = make_datasette(db_path)
    uvicorn.run(ds.app(), host=host, port=port, log_level="info", lifespan="on", workers=1)
