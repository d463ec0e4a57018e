"""Docs that cannot drift: every command is in the README, every option has help, and the
README's test command is what CI runs."""

import re
from pathlib import Path

import click
import pytest

from pressmon.pipeline.cli import cli

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_command_is_in_the_readme(name):
    assert f"pressmon {name}" in README


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_every_option_has_help(name):
    command = cli.commands[name]
    assert command.help
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"pressmon {name} {param.opts[0]} has no help"


def test_ci_runs_the_readme_test_command():
    commands = re.findall(r"^```\n(.+?)\n```", README, flags=re.M | re.S)
    test_command = next(c for c in commands if "pytest" in c)
    assert test_command in (ROOT / ".ci" / "run").read_text(encoding="utf-8")
