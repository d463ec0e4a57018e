"""The `pressmon` command line: one click group; each area defines its commands in a module of
its own (crawling, publishing, accounts, decisions, language, nightly, reports) and this file only
gathers them. docs/cli.md is generated from their --help (cog)."""

from __future__ import annotations

import click

from pressmon.pipeline.cli import accounts, crawling, decisions, language, nightly, publishing, reports


@click.group()
@click.version_option(package_name="pressmon")
def cli():
    """pressmon: which outlets disseminated QĐ 1894/QĐ-TTg and CT 20/CT-TTg in Gia Lai.

    Crawl the outlets of the registry into SQLite, find document references, classify,
    publish the result with Datasette, and write the annual report. Every command works on
    pressmon.db in the current folder unless given --db (or $PRESSMON_DB).
    """


for area in (crawling, publishing, accounts, decisions, language, nightly, reports):
    for command in area.COMMANDS:
        cli.add_command(command)


def main() -> None:
    cli()
