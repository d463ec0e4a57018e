"""Is this file a pressmon database? Asked before anything opens it, so that a wrong path is
answered in one line and no file is created, migrated or served by mistake."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from pressmon.pipeline.store.migrations import MIGRATIONS

SQLITE_HEADER = b"SQLite format 3\x00"


def read_only(path: str | Path) -> sqlite3.Connection:
    """A connection that can only read `path` (rows as sqlite3.Row): for reports and checks."""
    conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    return conn


class DatabaseProblem(Exception):
    """The path cannot be used as a pressmon database; the message says why, in one line."""


def check_database(path: str | Path, must_exist: bool = True) -> Path:
    """`path` if it is a pressmon database (or, with `must_exist=False`, a new file that can
    become one); raises DatabaseProblem otherwise. Opens the file read-only."""
    path = Path(path)
    if not path.exists():
        if must_exist:
            raise DatabaseProblem(f"no database at {path}: run `pressmon demo` or `pressmon crawl` first")
        if not path.parent.is_dir():
            raise DatabaseProblem(f"no folder {path.parent} for the database {path.name}")
        return path
    if path.is_dir():
        raise DatabaseProblem(f"{path} is a folder, not a database file")
    with open(path, "rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if not header:
        if must_exist:
            raise DatabaseProblem(f"{path} is an empty file, not a pressmon database")
        return path
    if header != SQLITE_HEADER:
        raise DatabaseProblem(f"{path} is not a SQLite database")
    try:
        conn = read_only(path)
        try:
            tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            version = conn.execute("PRAGMA user_version").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise DatabaseProblem(f"{path} cannot be read as a SQLite database ({exc})") from None
    if "_migrations" not in tables or version == 0:
        if tables:
            raise DatabaseProblem(f"{path} is a SQLite database, but not pressmon's (it has no pressmon schema)")
        if must_exist:
            raise DatabaseProblem(f"{path} is an empty SQLite database, not a pressmon database")
    if version > len(MIGRATIONS):
        raise DatabaseProblem(f"{path} has schema version {version}, newer than this pressmon knows "
                              f"({len(MIGRATIONS)}): upgrade pressmon")
    return path
