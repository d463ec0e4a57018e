"""Source health: the flags of pipeline.health on a real SQLite store, the Vietnamese morning
summary, and the e-mail as a local SMTP server (aiosmtpd on 127.0.0.1) receives it."""

from __future__ import annotations

import json
import shutil
import socket
from email import message_from_bytes
from email.header import decode_header, make_header
from email.policy import default as default_policy
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from click.testing import CliRunner

from conftest import SITES, TEST_SCALE, pressmon
from pressmon.crawlers.mirror.server import serve_mirror
from pressmon.crawlers.registry import load_registry
from pressmon.pipeline.cli import cli
from pressmon.pipeline.nightly.health import assess_run, morning_summary, vn_number
from pressmon.pipeline.nightly.mail import send_summary, smtp_settings_from_env
from pressmon.pipeline.store import Store

OUTLETS = [{"id": "baogialai", "name": "Báo Gia Lai", "kind": "newspaper"},
           {"id": "gialaitv", "name": "Đài PT-TH Gia Lai", "kind": "broadcaster"}]
_serial = [0]


@pytest.fixture
def store(tmp_path):
    with Store(tmp_path / "health.db") as store:
        store.sync_outlets(OUTLETS)
        yield store


def night(store, run_id, outlet_id, day, *, pages=10, new=5, parse_failed=0, http=0,
          timeouts=0, status="finished", not_modified=0):
    """One outlet's crawl of one night through the Store's own writes; `day` is YYYY-MM-DD."""
    store.start_run(run_id, outlet_id)
    if pages:
        store.count_page(run_id, outlet_id, n=pages)
    if not_modified:
        store.count_page(run_id, outlet_id, n=not_modified, not_modified=True)
    for i in range(new):
        _serial[0] += 1
        store.save_article(run_id, {"url": f"https://{outlet_id}.example/bai-{_serial[0]}.html",
                                    "outlet_id": outlet_id, "title": f"Tin {_serial[0]}",
                                    "body": "Nội dung bài báo về Gia Lai " * 10})
    for i in range(parse_failed):
        store.record_error(run_id, outlet_id, f"https://{outlet_id}.example/hong-{i}.html", "parse_failed", "no body")
    for i in range(http):
        store.record_error(run_id, outlet_id, f"https://{outlet_id}.example/loi-{i}.html", "http_error", "HTTP 503")
    for i in range(timeouts):
        store.record_error(run_id, outlet_id, f"https://{outlet_id}.example/cham-{i}.html", "timeout", "timed out")
    store.finish_run(run_id, outlet_id, status=status)
    store.db.execute("UPDATE crawl_runs SET started_at = ? WHERE run_id = ? AND outlet_id = ?",
                     [f"{day}T01:30:00+07:00", run_id, outlet_id])
    store.db.conn.commit()


def by_outlet(rows):
    return {row["outlet_id"]: row for row in rows}


def stored_health(store, run_id):
    rows = store.db.execute("SELECT outlet_id, night, pages, new_items, parse_failures, http_errors, flagged, "
                            "reasons FROM source_health WHERE run_id = ? ORDER BY outlet_id", [run_id]).fetchall()
    return {r[0]: {"night": r[1], "pages": r[2], "new_items": r[3], "parse_failures": r[4],
                   "http_errors": r[5], "flagged": r[6], "reasons": json.loads(r[7])} for r in rows}


def test_a_normal_night_is_not_flagged_and_is_stored(store):
    night(store, "20260105T013000", "baogialai", "2026-01-05", pages=30, new=12, parse_failed=1, http=1)
    rows = by_outlet(assess_run(store, "20260105T013000"))
    assert rows["baogialai"]["flagged"] == 0 and rows["baogialai"]["reasons"] == []
    saved = stored_health(store, "20260105T013000")["baogialai"]
    assert saved == {"night": "2026-01-05", "pages": 30, "new_items": 12, "parse_failures": 1, "http_errors": 1,
                     "flagged": 0, "reasons": []}


