"""What a crawl run did, as a table for the person who started it: per outlet, pages, 304s,
new, updated and unchanged articles, errors; then the errors, with the demo's deliberate
fault pages told apart from real trouble."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from rich.console import Console
from rich.table import Table

COUNTS = ("pages_fetched", "pages_not_modified", "articles_new", "articles_updated", "articles_unchanged", "errors")
HEADERS = ("pages", "304", "new", "updated", "unchanged", "errors")


def run_summary(db_path: str | Path, run_id: str) -> tuple[list[dict], list[dict], int]:
    """(rows per outlet, error rows, articles in the database) for `run_id`."""
    # Read-write though it only reads: as the last connection it checkpoints and removes the
    # -wal and -shm files, where a read-only one would leave them beside the database.
    conn = sqlite3.connect(db_path)
    conn.row_factory = sqlite3.Row
    try:
        rows = [dict(r) for r in conn.execute(
            f"SELECT outlet_id, status, {', '.join(COUNTS)} FROM crawl_runs WHERE run_id = ? ORDER BY outlet_id",
            [run_id])]
        errors = [dict(r) for r in conn.execute(
            "SELECT outlet_id, url, kind, detail FROM crawl_errors WHERE run_id = ? ORDER BY outlet_id, id",
            [run_id])]
        total = conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
    finally:
        conn.close()
    return rows, errors, total


def print_summary(db_path: str | Path, run_id: str, console: Console,
                  expected_faults: dict[str, str] | None = None, log_file: str | Path | None = None) -> None:
    rows, errors, total = run_summary(db_path, run_id)
    table = Table(title=f"Run {run_id}", title_justify="left")
    table.add_column("outlet")
    for header in HEADERS:
        table.add_column(header, justify="right")
    table.add_column("status")
    for row in rows:
        table.add_row(row["outlet_id"], *(f"{row[c]:,}" for c in COUNTS), row["status"])
    table.add_row("total", *(f"{sum(r[c] for r in rows):,}" for c in COUNTS), "", style="bold")
    console.print(table)
    expected_faults = expected_faults or {}
    expected = [e for e in errors if e["url"] in expected_faults]
    unexpected = [e for e in errors if e["url"] not in expected_faults]
    if expected:
        console.print(f"{len(expected)} errors on the mirror's deliberate fault pages, as expected:")
        for error in expected:
            console.print(f"  {error['kind']:<14} {error['url']} ({expected_faults[error['url']]})", soft_wrap=True)
    if unexpected:
        console.print(f"{len(unexpected)} errors (table crawl_errors):")
        for error in unexpected[:20]:
            console.print(f"  {error['kind']:<14} {error['url']}: {error['detail']}", soft_wrap=True)
        if len(unexpected) > 20:
            console.print(f"  … and {len(unexpected) - 20} more")
    console.print(f"{db_path}: {total:,} articles", soft_wrap=True)
    if log_file:
        console.print(f"Full log: {log_file}", soft_wrap=True)
