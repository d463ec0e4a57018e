"""Accounts of the published site: who may log in, with which role."""

from __future__ import annotations

import sys

import click

from pressmon.pipeline.accounts import MIN_PASSWORD_LENGTH, ROLES, AccountError, Accounts
from pressmon.pipeline.cli.options import db_option, fail


@click.group()
def users():
    """Accounts that may log in to the site `pressmon serve` publishes.

    They are kept in a file beside the database (pressmon.db → pressmon.db.accounts),
    passwords as PBKDF2-SHA256 hashes only. A reviewer confirms or rejects items at
    /-/review; an admin may also run SQL of their own and open Datasette's debug pages.
    A running `pressmon serve` sees a change at once.
    """


@users.command(name="add")
@click.argument("name")
@db_option("Database whose site the account logs in to.")
@click.option("--role", type=click.Choice(list(ROLES)), default="reviewer", show_default=True,
              help="reviewer: read everything and give verdicts; admin: also SQL and debug pages.")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input instead of asking for it twice.")
@click.option("--replace", is_flag=True, help="Set a new password and role for an existing account.")
def add_user(name, db_path, role, password_stdin, replace):
    """Create an account (or, with --replace, change its password and role).

    \b
    Example:
        pressmon users add lan.pham --role reviewer
        printf '%s\\n' "$PASSWORD" | pressmon users add quantri --role admin --password-stdin
    """
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt(f"Password for {name} (at least {MIN_PASSWORD_LENGTH} characters)",
                                hide_input=True, confirmation_prompt=True)
    try:
        Accounts.beside(db_path).add(name, role, password, replace=replace)
    except AccountError as exc:
        raise fail(str(exc)) from None
    click.echo(f"{'updated' if replace else 'added'} {name} ({role})")


@users.command(name="list")
@db_option("Database whose accounts to list.")
def list_users(db_path):
    """List the accounts: name, role, created (never a password or hash)."""
    accounts = Accounts.beside(db_path).list()
    if not accounts:
        click.echo(f"no account for {db_path}: pressmon users add NAME --db {db_path}")
        return
    for account in accounts:
        click.echo(f"{account.name}\t{account.role}\t{account.created_at}")


@users.command(name="remove")
@click.argument("name")
@db_option("Database whose account to remove.")
def remove_user(name, db_path):
    """Remove an account; its login stops working at once. Its verdicts stay, under its name."""
    try:
        Accounts.beside(db_path).remove(name)
    except AccountError as exc:
        raise fail(str(exc)) from None
    click.echo(f"removed {name}")


COMMANDS = (users,)
