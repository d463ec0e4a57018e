"""Docs that cannot drift: every command is in the README and in the command reference, which
is generated from the code (cog); every option has help; the README's commands run as written
after the demo, in the demo's folder; and the README's test command is what CI runs."""

from __future__ import annotations

import http.cookiejar
import re
import shlex
import shutil
import subprocess
import sys
import time
import urllib.parse
import urllib.request

import click
import pytest
from click.testing import CliRunner

from conftest import ROOT
from pressmon.pipeline.accounts import Accounts
from pressmon.pipeline.cli import cli

README = (ROOT / "README.md").read_text(encoding="utf-8")
REFERENCE = ROOT / "docs" / "cli.md"


def all_commands(group=cli, prefix=()):
    for name, command in sorted(group.commands.items()):
        yield (*prefix, name), command
        if isinstance(command, click.Group):
            yield from all_commands(command, (*prefix, name))


COMMANDS = dict(all_commands())


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_is_in_the_readme(name):
    assert f"pressmon {name}" in README


@pytest.mark.parametrize("path", sorted(COMMANDS), ids=" ".join)
def test_every_option_has_help(path):
    command = COMMANDS[path]
    assert command.help
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help, f"pressmon {' '.join(path)} {param.opts[0]} has no help"


def test_the_command_reference_is_generated_from_the_current_commands():
    from cogapp import Cog

    cog = Cog()
    assert cog.main(["cog", "--check", str(REFERENCE)]) == 0, "docs/cli.md is stale: run `cog -r docs/cli.md`"
    text = REFERENCE.read_text(encoding="utf-8")
    for path in COMMANDS:
        assert f"## pressmon {' '.join(path)}\n" in text


def test_ci_runs_the_readme_test_command():
    commands = re.findall(r"^```\n(.+?)\n```", README, flags=re.M | re.S)
    test_command = next(c for c in commands if "pytest" in c)
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")


def readme_commands(heading: str) -> list[list[str]]:
    """The `pressmon …` lines of the first code block after `heading`, as argument lists
    (comments and an input redirection dropped)."""
    section = README.split(heading, 1)[1]
    block = re.search(r"```\n(.+?)\n```", section, flags=re.S).group(1)
    lines = [re.split(r"\s+#\s", line)[0].split(" < ")[0] for line in block.splitlines()]
    return [shlex.split(line)[1:] for line in lines if line.startswith("pressmon ")]


@pytest.fixture
def demo_folder(demo_db, tmp_path, monkeypatch):
    """A folder holding the demo's database as pressmon.db, as `pressmon demo` leaves it."""
    db, *_ = demo_db
    shutil.copy(db, tmp_path / "pressmon.db")
    shutil.copytree(db.with_suffix(".warc"), tmp_path / db.with_suffix(".warc").name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_the_commands_after_the_demo_run_as_written(demo_folder):
    """Each command of the README's "After the demo" block, as written, in the demo's folder."""
    commands = readme_commands("### After the demo")
    assert len(commands) >= 8
    for args in commands:
        if args[0] == "serve":
            continue  # blocks: tested below
        answers = {"review": "q\n", "users": "mat-khau-cua-lan\nmat-khau-cua-lan\n"}.get(args[0])
        result = CliRunner().invoke(cli, args, input=answers)
        assert result.exit_code == 0, (args, result.output)
        assert "Traceback" not in result.output
    for name in ("bao-cao-2026.xlsx", "ct20.docx", "trang-42.html", "pack.zip"):
        assert (demo_folder / name).stat().st_size > 0, name


def test_serve_after_the_demo_publishes_the_site(demo_folder):
    """`pressmon serve` as written, on the demo's database with an account: the site asks for a
    login, and after logging in through the form an item's page is there."""
    (args,) = [a for a in readme_commands("### After the demo") if a[0] == "serve"]
    if "lan.pham" not in {a.name for a in Accounts.beside(demo_folder / "pressmon.db").list()}:
        Accounts.beside(demo_folder / "pressmon.db").add("lan.pham", "reviewer", "mat-khau-cua-lan")
    server = subprocess.Popen([sys.executable, "-m", "pressmon.pipeline.cli", *args], cwd=demo_folder,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{args[args.index('--port') + 1]}"
    browser = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    try:
        form = None
        deadline = time.monotonic() + 60
        while form is None and time.monotonic() < deadline and server.poll() is None:
            try:
                with browser.open(f"{base}/pressmon/articles/42", timeout=5) as response:
                    assert response.url == f"{base}/-/login"  # asked to log in first
                    form = response.read().decode("utf-8")
            except OSError:
                time.sleep(0.3)
        assert form is not None, server.stdout.read() if server.poll() is not None else "no answer"
        token = re.search(r'name="csrftoken" value="([^"]+)"', form).group(1)
        login = urllib.parse.urlencode({"username": "lan.pham", "password": "mat-khau-cua-lan", "csrftoken": token})
        browser.open(f"{base}/-/login", data=login.encode(), timeout=10).read()
        with browser.open(f"{base}/pressmon/articles/42", timeout=10) as response:
            page = response.read().decode("utf-8")
        assert 'class="pressmon-article"' in page and "Ngày đăng" in page
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_the_real_use_commands_are_valid(tmp_path, monkeypatch):
    """The README's "Real use" block needs the real sites: each line is parsed by the real
    command line (options, values and checks) in a folder of its own, without running it."""
    from pressmon.pipeline.store import Store

    monkeypatch.chdir(tmp_path)
    with Store(tmp_path / "pressmon.db"):
        pass
    (tmp_path / "saved.html").write_text("<html></html>", encoding="utf-8")
    commands = readme_commands("## Real use")
    assert {args[0] for args in commands} >= {"crawl", "run-once", "schedule", "canary", "extract"}
    for args in commands:
        leaf, rest = cli, list(args)
        while isinstance(leaf, click.Group):
            leaf = leaf.commands[rest.pop(0)]
        monkeypatch.setattr(leaf, "callback", lambda **options: None)  # parse and check, do not run
        result = CliRunner().invoke(cli, args)
        assert result.exit_code == 0, (args, result.output)
