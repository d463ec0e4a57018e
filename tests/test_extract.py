"""Per-outlet extraction fixtures (tests/fixtures/<outlet id>/<case>.*).

Each case is a saved page, the fields its extraction must give (written from the content the
page was built from, by tests/fixtures/make_fixtures.py — not from the extractor), and where
it came from. `methods` in an expected file pins the source of the fields where the source is
part of the contract; an `error` expected file names a page extraction must refuse.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import FIXTURES, pressmon
from pressmon.crawlers.extract import ExtractionError, extract_article
from pressmon.crawlers.registry import load_registry
from pressmon.pipeline.cli import cli


EXPECTED = sorted(FIXTURES.glob("*/*.expected.json"))
FIELDS = {"url", "title", "lead", "body", "author", "section", "tags", "published_at",
          "published_raw", "modified_at", "media_kind", "language"}


def case_id(path: Path) -> str:
    return f"{path.parent.name}/{path.name.removesuffix('.expected.json')}"


def load(path: Path):
    stem = path.name.removesuffix(".expected.json")
    expected = json.loads(path.read_text(encoding="utf-8"))
    meta = json.loads((path.parent / f"{stem}.meta.json").read_text(encoding="utf-8"))
    return path.parent / f"{stem}.html", expected, meta


def split(expected: dict) -> tuple[dict, dict]:
    fields = {k: v for k, v in expected.items() if k != "methods"}
    return fields, expected.get("methods", {})


ARTICLES = [p for p in EXPECTED if "error" not in json.loads(p.read_text(encoding="utf-8"))]
ERRORS = [p for p in EXPECTED if p not in ARTICLES]


@pytest.mark.parametrize("path", EXPECTED, ids=case_id)
def test_fixture(path):
    html, expected, meta = load(path)
    outlet = load_registry()[path.parent.name]
    if "error" in expected:
        with pytest.raises(ExtractionError, match=re.escape(expected["error"])):
            extract_article(html.read_bytes(), meta["url"], outlet)
        return
    result = extract_article(html.read_bytes(), meta["url"], outlet)
    fields, methods = split(expected)
    assert set(result.fields) == FIELDS
    # every field but the raw date text is pinned by every article fixture
    assert FIELDS - {"published_raw"} <= set(fields), sorted(FIELDS - set(fields))
    for name, value in fields.items():
        assert result.fields[name] == value, name
    assert {name: result.methods.get(name) for name in methods} == methods


def test_every_outlet_has_an_article_fixture():
    covered = {p.parent.name for p in ARTICLES}
    assert set(load_registry()) <= covered, sorted(set(load_registry()) - covered)
    assert {p.parent.name for p in EXPECTED} <= set(load_registry())


def test_every_fixture_is_complete_and_says_where_it_came_from():
    pages = sorted(FIXTURES.glob("*/*.html"))
    assert {p.with_suffix("") for p in pages} == {p.parent / p.name.removesuffix(".expected.json")
                                                  for p in EXPECTED}
    for path in EXPECTED:
        _, _, meta = load(path)
        assert meta["url"].startswith("https://"), path
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", meta["captured_at"]), path
        assert load_registry()[path.parent.name].is_article_url(meta["url"]), path


def test_fixtures_are_current_and_deterministic(tmp_path, monkeypatch):
    """make_fixtures.py regenerates every generated file byte for byte."""
    spec = importlib.util.spec_from_file_location("make_fixtures", FIXTURES / "make_fixtures.py")
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up
    spec.loader.exec_module(module)
    written = module.build(tmp_path)
    assert written
    for path in written:
        rel = path.relative_to(tmp_path)
        assert path.read_bytes() == (FIXTURES / rel).read_bytes(), f"{rel} is stale: run make_fixtures.py"


@pytest.mark.parametrize("path", ARTICLES, ids=case_id)
def test_cli_extract_prints_the_fields(path):
    html, expected, meta = load(path)
    result = CliRunner().invoke(cli, ["extract", meta["url"], "--html", str(html)])
    assert result.exit_code == 0, result.stderr
    printed = json.loads(result.stdout)
    fields, methods = split(expected)
    assert printed["outlet_id"] == path.parent.name
    assert {name: printed[name] for name in fields} == fields
    assert isinstance(printed["methods"], dict) and printed["methods"]["title"]
    assert {name: printed["methods"].get(name) for name in methods} == methods


@pytest.mark.parametrize("path", ERRORS, ids=case_id)
def test_cli_extract_refuses_a_page_that_is_not_an_article(path):
    html, expected, meta = load(path)
    result = CliRunner().invoke(cli, ["extract", meta["url"], "--html", str(html)])
    assert result.exit_code != 0
    assert expected["error"] in result.stderr
    assert meta["url"] in result.stderr
    assert result.stdout == ""


def test_cli_extract_fetches_through_the_spider_politely(mirror):
    """Without --html the page is fetched the way a crawl fetches it: the same fields as the
    saved page, and a page robots.txt disallows is refused in one line, not fetched."""
    path = FIXTURES / "baogialai" / "text-div-lead.expected.json"
    html, expected, meta = load(path)
    fetched = pressmon("extract", meta["url"], "--mirror", mirror)
    assert fetched.returncode == 0, fetched.stderr[-2000:]
    saved = CliRunner().invoke(cli, ["extract", meta["url"], "--html", str(html)])
    assert json.loads(fetched.stdout) == json.loads(saved.stdout)
    disallowed = pressmon("extract", "https://baogialai.com.vn/bai-noi-bo-post999007.html", "--mirror", mirror)
    assert disallowed.returncode == 1 and disallowed.stdout == ""
    assert disallowed.stderr.strip().splitlines() == [
        "Error: https://baogialai.com.vn/bai-noi-bo-post999007.html: robots: Forbidden by robots.txt"]
