"""Bad input, as a new user gives it: every case is answered in one line (`Error: …`), with a
non-zero exit, no traceback, and no file written or changed."""

from __future__ import annotations

import hashlib
import socket
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from pressmon.pipeline.cli import cli
from pressmon.pipeline.store import Store

OUTLET = {"id": "baogialai", "name": "Báo Gia Lai", "kind": "newspaper", "family": "zce",
          "domain": "baogialai.com.vn", "home_url": "https://baogialai.com.vn/", "language": "vi"}


def article(n: int) -> dict:
    return {"url": f"https://baogialai.com.vn/bai-{n}-post{n}.html", "outlet_id": "baogialai", "title": f"Bài số {n}",
            "lead": "Sa-pô.", "body": f"Nội dung bài số {n}.", "published_at": "2026-03-10T08:00:00+07:00"}


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A working folder holding pressmon.db (two articles, one decided `probable` for ct20),
    a text file and another application's SQLite file; the commands run in it."""
    with Store(tmp_path / "pressmon.db") as store:
        store.sync_outlets([OUTLET])
        store.start_run("r1", "baogialai", "mirror")
        for n in (1, 2):
            store.save_article("r1", article(n), classification={"model_version": "m1", "topics": {
                "qd1894": {"tier": "none", "probability": 0.1},
                "ct20": {"tier": "probable" if n == 1 else "none", "probability": 0.8}}})
    (tmp_path / "notes.txt").write_text("không phải cơ sở dữ liệu", encoding="utf-8")
    other = sqlite3.connect(tmp_path / "other-app.db")
    other.execute("CREATE TABLE contacts (name TEXT)")
    other.commit()
    other.close()
    monkeypatch.chdir(tmp_path)
    return tmp_path


def snapshot(folder: Path) -> dict[str, str]:
    """Every file's hash, but SQLite's own -wal and -shm files, which a read-only reader of a
    WAL database may create and which hold no data of ours."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.endswith(("-wal", "-shm"))}


def refused(folder: Path, *args: str, input: str | None = None, env: dict | None = None) -> str:
    """Run `pressmon ARGS` in `folder`; assert the one-line refusal and an untouched folder;
    return the line."""
    before = snapshot(folder)
    result = CliRunner().invoke(cli, list(args), input=input, env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert result.exit_code != 0, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert "Traceback" not in result.output
    assert snapshot(folder) == before, "a refused command wrote or changed a file"
    return lines[0]


# Output files ---------------------------------------------------------------------------------

def test_a_report_into_a_missing_folder(folder):
    line = refused(folder, "report", "--year", "2026", "-o", "bao-cao/2026.xlsx")
    assert line == "Error: -o bao-cao/2026.xlsx: no folder bao-cao"


def test_a_report_whose_name_and_format_disagree(folder):
    line = refused(folder, "report", "--year", "2026", "--format", "csv", "-o", "x.xlsx")
    assert line == "Error: -o x.xlsx ends in .xlsx but --format is csv: name it x.csv or drop --format"
    assert "cannot tell the format" in refused(folder, "report", "--year", "2026", "-o", "bao-cao")


def test_a_report_without_a_period(folder):
    assert "--year YYYY" in refused(folder, "report", "-o", "x.csv")


def test_a_report_on_a_file_that_is_not_a_database(folder):
    line = refused(folder, "report", "--db", "notes.txt", "--year", "2026", "-o", "x.csv")
    assert line == "Error: notes.txt is not a SQLite database"


def test_evidence_never_overwrites_without_force(folder):
    (folder / "trang-1.html").write_text("đã có", encoding="utf-8")
    assert refused(folder, "evidence", "1", "--out", "trang-1.html") == \
        "Error: --out trang-1.html exists: pass --force to replace it"


def test_evidence_into_a_missing_folder(folder):
    assert refused(folder, "evidence", "1", "--out", "bang-chung/1.html") == \
        "Error: --out bang-chung/1.html: no folder bang-chung"


def test_evidence_says_when_a_pack_would_be_empty(folder):
    assert refused(folder, "evidence", "--year", "2026", "--out", "pack.zip") == \
        "Error: no counted item with an archived page in 2026: nothing written"


def test_evidence_of_an_article_never_archived_or_unknown(folder):
    assert "has no archived page" in refused(folder, "evidence", "1", "--out", "trang-1.html")
    assert refused(folder, "evidence", "99", "--out", "trang-99.html").startswith("Error: no article 99 in ")


def test_evidence_without_an_article_or_a_year(folder):
    assert "ARTICLE_ID" in refused(folder, "evidence", "--out", "x.zip")


# Models -----------------------------------------------------------------------------------------

def test_a_garbage_model_file(folder):
    (folder / "model.joblib").write_bytes(b"not a pickle at all")
    expected = "Error: model.joblib is not a pressmon topic model: train one with `pressmon nlp train`"
    assert refused(folder, "nlp", "classify", "--model", "model.joblib", input="{}\n") == expected
    assert refused(folder, "classify", "--model", "model.joblib") == expected


def test_a_missing_model_file(folder):
    assert refused(folder, "classify", "--model", "none.joblib") == \
        "Error: no topic model at none.joblib: train one with `pressmon nlp train`"


# Databases --------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", [["serve"], ["health"], ["classify"], ["review", "--reviewer", "an"],
                                     ["report", "--year", "2026", "-o", "x.csv"], ["crawl"], ["run-once"]])
def test_a_file_that_is_not_a_pressmon_database_is_refused_before_it_is_opened(folder, command):
    assert refused(folder, *command, "--db", "notes.txt") == "Error: notes.txt is not a SQLite database"
    assert refused(folder, *command, "--db", "other-app.db") == \
        "Error: other-app.db is a SQLite database, but not pressmon's (it has no pressmon schema)"


@pytest.mark.parametrize("command", [["serve"], ["health"], ["report", "--year", "2026", "-o", "x.csv"]])
def test_a_missing_database_says_how_to_make_one(folder, command):
    assert refused(folder, *command, "--db", "missing.db") == \
        "Error: no database at missing.db: run `pressmon demo` or `pressmon crawl` first"


def test_a_database_in_a_missing_folder(folder):
    assert refused(folder, "crawl", "--db", "data/pressmon.db") == "Error: no folder data for the database pressmon.db"


def test_the_real_sites_are_never_crawled_into_the_demos_database(folder):
    """The fixture's run came from the mirror: pressmon.db holds sample articles."""
    line = refused(folder, "crawl", "--outlet", "baogialai")
    assert line.startswith("Error: pressmon.db holds the demo's sample articles from the offline mirror")