def test_assessing_again_replaces_the_rows(store, tmp_path):
    night(store, "r1", "baogialai", "2026-01-05", pages=0, new=0, timeouts=3)
    assess_run(store, "r1")
    assess_run(tmp_path / "health.db", "r1")  # also by path
    assert store.db.execute("SELECT COUNT(*) FROM source_health WHERE run_id = 'r1'").fetchone()[0] == 1


def test_an_outlet_that_fetched_nothing_is_flagged(store):
    night(store, "r1", "baogialai", "2026-01-05", pages=20, new=8)
    night(store, "r1", "gialaitv", "2026-01-05", pages=0, new=0, timeouts=4)
    rows = by_outlet(assess_run(store, "r1"))
    assert rows["baogialai"]["flagged"] == 0
    assert rows["gialaitv"]["flagged"] == 1
    assert rows["gialaitv"]["http_errors"] == 4
    assert "Không tải được trang nào" in rows["gialaitv"]["reasons"]


def test_an_unfinished_run_and_an_all_error_outlet_are_flagged(store):
    night(store, "r1", "baogialai", "2026-01-05", pages=5, new=2, status="interrupted")
    night(store, "r1", "gialaitv", "2026-01-05", pages=3, new=0, http=3)  # every page a 503
    rows = by_outlet(assess_run(store, "r1"))
    assert rows["baogialai"]["reasons"] == ["Lượt thu thập không hoàn tất (trạng thái: interrupted)"]
    assert rows["gialaitv"]["flagged"] == 1
    assert rows["gialaitv"]["reasons"][0].startswith("Mọi yêu cầu đều lỗi")


def test_more_than_a_fifth_of_article_pages_failing_to_parse_is_flagged(store):
    night(store, "r1", "baogialai", "2026-01-05", pages=33, new=23, parse_failed=7)
    night(store, "r1", "gialaitv", "2026-01-05", pages=33, new=24, parse_failed=6)  # exactly 20%: fine
    rows = by_outlet(assess_run(store, "r1"))
    assert rows["baogialai"]["reasons"] == ["Hơn 20% trang không phân tích được (7/30)"]
    assert rows["gialaitv"]["flagged"] == 0


def test_a_volume_drop_after_a_week_of_about_ten_items_is_flagged(store):
    for day, new in zip(range(1, 9), (40, 10, 9, 11, 10, 12, 8, 10)):  # night 1 is the backfill
        night(store, f"202601{day:02d}T013000", "baogialai", f"2026-01-{day:02d}", pages=new + 5, new=new)
        night(store, f"202601{day:02d}T013000", "gialaitv", f"2026-01-{day:02d}", pages=8, new=3)
    night(store, "20260109T013000", "baogialai", "2026-01-09", pages=6, new=1)
    night(store, "20260109T013000", "gialaitv", "2026-01-09", pages=8, new=2)
    rows = by_outlet(assess_run(store, "20260109T013000"))
    # The mean of nights 2–8 (the backfill of night 1 left out): 70 / 7 = 10.
    assert rows["baogialai"]["reasons"] == ["Số bài mới giảm mạnh: 1 so với trung bình 10 của 7 đêm trước"]
    assert rows["gialaitv"]["flagged"] == 0  # 2 vs 3 is not below a quarter


def test_volume_mean_uses_vietnamese_decimals_and_only_nights_with_data(store):
    for day, new in zip(range(1, 6), (30, 12, 13, 12, 13)):
        night(store, f"d{day}", "baogialai", f"2026-01-{day:02d}", pages=20, new=new)
    night(store, "d6", "baogialai", "2026-01-06", pages=0, new=0, timeouts=5)  # a failed night: not history
    night(store, "d7", "baogialai", "2026-01-07", pages=20, new=0)
    reasons = by_outlet(assess_run(store, "d7"))["baogialai"]["reasons"]
    assert reasons == ["Số bài mới giảm mạnh: 0 so với trung bình 12,5 của 4 đêm trước"]


