"""The article page and the archived copy, through Datasette's in-process client: evidence
marked in the text, the decision history, verdicts (names and notes for staff only), the
verdict form, and the page as fetched, byte for byte with its SHA-256.

The database is built through pipeline.store.Store and the WARC archive through
pipeline.store.warc, as a crawl builds them."""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from pathlib import Path

import pytest
from markupsafe import Markup

from conftest import signed_in
from pressmon.datasette.plugins.pressmon_article import highlighted_fields, reason_label
from pressmon.pipeline.publish import make_datasette
from pressmon.pipeline.store import Store
from pressmon.pipeline.store.warc import WarcArchive

OUTLET = {"id": "baogialai", "name": "Báo và Phát thanh, Truyền hình Gia Lai", "kind": "newspaper",
          "family": "zce", "domain": "baogialai.com.vn", "home_url": "https://baogialai.com.vn/", "language": "vi"}
TITLE = "Gia Lai triển khai Quyết định 1894/QĐ-TTg về công nghiệp môi trường"
LEAD = "(GLO)- Tỉnh ban hành kế hoạch <thực hiện> chương trình."
BODY = ("Sáng 4-9, xã Đắk Đoa tổ chức hội nghị.\n\n"
        "  Doanh nghiệp đầu tư dây chuyền tái chế nhựa phế liệu theo Quyết định 1894/QĐ-TTg.\n"
        "Hội nghị cũng quán triệt Chỉ thị 20-CT/TW.")
SENTENCE = "Doanh nghiệp đầu tư dây chuyền tái chế nhựa phế liệu theo Quyết định 1894/QĐ-TTg."
# What the outlet served: bytes not in UTF-8 NFC, a script that must not run on our site.
PAGE = ("<!doctype html><html><head><meta charset='windows-1258'><script>fetch('/-/review')</script>"
        "</head><body><h1>Gia Lai</h1></body></html>").encode("cp1258", errors="replace") + b"\x00\xff"
HEADERS = [("Content-Type", "text/html; charset=windows-1258"), ("Server", "nginx")]


def _span(field: str, text: str, within: str) -> dict:
    start = within.index(text)
    return {"field": field, "start": start, "end": start + len(text), "text": text}


def _reference(field: str, text: str, within: str, document: str | None, topic: str | None) -> dict:
    return {**_span(field, text, within), "kind": text.split()[0], "number": None, "year": None, "issuer": None,
            "signed_on": None, "document": document, "topic": topic}