def test_the_demo_never_writes_into_a_database_of_real_coverage(folder):
    with Store(folder / "pressmon.db") as store:
        store.start_run("r2", "baogialai", "live")
    line = refused(folder, "demo", "--no-serve")
    assert line == ("Error: pressmon.db holds articles crawled from the real sites: crawl the offline mirror "
                    "into another file (--db PATH)")


def test_unknown_outlets_and_bad_days(folder):
    assert refused(folder, "crawl", "--db", "new.db", "--outlet", "nope").startswith(
        "Error: unknown outlet(s): nope; known: baogialai, ")
    assert refused(folder, "crawl", "--db", "new.db", "--since", "2025-13-01") == \
        "Error: --since '2025-13-01' is not a valid day: month must be in 1..12"
    assert refused(folder, "crawl", "--db", "new.db", "--since", "hôm qua") == \
        "Error: --since 'hôm qua' is not a day: write YYYY-MM-DD or DD/MM/YYYY"


# Ports ------------------------------------------------------------------------------------------

@pytest.fixture
def busy_port():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield taken.getsockname()[1]


def test_the_demo_checks_its_port_before_crawling(folder, busy_port):
    (folder / "pressmon.db").unlink()
    line = refused(folder, "demo", "--port", str(busy_port))
    assert line == f"Error: port {busy_port} on 127.0.0.1 is in use: pass --port with another number"


def test_serve_checks_its_port(folder, busy_port):
    assert refused(folder, "serve", "--public", "--port", str(busy_port)).startswith(
        f"Error: port {busy_port} on 127.0.0.1")


# Outlets ----------------------------------------------------------------------------------------

def test_extract_with_an_unknown_outlet(folder):
    assert refused(folder, "extract", "https://baogialai.com.vn/a-post1.html", "--outlet", "nope").startswith(
        "Error: unknown outlet 'nope'; known: baogialai, gialaitv, ")


def test_extract_of_a_site_the_registry_does_not_know(folder):
    assert refused(folder, "extract", "https://example.com/a.html").startswith(
        "Error: no outlet in the registry for https://example.com/a.html: pass --outlet ID (known: ")


def test_canary_of_an_unknown_outlet(folder):
    assert refused(folder, "canary", "--outlet", "nope").startswith("Error: unknown outlet(s): nope; known: ")


# Verdicts from a CSV file -------------------------------------------------------------------------

def verdicts(folder: Path) -> list[tuple]:
    with Store(folder / "pressmon.db") as store:
        return store.db.execute("SELECT article_id, topic, verdict, reviewer, note FROM verdicts ORDER BY id").fetchall()


def test_a_verdict_file_without_a_header(folder):
    (folder / "v.csv").write_text("1,ct20,confirmed\n", encoding="utf-8")
    line = refused(folder, "review", "--csv", "v.csv", "--reviewer", "lan")
    assert line.startswith("Error: v.csv: line 1 must be the header article_id,topic,verdict[,reviewer][,note]")
    assert line.endswith("; nothing was recorded")


