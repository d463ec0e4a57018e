"""What the tests share: where things are, the `pressmon` command in a subprocess, SQL on a
test database, the loopback mirror, and one topic model trained once per test run.

Every test runs with PRESSMON_MODEL pointing into the test run's temporary folder, so no test
reads or writes a model in the user's data folder, and with no PRESSMON_DB or PRESSMON_AUTHOR
from the environment.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SITES = ROOT / "crawlers" / "mirror" / "sites"
CONTENT = ROOT / "crawlers" / "mirror" / "content"
FIXTURES = Path(__file__).resolve().parent / "fixtures"
# The registry's delays times this: the mirror is our own loopback server.
TEST_SCALE = "0.05"


def pressmon(*args: str, timeout: float = 300, cwd: str | Path = ROOT, **kwargs) -> subprocess.CompletedProcess:
    """Run the `pressmon` command as a user would (a process of its own: Scrapy's reactor
    starts once per process)."""
    return subprocess.run([sys.executable, "-m", "pressmon.pipeline.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, **kwargs)


def query(db: str | Path, sql: str, params=()) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@pytest.fixture(scope="session", autouse=True)
def isolated_environment(tmp_path_factory):
    """PRESSMON_MODEL in this run's temporary folder; no PRESSMON_DB or PRESSMON_AUTHOR."""
    saved = {name: os.environ.get(name) for name in ("PRESSMON_MODEL", "PRESSMON_DB", "PRESSMON_AUTHOR")}
    path = tmp_path_factory.mktemp("model") / "topics.npz"
    os.environ["PRESSMON_MODEL"] = str(path)
    os.environ.pop("PRESSMON_DB", None)
    os.environ.pop("PRESSMON_AUTHOR", None)
    yield path
    for name, value in saved.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value


@pytest.fixture(scope="session")
def topic_model(isolated_environment):
    """The model `pressmon nlp train` makes from the shipped corpus, trained once per test run
    and saved where PRESSMON_MODEL points, so subprocesses classify with it too."""
    from pressmon.pipeline.decisions.classify import train_model

    model, _ = train_model()
    model.save(isolated_environment)
    return model


@pytest.fixture(scope="session")
def model_path(topic_model, isolated_environment) -> Path:
    return isolated_environment


@pytest.fixture(scope="session")
def mirror():
    """The offline mirror on a free loopback port: its base URL."""
    from pressmon.crawlers.mirror.server import serve_mirror

    server, base_url = serve_mirror()
    yield base_url
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def manifest() -> dict:
    """What the committed mirror holds (written by its build): every outlet's articles."""
    return json.loads((SITES / "_manifest.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def content_by_url(manifest):
    """Each mirrored article's URL → its content record (with the category it was written as)."""
    lines = {}
    for path in CONTENT.glob("[!_]*.jsonl"):
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            lines[f"{path.name}:{number}"] = json.loads(line)
    return {a["url"]: lines[a["source"]] for o in manifest["outlets"].values() for a in o["articles"]}


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory, topic_model):
    """The demo's database, built as `pressmon demo --no-serve` builds it, then crawled again as
    a second night: (path, first run, second run). Read it; copy it to change it."""
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    first = pressmon("demo", "--no-serve", "--db", str(db), "--politeness-scale", TEST_SCALE, "--no-progress")
    assert first.returncode == 0, first.stderr[-3000:]
    second = pressmon("demo", "--no-serve", "--db", str(db), "--politeness-scale", TEST_SCALE, "--no-progress")
    assert second.returncode == 0, second.stderr[-3000:]
    return db, first, second


def signed_in(ds, db_path: str | Path, role: str = "reviewer") -> dict:
    """The cookies of a logged-in account of `role` on the site `ds` publishes (the account
    is created in the database's accounts file on first use), as /-/login would set them."""
    from pressmon.pipeline.accounts import Accounts

    name = {"reviewer": "lan.pham", "admin": "quantri"}[role]
    accounts = Accounts.beside(db_path)
    if accounts.role_of(name) != role:
        accounts.add(name, role, "mat-khau-thu-nghiem", replace=True)
    return {"ds_actor": ds.sign({"a": {"id": name, "role": role}}, "actor")}