def test_no_volume_flag_on_a_quiet_night_without_history(store):
    night(store, "r1", "baogialai", "2026-01-05", pages=4, new=0, not_modified=40)
    assert by_outlet(assess_run(store, "r1"))["baogialai"]["flagged"] == 0


def test_no_volume_flag_for_a_second_night_over_an_unchanged_mirror(store):
    night(store, "r1", "baogialai", "2026-01-05", pages=60, new=50)
    night(store, "r2", "baogialai", "2026-01-06", pages=1, new=0, not_modified=59)
    assert by_outlet(assess_run(store, "r2"))["baogialai"]["flagged"] == 0


def test_no_volume_flag_for_an_outlet_that_never_had_three_a_night(store):
    for day, new in zip(range(1, 9), (2, 2, 1, 2, 3, 2, 2, 2)):
        night(store, f"d{day}", "baogialai", f"2026-01-{day:02d}", pages=5, new=new)
    night(store, "d9", "baogialai", "2026-01-09", pages=5, new=0)
    assert by_outlet(assess_run(store, "d9"))["baogialai"]["flagged"] == 0


def test_a_second_run_the_same_night_is_not_a_volume_drop(store):
    for day in range(1, 9):
        night(store, f"d{day}", "baogialai", f"2026-01-{day:02d}", pages=15, new=10)
    night(store, "d8-again", "baogialai", "2026-01-08", pages=15, new=0)
    store.db.execute("UPDATE crawl_runs SET started_at = '2026-01-08T03:00:00+07:00' WHERE run_id = 'd8-again'")
    store.db.conn.commit()
    assert by_outlet(assess_run(store, "d8-again"))["baogialai"]["flagged"] == 0


def test_unknown_run_is_an_error(store):
    with pytest.raises(LookupError):
        assess_run(store, "nope")


def test_morning_summary_puts_flagged_outlets_first_with_reasons(store):
    night(store, "r1", "baogialai", "2026-01-05", pages=20, new=8)
    night(store, "r1", "gialaitv", "2026-01-05", pages=0, new=0, timeouts=4)
    assess_run(store, "r1")
    text = morning_summary(store, "r1")
    assert text.startswith("# Tình trạng nguồn tin — đêm 05/01/2026")
    assert "Cần kiểm tra (1 nguồn)" in text
    assert text.index("Đài PT-TH Gia Lai") < text.index("Báo Gia Lai")
    assert "  - Không tải được trang nào" in text
    assert "- Báo Gia Lai (`baogialai`): 20 trang, 8 bài mới, 0 lỗi phân tích, 0 lỗi HTTP/mạng" in text
    assert "20 trang, 8 bài mới, 0 lỗi phân tích, 4 lỗi HTTP/mạng; 1/2 nguồn bị gắn cờ." in text


def test_morning_summary_says_when_nothing_is_flagged_and_assesses_if_needed(store, tmp_path):
    night(store, "r1", "baogialai", "2026-01-05", pages=20, new=8)
    text = morning_summary(tmp_path / "health.db", "r1")  # not assessed yet
    assert "Không có nguồn nào bị gắn cờ" in text and "Cần kiểm tra" not in text


def test_vietnamese_numbers():
    assert vn_number(12.5) == "12,5" and vn_number(1234) == "1.234" and vn_number(10.0) == "10"


def test_health_command_prints_the_latest_run(store, tmp_path):
    night(store, "20260104T013000", "baogialai", "2026-01-04", pages=20, new=8)
    night(store, "20260105T013000", "baogialai", "2026-01-05", pages=0, new=0, timeouts=2)
    result = CliRunner().invoke(cli, ["health", "--db", str(tmp_path / "health.db")])
    assert result.exit_code == 0, result.output
    assert "đêm 05/01/2026" in result.output and "Không tải được trang nào" in result.output
    older = CliRunner().invoke(cli, ["health", "--db", str(tmp_path / "health.db"), "--run-id", "20260104T013000"])
    assert "Không có nguồn nào bị gắn cờ" in older.output