def test_an_empty_verdict_file(folder):
    (folder / "v.csv").write_text("", encoding="utf-8")
    assert "the file is empty" in refused(folder, "review", "--csv", "v.csv", "--reviewer", "lan")


def test_without_user_the_real_error_of_a_verdict_file_is_shown(folder):
    (folder / "v.csv").write_text("article_id,topic,verdict\n1,ct20,maybe\n", encoding="utf-8")
    line = refused(folder, "review", "--csv", "v.csv", env={"USER": None})
    assert line == ("Error: v.csv: line 2: verdict must be confirmed or rejected (xác nhận or bác bỏ), "
                    "not 'maybe'; nothing was recorded")
    (folder / "v.csv").write_text("article_id,topic,verdict\n1,ct20,confirmed\n", encoding="utf-8")
    assert refused(folder, "review", "--csv", "v.csv", env={"USER": None}) == \
        "Error: v.csv: line 2: no reviewer: add a reviewer column or pass --reviewer NAME; nothing was recorded"


def test_a_verdict_file_that_contradicts_itself(folder):
    (folder / "v.csv").write_text("article_id,topic,verdict\n1,ct20,confirmed\n1,ct20,rejected\n", encoding="utf-8")
    assert "line 3: rejected contradicts line 2" in refused(folder, "review", "--csv", "v.csv", "--reviewer", "lan")


def test_a_verdict_file_for_a_missing_article(folder):
    (folder / "v.csv").write_text("article_id,topic,verdict\n7,ct20,confirmed\n", encoding="utf-8")
    assert "line 2: no article 7 in the database" in refused(folder, "review", "--csv", "v.csv", "--reviewer", "x")


def test_a_verdict_file_in_another_encoding(folder):
    (folder / "v.csv").write_bytes("article_id,topic,verdict,note\n1,ct20,confirmed,đúng\n".encode("cp1258"))
    assert refused(folder, "review", "--csv", "v.csv", "--reviewer", "lan") == \
        "Error: --csv v.csv is not UTF-8 text: save it as “CSV UTF-8”"


def test_excel_verdict_files_are_read_as_staff_write_them(folder):
    """Semicolons (Excel in a Vietnamese locale), a BOM, verdicts in any case or in Vietnamese,
    a blank line; a repeated row is recorded once, and importing the file again records nothing."""
    text = ("\ufeffarticle_id;topic;verdict;note\n1;CT20;Confirmed;đúng nhiệm vụ\n\n1;ct20;CONFIRMED;đúng nhiệm vụ\n"
            "2;qd1894;Bác bỏ;\n")
    (folder / "v.csv").write_text(text, encoding="utf-8")
    first = CliRunner().invoke(cli, ["review", "--csv", "v.csv", "--reviewer", "lan.pham"])
    assert first.exit_code == 0, first.output
    assert first.output.strip() == "2 verdicts recorded"
    assert verdicts(folder) == [(1, "ct20", "confirmed", "lan.pham", "đúng nhiệm vụ"),
                                (2, "qd1894", "rejected", "lan.pham", None)]
    again = CliRunner().invoke(cli, ["review", "--csv", "v.csv", "--reviewer", "lan.pham"])
    assert again.output.strip() == "0 verdicts recorded, 2 already recorded"
    assert len(verdicts(folder)) == 2


# Review in a terminal -----------------------------------------------------------------------------

def test_enter_at_the_note_prompt_is_no_note_and_a_wrong_key_asks_again(folder):
    result = CliRunner().invoke(cli, ["review", "--reviewer", "lan.pham"], input="k\nx\n\n")
    assert result.exit_code == 0, result.output
    assert "“k” không phải một lựa chọn." in result.output
    assert verdicts(folder) == [(1, "ct20", "confirmed", "lan.pham", None)]


def test_review_without_a_reviewer(folder):
    assert refused(folder, "review", env={"USER": None}) == "Error: no reviewer: pass --reviewer NAME"


# The nightly options ------------------------------------------------------------------------------

def test_a_schedule_at_a_time_that_does_not_exist(folder):
    assert refused(folder, "schedule", "--at", "25:00") == "Error: --at '25:00' is not HH:MM (24-hour), e.g. 01:30"
    assert refused(folder, "schedule", "--tz", "Gia Lai") == \
        "Error: --tz 'Gia Lai' is not a time zone, e.g. Asia/Ho_Chi_Minh"


def test_health_of_a_database_never_crawled(folder, tmp_path):
    with Store(folder / "fresh.db"):
        pass
    assert refused(folder, "health", "--db", "fresh.db") == "Error: no crawl run in the database yet"
