"""Publish the pressmon database with Datasette, read-only.

The publication lives in the repository's `datasette/` folder, installed as the package data
of `pressmon.datasette`: `metadata.yml` (Vietnamese labels, facets, canned queries),
`templates/` and `plugins/`. This module only assembles them around a database file:

    from pressmon.pipeline.publish import make_datasette, serve
    ds = make_datasette("pressmon.db")      # a datasette.app.Datasette
    serve("pressmon.db", port=8001)         # blocks, like `datasette serve`

Who sees what: every page asks for a login (datasette-auth-passwords' form at /-/login,
accounts from pipeline/accounts.py) unless the site is served `public`, when anonymous
visitors may read the coverage pages but not run their own SQL, nor see reviewers' names or
notes. The rules are the plugin datasette/plugins/pressmon_access.py; the settings it reads
are the `pressmon_access` attribute of the Datasette instance made here.

Read-only by construction: the file is attached in Datasette's default file mode, so every
connection Datasette reads through is opened `file:…?mode=ro`; there is no write canned
query and Datasette 0.65 has no write API. The one thing the site writes is a verdict (and
nothing else), through the review plugin's own checked route on a connection of its own
(docs/decisions.md, "Verdicts from the browser").

Not `immutables=`: Datasette would hash the whole file at start-up and cache counts as if
the file never changed, while the nightly crawl keeps writing to it. The store keeps the
database in WAL mode; a `mode=ro` reader sees each committed transaction and does not block
the writer. SQLite needs the directory to be writable so that a reader can create the
`-shm`/`-wal` files when no writer has them open — true wherever the crawl itself writes.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from dataclasses import dataclass
from pathlib import Path
from string import Template

from datasette.app import Datasette
from datasette.utils import parse_metadata

from pressmon.pipeline.accounts import Accounts
from pressmon.pipeline.store import check_database


def datasette_dir() -> Path:
    """The folder holding metadata.yml, templates/ and plugins/: the repository's datasette/
    in a checkout, pressmon/datasette/ in site-packages. (`pressmon.datasette` has no
    __init__.py, so it is found through its namespace path.)"""
    import pressmon.datasette

    for entry in pressmon.datasette.__path__:
        if (Path(entry) / "metadata.yml").is_file():
            return Path(entry)
    raise FileNotFoundError("pressmon.datasette has no metadata.yml: the installation is incomplete")

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
    # A streamed CSV holds every row (Datasette's default stops at 100 MB: a search of the
    # articles table with their bodies passes that at 10^6 items); an export stops when its
    # client goes away (pressmon_exports), so no limit is needed to bound the work.
    "max_csv_mb": 0,
}


def registry_placeholders() -> dict[str, str]:
    """What metadata.yml's $placeholders stand for: the watched documents and the outlet kinds
    as their registries have them, in words and as SQL."""
    from pressmon.crawlers.registry import outlet_kinds
    from pressmon.nlp.documents import DOCUMENTS
    from pressmon.pipeline.store.error_kinds import ERROR_KINDS

    def case(column: str, labels: dict[str, str]) -> str:
        whens = " ".join(f"when '{key}' then '{label}'" for key, label in labels.items())
        return f"case {column} {whens} else {column} end"

    docs = DOCUMENTS.values()
    return {
        "document_list": ", ".join(f"{d.id} ({d.label})" for d in docs),
        "document_labels": ", ".join(d.label for d in docs),
        "document_short_labels": " và ".join(d.short_label for d in docs),
        "document_keys": ", ".join(c.key for d in docs for c in (d, *d.implementing, *d.related)),
        "document_html": "; ".join(f"<strong>{d.label}</strong> ({d.subject})" for d in docs),
        "document_label_of_topic": case("topic", {d.id: d.label for d in docs}),
        "outlet_kind_label": case("outlet_kind", outlet_kinds()),
        "error_kind_list": ", ".join(f"{kind} ({label})" for kind, (_, label) in ERROR_KINDS.items()),
        "articles_per_document": ",\n  ".join(
            f"coalesce((select x.articles from citing x where x.outlet_id = c.outlet_id "
            f"and x.published_month = c.published_month and x.topic = '{d.id}'), 0) as articles_{d.id}"
            for d in docs),
    }


def _fill(value, placeholders: dict[str, str]):
    if isinstance(value, str):
        return Template(value).safe_substitute(placeholders)
    if isinstance(value, dict):
        return {k: _fill(v, placeholders) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, placeholders) for v in value]
    return value


def load_metadata(db_path: str | Path, folder: Path | None = None) -> dict:
    """metadata.yml, its database section keyed by the name Datasette gives `db_path` (the
    file's stem), so labels, facets and canned queries apply whatever the file is called."""
    metadata = _fill(parse_metadata(((folder or datasette_dir()) / "metadata.yml").read_text(encoding="utf-8")),
                     registry_placeholders())
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


@dataclass(frozen=True)
class Access:
    """What the access plugin enforces for one served database."""

    accounts: Accounts
    # Anonymous visitors may read the coverage pages.
    public: bool = False


class AccessRefused(ValueError):
    """Serving as asked would publish the database to people it should not reach."""


def check_access(db_path: str | Path, host: str, public: bool) -> None:
    """Refuse a site no one could log in to, and any site on a non-loopback address with no
    account configured (with or without --public)."""
    if Accounts.beside(db_path).list():
        return
    add = f"add one first: pressmon users add NAME --db {db_path} --role admin --password-stdin"
    if not is_loopback(host):
        raise AccessRefused(f"{host} is reachable from other machines and {db_path} has no account: {add}")
    if not public:
        raise AccessRefused(f"{db_path} has no account, so no one could log in: {add}; "
                            "or pass --public to let anyone on this machine read the coverage pages")


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def datasette_options(db_path: str | Path, folder: Path | None = None) -> dict:
    """Keyword arguments for `datasette.app.Datasette` serving `db_path` read-only; raises
    store.DatabaseProblem when the file is not a pressmon database."""
    path = check_database(db_path)
    folder = folder or datasette_dir()
    return {
        # Login cookies stay valid across restarts: the secret is kept in the accounts file.
        "secret": Accounts.beside(path).signing_secret(),
        "files": [str(path)],
        "metadata": load_metadata(path, folder),
        "template_dir": str(folder / "templates"),
        "plugins_dir": str(folder / "plugins"),
        # Our own CSS and scripts (Vietnamese table menus, the review page's keys), at
        # /pressmon-static/<file>.
        "static_mounts": [("pressmon-static", str(folder / "static"))],
        "settings": dict(SETTINGS),
        "cors": False,
    }


def make_datasette(db_path: str | Path, folder: Path | None = None, public: bool = False) -> Datasette:
    """A Datasette instance publishing `db_path` with pressmon's metadata, templates and
    plugins; every page asks for a login unless `public`."""
    _plain_error_tracebacks()
    ds = Datasette(**datasette_options(db_path, folder))
    ds.pressmon_access = Access(Accounts.beside(db_path), public=public)
    return ds


def _plain_error_tracebacks() -> None:
    # Datasette 0.65's default error handler prints every error (404s included) with
    # rich.print_exception(show_locals=True) when rich is importable, and pressmon depends on
    # rich. With rich 13+ that call raises ValueError when no exception is being handled, which
    # is the case for a URL that matches no route (e.g. /db/table/-/insert): the request
    # then fails with a 500 and a traceback instead of a 404. Without rich, the handler
    # falls back to a plain traceback for real 500s and to silence for 404s.
    import datasette.handle_exception

    datasette.handle_exception.rich = None


class PortInUse(OSError):
    """The address to serve on is taken; the message says which and what to do."""


def check_port(host: str, port: int) -> None:
    """Raise PortInUse unless `host:port` can be listened on now (asked before a crawl or a
    server starts, not after)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As uvicorn binds: a port left in TIME_WAIT is free, one with a listener is not.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            reason = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc.strerror})"
            raise PortInUse(f"port {port} on {host} {reason}: pass --port with another number") from None


def serve(db_path: str | Path, host: str = "127.0.0.1", port: int = 8001, public: bool = False) -> None:
    """Serve until interrupted, the way `datasette serve` does (uvicorn, one worker); raises
    AccessRefused as check_access() says."""
    import uvicorn

    check_access(db_path, host, public)
    ds = make_datasette(db_path, public=public)
    uvicorn.run(ds.app(), host=host, port=port, log_level="info", lifespan="on", workers=1)