# E-mail ---------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller
    from aiosmtpd.handlers import Sink

    class Inbox(Sink):
        def __init__(self):
            self.messages = []

        async def handle_DATA(self, server, session, envelope):
            self.messages.append(envelope)
            return "250 OK"

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


def test_not_configured_sends_nothing(monkeypatch):
    for name in ("PRESSMON_SMTP_HOST", "PRESSMON_MAIL_TO"):
        monkeypatch.delenv(name, raising=False)
    assert smtp_settings_from_env() is None
    assert send_summary("# x") is False


def test_the_summary_is_emailed_in_utf8(store, smtp_server, monkeypatch):
    controller, inbox = smtp_server
    night(store, "r1", "gialaitv", "2026-01-05", pages=0, new=0, timeouts=4)
    text = morning_summary(store, "r1")
    monkeypatch.setenv("PRESSMON_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PRESSMON_SMTP_PORT", str(controller.port))
    monkeypatch.setenv("PRESSMON_MAIL_FROM", "pressmon@sotttt.gialai.gov.vn")
    monkeypatch.setenv("PRESSMON_MAIL_TO", "bao-chi@sotttt.gialai.gov.vn, lanh-dao@sotttt.gialai.gov.vn")
    assert send_summary(text, subject="[pressmon] Tình trạng nguồn tin đêm 05/01/2026: 1 nguồn cần kiểm tra")
    assert len(inbox.messages) == 1
    envelope = inbox.messages[0]
    assert envelope.mail_from == "pressmon@sotttt.gialai.gov.vn"
    assert envelope.rcpt_tos == ["bao-chi@sotttt.gialai.gov.vn", "lanh-dao@sotttt.gialai.gov.vn"]
    message = message_from_bytes(envelope.original_content, policy=default_policy)
    assert str(make_header(decode_header(message["Subject"]))) == \
        "[pressmon] Tình trạng nguồn tin đêm 05/01/2026: 1 nguồn cần kiểm tra"
    assert message.get_content_charset() == "utf-8"
    body = message.get_content()
    assert "Đài PT-TH Gia Lai" in body and "Không tải được trang nào" in body


# The nightly hook -------------------------------------------------------------------------------