@pytest.fixture(scope="module")
def db_path(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("article")
    path = folder / "pressmon.db"
    archive = WarcArchive(folder / "warc")
    warc_file, offset, digest = archive.archive("https://baogialai.com.vn/a-post1.html", 200, HEADERS, PAGE)
    references = [_reference("title", "Quyết định 1894/QĐ-TTg", TITLE, "1894/QĐ-TTg", "qd1894"),
                  _reference("body", "Quyết định 1894/QĐ-TTg", BODY, "1894/QĐ-TTg", "qd1894"),
                  _reference("body", "Chỉ thị 20-CT/TW", BODY, None, None)]
    old = {"qd1894": {"tier": "probable", "probability": 0.61, "evidence": [dict(_span("body", SENTENCE, BODY),
                                                                                 weight=1.2)]},
           "ct20": {"tier": "none", "probability": 0.02, "evidence": [],
                    "reason": "digest: 20/CT-TTg named in passing in the body; 4 other documents named"}}
    new = {"qd1894": {"tier": "cited", "probability": 0.93, "evidence": [
               {**_span("title", "Quyết định 1894/QĐ-TTg", TITLE), "document": "1894/QĐ-TTg"}]},
           "ct20": {"tier": "probable", "probability": 0.2, "evidence": [
               {"text": "tái chế nhựa phế liệu", "sign": "Tái chế nhựa (thử nghiệm)", "document": "20/CT-TTg"}]}}
    item = {"type": "article", "outlet_id": "baogialai", "url": "https://baogialai.com.vn/a-post1.html",
            "fetched_url": "https://baogialai.com.vn/a-post1.html", "title": TITLE, "lead": LEAD, "body": BODY,
            "author": None, "section": "Thời sự", "tags": [], "published_at": "2025-09-05T08:15:00+07:00",
            "published_raw": "05/09/2025", "modified_at": None, "media_kind": "text", "language": "vi",
            "methods": {}, "http_status": 200, "warc_file": str(Path(warc_file).relative_to(folder)),
            "warc_offset": offset, "payload_sha256": digest}
    with Store(path) as store:
        store.sync_outlets([OUTLET])
        store.start_run("r1", "baogialai")
        store.save_article("r1", item, references, classification={"model_version": "old-model", "topics": old})
        store.save_topics(1, "new-model", new)
        store.add_verdict(1, "ct20", "confirmed", "lan.pham", "ghi chú nội bộ")
        store.add_verdict(1, "ct20", "rejected", "minh.tran", "chỉ nhắc qua")
        # Crawled before WARC archiving; and one whose record no longer matches its hash.
        store.save_article("r1", {**item, "url": "https://baogialai.com.vn/b-post2.html",
                                  "fetched_url": "https://baogialai.com.vn/b-post2.html", "title": "Không lưu",
                                  "warc_file": None, "warc_offset": None, "payload_sha256": None}, [])
        store.save_article("r1", {**item, "url": "https://baogialai.com.vn/c-post3.html",
                                  "fetched_url": "https://baogialai.com.vn/c-post3.html", "title": "Hỏng",
                                  "payload_sha256": "0" * 64}, [])
        store.finish_run("r1", "baogialai")
    with sqlite3.connect(path) as conn:  # the classification times are the same second
        conn.execute("update article_topics set classified_at = '2025-09-01T00:00:00+07:00' "
                     "where model_version = 'old-model'")
        conn.execute("update verdicts set at = '2025-09-07T10:00:00+07:00' where reviewer = 'lan.pham'")
        conn.execute("update verdicts set at = '2025-09-08T10:00:00+07:00' where reviewer = 'minh.tran'")
    return path


@pytest.fixture
def ds(db_path):
    return make_datasette(db_path, public=True)


def _marks(html: str) -> list[tuple[str, str]]:
    return [(kind, re.sub("<[^>]+>", "", text)) for kind, text in
            re.findall(r'<mark class="([^"]+)" title="[^"]*">(.*?)</mark>', html)]


# --- the marks --------------------------------------------------------------------------------

def test_highlighted_fields_marks_references_signs_and_weighed_sentences():
    article = {"title": TITLE, "lead": LEAD, "body": BODY}
    references = [_reference("body", "Quyết định 1894/QĐ-TTg", BODY, "1894/QĐ-TTg", "qd1894"),
                  _reference("body", "Chỉ thị 20-CT/TW", BODY, None, None)]
    decisions = [{"topic": "qd1894", "tier": "probable", "evidence": json.dumps([_span("body", SENTENCE, BODY)])},
                 # no offsets: found by its text
                 {"topic": "ct20", "tier": "probable", "evidence": [{"text": "Đắk Đoa", "sign": "Một dấu hiệu"}]}]
    fields = highlighted_fields(article, references, decisions)
    assert set(fields) == {"title", "lead", "body"}
    assert all(isinstance(p, Markup) for p in fields["title"] + fields["lead"] + fields["body"])
    assert len(fields["body"]) == 3  # blank line dropped, paragraph's indentation stripped
    assert _marks(fields["title"][0]) == []
    assert "&lt;thực hiện&gt;" in fields["lead"][0]  # the text is escaped
    assert _marks(fields["body"][0]) == [("sign", "Đắk Đoa")]
    # The reference inside the weighed sentence: the sentence is cut in two marks, never nested.
    assert _marks(fields["body"][1]) == [
        ("weighed", "Doanh nghiệp đầu tư dây chuyền tái chế nhựa phế liệu theo "),
        ("ref weighed", "Quyết định 1894/QĐ-TTg"), ("weighed", ".")]
    assert _marks(fields["body"][2]) == [("ref-other", "Chỉ thị 20-CT/TW")]
    assert re.sub("<[^>]+>", "", fields["body"][1]) == SENTENCE
    assert 'title="Trích dẫn văn bản được theo dõi: ' in fields["body"][1]


def test_evidence_whose_offsets_no_longer_hold_is_found_by_its_text_or_left_out():
    article = {"title": "Tiêu đề", "lead": None, "body": "Câu một có đủ chữ.\nCâu hai cũng vậy."}
    decisions = [{"topic": "qd1894", "tier": "probable", "evidence": [
        {"field": "body", "start": 0, "end": 4, "text": "Câu hai cũng vậy."},
        {"field": "body", "start": 0, "end": 3, "text": "không có trong bài"}]}]
    fields = highlighted_fields(article, [], decisions)
    assert fields["lead"] == []
    assert _marks(fields["body"][0]) == []
    assert _marks(fields["body"][1]) == [("weighed", "Câu hai cũng vậy.")]


def test_reasons_are_said_in_vietnamese():
    assert reason_label("digest: 1894/QĐ-TTg named in passing in the body; 4 other documents named, "
                        "probability 0.08 below 0.50") == (
        "Điểm tin: 1894/QĐ-TTg chỉ được nhắc qua trong nội dung; bài nêu 4 văn bản khác, "
        "xác suất 0,08 dưới ngưỡng 0,50")
    assert reason_label("too little text (12 letters): cited by reference only") == (
        "Văn bản quá ngắn (12 chữ cái): chỉ xếp loại theo trích dẫn")
    assert reason_label("names Quyết định 1600/QĐ-TTg, another Quyết định of the same issuer, and never "
                        "1894/QĐ-TTg: about that one (probability 0.71)").startswith("Bài nêu Quyết định 1600/QĐ-TTg")
    assert reason_label("some reason added later") == "Mô hình không xếp bài vào văn bản này"
    assert reason_label(None) is None


# --- the page --------------------------------------------------------------------------------

async def test_the_page_marks_the_evidence_in_the_text(ds):
    html = (await ds.client.get("/pressmon/articles/1")).text
    article = html[html.index('<article class="pressmon-article">'):html.index("</article>")]
    marks = _marks(article[:article.index('id="chu-de"')])
    # Title: the reference; body: the old model's weighed sentence is history, not in force.
    assert ("ref", "Quyết định 1894/QĐ-TTg") in marks
    assert ("weighed", "Doanh nghiệp đầu tư dây chuyền tái chế nhựa phế liệu theo ") not in marks
    assert ("sign", "tái chế nhựa phế liệu") in marks  # the current ct20 decision's sign
    assert ("ref-other", "Chỉ thị 20-CT/TW") in marks
    assert "Đánh dấu trong bài:" in article
    assert "rows-and-columns" not in article  # Datasette's phone CSS would relabel those cells


async def test_links_to_the_original_and_the_archive_with_its_sha256(ds, db_path):
    html = (await ds.client.get("/pressmon/articles/1")).text
    digest = hashlib.sha256(PAGE).hexdigest()
    assert 'href="https://baogialai.com.vn/a-post1.html"' in html
    assert 'href="/-/archive/1"' in html and 'href="/-/archive/1?download=1"' in html
    assert f'<code class="hash archive-sha256">{digest}</code>' in html
    html = (await ds.client.get("/pressmon/articles/2")).text
    assert "/-/archive/2" not in html and "bài thu thập trước khi có lưu trữ" in html


async def test_decision_history_newest_first_in_vietnamese(ds):
    html = (await ds.client.get("/pressmon/articles/1")).text
    history = html[html.index('<table class="pressmon-table history">'):]
    history = history[:history.index("</table>")]
    assert history.index("new-model") < history.index("old-model")
    assert history.count("<tr>") == 5  # header + 2 topics × 2 model versions
    assert "Điểm tin: 20/CT-TTg chỉ được nhắc qua trong nội dung; bài nêu 4 văn bản khác" in history
    assert "named in passing" not in html and "digest" not in html
    assert "0,61" in history and "0,93" in history


async def test_anonymous_visitors_see_verdicts_without_names_or_notes(ds):
    html = (await ds.client.get("/pressmon/articles/1")).text
    verdicts = html[html.index('<table class="pressmon-table verdicts">'):]
    verdicts = verdicts[:verdicts.index("</table>")]
    assert verdicts.index("08/09/2025") < verdicts.index("07/09/2025")
    assert "Đã bác bỏ <span class=\"meta\">(đang có hiệu lực)</span>" in verdicts
    for secret in ("lan.pham", "minh.tran", "ghi chú nội bộ", "chỉ nhắc qua", "Cán bộ"):
        assert secret not in html
    assert "/-/review/verdict" not in html  # no form either


async def test_staff_see_names_notes_and_a_verdict_form(ds, db_path):
    html = (await ds.client.get("/pressmon/articles/1", cookies=signed_in(ds, db_path))).text
    for shown in ("lan.pham", "minh.tran", "ghi chú nội bộ", "chỉ nhắc qua"):
        assert shown in html
    forms = re.findall(r'<form class="pressmon-verdict" method="post" action="/-/review/verdict">(.*?)</form>',
                       html, re.S)
    assert len(forms) == 2  # one per document
    for form, topic in zip(forms, ("ct20", "qd1894")):
        assert '<input type="hidden" name="article_id" value="1">' in form
        assert f'<input type="hidden" name="topic" value="{topic}">' in form
        assert re.search(r'<input type="hidden" name="csrftoken" value="[^"]+">', form)
        assert '<input type="hidden" name="next" value="/pressmon/articles/1">' in form
        assert '<textarea name="note"' in form
        assert '<button type="submit" name="action" value="confirmed">Xác nhận</button>' in form
        assert '<button type="submit" name="action" value="rejected">Bác bỏ</button>' in form


# --- the archived copy ------------------------------------------------------------------------

async def test_the_archive_serves_the_page_byte_for_byte_sandboxed(ds):
    response = await ds.client.get("/-/archive/1")
    assert response.status_code == 200
    assert response.content == PAGE
    digest = hashlib.sha256(PAGE).hexdigest()
    assert response.headers["x-pressmon-sha256"] == digest
    assert response.headers["content-type"] == "text/html; charset=windows-1258"
    assert response.headers["content-security-policy"].startswith("sandbox")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-disposition"].startswith("inline;")
    download = await ds.client.get("/-/archive/1?download=1")
    assert download.content == PAGE
    assert download.headers["content-disposition"] == f'attachment; filename="pressmon-1-{digest[:12]}.html"'


async def test_the_archive_refuses_what_it_cannot_vouch_for(ds):
    assert (await ds.client.get("/-/archive/2")).status_code == 404  # never archived
    assert (await ds.client.get("/-/archive/999")).status_code == 404
    damaged = await ds.client.get("/-/archive/3")
    assert damaged.status_code == 500
    assert PAGE not in damaged.content and "không khớp mã SHA-256" in damaged.text


async def test_the_archive_asks_for_a_login_when_the_site_does(db_path):
    private = make_datasette(db_path)
    response = await private.client.get("/-/archive/1")
    assert response.status_code in (302, 303) and PAGE not in response.content
    assert (await private.client.get("/-/archive/1", cookies=signed_in(private, db_path))).content == PAGE


def test_every_reason_the_classifier_gives_has_its_vietnamese_sentence(topic_model):
    """reason_label reads the classifier's English reasons: each kind the classifier gives
    today must have its own sentence, not the general one for a reason it does not know."""
    items = {
        "empty": {"title": "", "lead": "", "body": ""},
        "no letters": {"title": "2025", "lead": "", "body": "1894 20 2025 — 12/7"},
        "short, cited": {"title": "CT 20", "lead": "", "body": "Chỉ thị 20/CT-TTg"},
        "not Vietnamese": {"title": "Pollution control", "lead": "",
                           "body": "The province announced new measures against pollution. " * 8},
        "digest": {"title": "Điểm tin văn bản mới tuần qua", "lead": "", "body": (
            "Tuần qua có các văn bản: Quyết định 1894/QĐ-TTg; Nghị định 45/2022/NĐ-CP; Thông tư 02/2022/TT-BTNMT; "
            "Nghị định 08/2022/NĐ-CP; Quyết định 450/QĐ-TTg; Quyết định 1658/QĐ-TTg.\n"
            "Giá lúa tăng nhẹ, nông dân phấn khởi thu hoạch vụ mùa trên cánh đồng lớn của xã.")},
        "rival": {"title": "Triển khai Chỉ thị 02/CT-TTg về bảo vệ lưu vực sông", "lead": "", "body": (
            "Tỉnh triển khai Chỉ thị 02/CT-TTg của Thủ tướng Chính phủ về ngăn chặn ô nhiễm môi trường "
            "lưu vực sông, kiểm tra cơ sở xả thải, quan trắc tự động nước thải công nghiệp, xử lý nghiêm vi phạm.")},
    }
    reasons = {name: {d["reason"] for d in topic_model.classify(item)["topics"].values() if d.get("reason")}
               for name, item in items.items()}
    assert all(reasons.values()), reasons
    for name, given in reasons.items():
        for reason in given:
            assert reason_label(reason) != "Mô hình không xếp bài vào văn bản này", (name, reason)
