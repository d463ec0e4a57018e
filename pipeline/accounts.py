"""The site's accounts: who may log in to the published database, with which role.

Accounts live in a small SQLite file of their own beside the database (`pressmon.db` →
`pressmon.db.accounts`), never in the database Datasette publishes: an administrator's SQL
page can then never read a password hash, and a copy of the evidence database carries no
credentials. Passwords are stored only as PBKDF2-SHA256 hashes made by
datasette-auth-passwords (the plugin that checks them at /-/login); the file also keeps the
secret that signs the login cookies, so a restart of `pressmon serve` logs no one out. The
file is created readable by its owner only.

    accounts = Accounts.beside("pressmon.db")
    accounts.add("lan.pham", "reviewer", password)
    accounts.role_of("lan.pham")            # "reviewer"; None for an unknown name
"""

from __future__ import annotations

import os
import re
import secrets
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from datasette_auth_passwords.utils import hash_password

ROLES = {"reviewer": "Cán bộ duyệt tin", "admin": "Quản trị"}
MIN_PASSWORD_LENGTH = 10
# Lower-case names of letters, digits, dots, hyphens and underscores: they go into log lines,
# verdict rows and the plugin's `<name>_password_hash` keys unchanged.
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._-]{1,39}$")

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS accounts (
    name TEXT PRIMARY KEY,
    role TEXT NOT NULL CHECK (role IN ('reviewer', 'admin')),
    password_hash TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%SZ', 'now'))
)""",
    "CREATE TABLE IF NOT EXISTS site (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
)


class AccountError(ValueError):
    """A name, role or password that cannot be used; the message says why in one line."""


@dataclass(frozen=True)
class Account:
    name: str
    role: str
    created_at: str


def accounts_path(db_path: str | os.PathLike[str]) -> Path:
    return Path(f"{os.fspath(db_path)}.accounts")


class Accounts:
    """The accounts file of one database. Reading a missing file finds no account; only
    writing creates it."""

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)

    @classmethod
    def beside(cls, db_path: str | os.PathLike[str]) -> Accounts:
        return cls(accounts_path(db_path))

    def _connect(self, create: bool = False) -> sqlite3.Connection | None:
        if not self.path.exists():
            if not create:
                return None
            # Created owner-only before SQLite writes a byte into it.
            os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        conn = sqlite3.connect(self.path, timeout=5)
        if create:
            for statement in _SCHEMA:
                conn.execute(statement)
            conn.commit()
        return conn

    def add(self, name: str, role: str, password: str, replace: bool = False) -> None:
        """Create the account (or, with `replace`, set its role and password)."""
        name = check_name(name)
        if role not in ROLES:
            raise AccountError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
        if len(password) < MIN_PASSWORD_LENGTH:
            raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")
        conn = self._connect(create=True)
        try:
            with conn:
                exists = conn.execute("SELECT 1 FROM accounts WHERE name = ?", [name]).fetchone()
                if exists and not replace:
                    raise AccountError(f"an account {name!r} exists: pass --replace to set a new password or role")
                conn.execute(
                    "INSERT INTO accounts (name, role, password_hash) VALUES (?, ?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET role = excluded.role, password_hash = excluded.password_hash",
                    [name, role, hash_password(password)])
        finally:
            conn.close()

    def remove(self, name: str) -> None:
        conn = self._connect()
        try:
            removed = conn is not None and conn.execute("DELETE FROM accounts WHERE name = ?", [name]).rowcount
            if conn is not None:
                conn.commit()
        finally:
            if conn is not None:
                conn.close()
        if not removed:
            raise AccountError(f"no account {name!r}")

    def list(self) -> list[Account]:
        return [Account(*row) for row in self._rows("SELECT name, role, created_at FROM accounts ORDER BY name")]

    def password_hashes(self) -> dict[str, tuple[str, str]]:
        """name → (role, password hash), for the login check."""
        return {name: (role, digest) for name, role, digest in
                self._rows("SELECT name, role, password_hash FROM accounts")}

    def role_of(self, name: str) -> str | None:
        rows = self._rows("SELECT role FROM accounts WHERE name = ?", [name])
        return rows[0][0] if rows else None

    def signing_secret(self) -> str:
        """The secret that signs login cookies, made on first use and kept."""
        conn = self._connect(create=True)
        try:
            with conn:
                conn.execute("INSERT OR IGNORE INTO site (key, value) VALUES ('signing_secret', ?)",
                             [secrets.token_hex(32)])
                return conn.execute("SELECT value FROM site WHERE key = 'signing_secret'").fetchone()[0]
        finally:
            conn.close()

    def _rows(self, sql: str, params=()) -> list[tuple]:
        conn = self._connect()
        if conn is None:
            return []
        try:
            return conn.execute(sql, params).fetchall()
        except sqlite3.OperationalError:
            # A file left empty by a crash between its creation and its schema.
            return []
        finally:
            conn.close()


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name or "") or "_password_hash" in name:
        raise AccountError(f"account name {name!r}: use 2–40 lower-case letters, digits, '.', '-' or '_', "
                           "starting with a letter or digit (e.g. lan.pham)")
    return name