def test_run_cycle_assesses_the_run_and_writes_the_morning_summary(tmp_path, monkeypatch, smtp_server):
    from pressmon.pipeline.nightly import cycle

    controller, inbox = smtp_server
    db = tmp_path / "night.db"

    def fake_crawl(db_path, run_id, mirror, politeness_scale, lock, stop, log):
        with Store(db_path) as store:
            store.sync_outlets(OUTLETS)
            night(store, run_id, "baogialai", "2026-01-05", pages=12, new=4)
            night(store, run_id, "gialaitv", "2026-01-05", pages=0, new=0, timeouts=3)
        return 0

    monkeypatch.setattr(cycle, "_run_crawl_child", fake_crawl)
    monkeypatch.setenv("PRESSMON_MODEL", str(tmp_path / "no-model.joblib"))
    monkeypatch.setenv("PRESSMON_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("PRESSMON_SMTP_PORT", str(controller.port))
    monkeypatch.setenv("PRESSMON_MAIL_TO", "bao-chi@example.vn")
    summary = cycle.run_cycle(db)
    assert summary["health"] == [{"outlet_id": "gialaitv", "reasons": ["Không tải được trang nào"]}]
    morning = (tmp_path / "night.db.morning.md").read_text(encoding="utf-8")
    assert "Cần kiểm tra (1 nguồn)" in morning and "Đài PT-TH Gia Lai" in morning
    assert len(inbox.messages) == 1
    with Store(db) as store:
        assert store.db.execute("SELECT outlet_id, flagged FROM source_health ORDER BY outlet_id").fetchall() == \
            [("baogialai", 0), ("gialaitv", 1)]


# Canary ---------------------------------------------------------------------------------------

@pytest.fixture
def mirror_copy(tmp_path):
    """A private copy of the offline mirror, served on 127.0.0.1, that a test may break."""
    root = tmp_path / "sites"
    shutil.copytree(SITES, root)
    server, base = serve_mirror(root)
    yield root, base
    server.shutdown()
    server.server_close()


def canary(base: str, *args: str):
    """`pressmon canary` in a process of its own, as an operator runs it."""
    return pressmon("canary", "--mirror", base, "--politeness-scale", TEST_SCALE, *args)


def _page_file(root: Path, url: str) -> Path:
    parts = urlsplit(url)
    page = root / parts.hostname / parts.path.lstrip("/")
    return page / "index.html" if page.is_dir() else page


def test_the_canary_checks_each_outlets_newest_item_and_reports_what_broke(mirror_copy):
    """Found through the spiders' own discovery (the feed's newest item first), fetched the
    way a crawl fetches; then one outlet's layout changes (its selectors fall back to weaker
    sources) and another's newest item stops extracting."""
    root, base = mirror_copy
    intact = canary(base, "--json")
    assert intact.returncode == 0, intact.stdout[-2000:] + intact.stderr[-2000:]
    reports = {r["outlet_id"]: r for r in json.loads(intact.stdout)}
    assert set(reports) == set(load_registry())
    for report in reports.values():
        assert report["status"] == "ok", report
        assert report["url"] and report["missing"] == [] and report["fallback"] == {}
    assert reports["baogialai"]["found_in"] == "rss https://baogialai.com.vn/rss/home.rss"

    zce = _page_file(root, reports["baogialai"]["url"])
    html = zce.read_text(encoding="utf-8")
    assert "article__body" in html and "article__title" in html
    zce.write_text(html.replace("article__body", "story-content").replace("article__title", "story-heading"),
                   encoding="utf-8")
    _page_file(root, reports["gialaitv"]["url"]).write_text("<html><body><p>Trang đang bảo trì</p></body></html>",
                                                            encoding="utf-8")
    broken = canary(base, "--outlet", "gialaitv", "--outlet", "baogialai", "--json")
    assert broken.returncode == 1
    after = {r["outlet_id"]: r for r in json.loads(broken.stdout)}
    assert after["baogialai"]["url"] == reports["baogialai"]["url"] and after["baogialai"]["status"] == "warning"
    assert set(after["baogialai"]["fallback"]) == {"title", "body"}
    assert "selector" not in after["baogialai"]["fallback"].values()
    assert after["gialaitv"]["status"] == "failed"
    # A maintenance notice in place of the article: no title of its own.
    assert [p for p in after["gialaitv"]["problems"] if reports["gialaitv"]["url"] in p and "no_title" in p]

    markdown = canary(base, "--outlet", "gialaitv", "--outlet", "baogialai")
    assert markdown.returncode == 1
    assert "**Đài Phát thanh và Truyền hình Gia Lai (trang cũ)** (`gialaitv`): hỏng" in markdown.stdout
    assert "1/2 nguồn hỏng." in markdown.stdout
    assert markdown.stdout.index("gialaitv") < markdown.stdout.index("baogialai")


def test_the_canary_obeys_robots_txt(mirror_copy):
    """The canary is a polite fetcher: with the feed's newest item disallowed by robots.txt,
    it is never fetched, and the outlet is reported as failed with the reason."""
    root, base = mirror_copy
    reports = {r["outlet_id"]: r for r in json.loads(canary(base, "--outlet", "baogialai", "--json").stdout)}
    newest = urlsplit(reports["baogialai"]["url"]).path
    robots = root / "baogialai.com.vn" / "robots.txt"
    robots.write_text(robots.read_text(encoding="utf-8").replace("Disallow:", f"Disallow: {newest}\nDisallow:", 1),
                      encoding="utf-8")
    result = canary(base, "--outlet", "baogialai", "--json")
    (report,) = json.loads(result.stdout)
    assert report["status"] == "failed" and any("robots" in p for p in report["problems"]), report
