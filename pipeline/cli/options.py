"""What every area of the command line shares: the one database option, output files that are
checked before anything is computed and written whole or not at all, and the one-line error."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import click

from pressmon.pipeline.store import DatabaseProblem, check_database

DEFAULT_DB = "pressmon.db"


def fail(message: str) -> click.ClickException:
    """The one-line answer to a bad input (exit 1, no traceback): `raise fail("…")`."""
    return click.ClickException(message)


def db_option(help: str, must_exist: bool = True):
    """`--db PATH`, the same default for every command (pressmon.db here, or $PRESSMON_DB),
    checked to be a pressmon database (or, when it may be created, a free path in an
    existing folder) before the command runs."""

    def check(ctx, param, value):
        try:
            check_database(value, must_exist=must_exist)
        except DatabaseProblem as exc:
            raise fail(str(exc)) from None
        return value

    return click.option("--db", "db_path", default=DEFAULT_DB, envvar="PRESSMON_DB", show_default=True,
                        show_envvar=True, type=click.Path(dir_okay=False), callback=check, help=help)


def check_output(path: str | Path, force: bool = True, option: str = "-o") -> Path:
    """An output path that can be written: its folder exists, it is not a folder, and (unless
    `force`) no file is there yet."""
    path = Path(path)
    if not path.parent.is_dir():
        raise fail(f"{option} {path}: no folder {path.parent}")
    if path.is_dir():
        raise fail(f"{option} {path} is a folder: name a file")
    if path.exists() and not force:
        raise fail(f"{option} {path} exists: pass --force to replace it")
    return path


@contextlib.contextmanager
def written_whole(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside `path`; it becomes `path` only when the block ends well,
    so a failure never leaves a half-written or changed file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        yield tmp
        os.replace(tmp, path)
    except OSError as exc:
        raise fail(f"cannot write {path}: {exc.strerror or exc}") from None
    finally:
        tmp.unlink(missing_ok=True)


def load_model_or_fail(path: str | None):
    from pressmon.nlp.topics import ModelError
    from pressmon.pipeline.decisions.classify import load_model

    try:
        return load_model(path)
    except ModelError as exc:
        raise fail(str(exc)) from None


def check_since(ctx, param, value):
    """--since as the spiders take it (YYYY-MM-DD), typed either way a day is written."""
    if not value:
        return value
    from pressmon.crawlers.dates import parse_day

    try:
        return parse_day(value).isoformat()
    except ValueError as exc:
        raise fail(f"--since {exc}") from None
