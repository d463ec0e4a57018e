"""Review in the browser (/-/review and /-/review/verdict) through Datasette's in-process
client: the queue and its filters, confirm / reject with a note / skip, a verdict changed
later (the later one counts, the history stays), and what counts changing at once in the
coverage query and the report."""

from __future__ import annotations

import re

import pytest

from pressmon.pipeline.publish import make_datasette
from pressmon.pipeline.reports.counting import counted_items
from pressmon.pipeline.store import Store

from conftest import query, signed_in

OUTLETS = [
    {"id": "baogialai", "name": "Báo Gia Lai", "kind": "newspaper", "family": "zce",
     "domain": "baogialai.com.vn", "home_url": "https://baogialai.com.vn/", "language": "vi"},
    {"id": "gialai-gov", "name": "Cổng TTĐT tỉnh", "kind": "government_portal", "family": "govportal",
     "domain": "gialai.gov.vn", "home_url": "https://gialai.gov.vn/", "language": "vi"},
]
# (outlet, published day, qd1894 tier, ct20 tier)
PLAN = [
    ("baogialai", "2026-03-02", "probable", "none"),
    ("baogialai", "2026-03-20", "probable", "probable"),
    ("gialai-gov", "2026-04-05", "probable", "none"),
    ("gialai-gov", "2026-04-09", "cited", "none"),
    ("baogialai", "2026-05-01", "none", "cited"),
]


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "pressmon.db"
    with Store(path) as store:
        store.sync_outlets(OUTLETS)
        for n, (outlet, day, qd, ct) in enumerate(PLAN, start=1):
            item = {"url": f"https://example.vn/{outlet}/{n}", "outlet_id": outlet, "title": f"Tin mẫu số {n}",
                    "lead": "Sa-pô mẫu.", "body": f"Đoạn một của tin {n}.\nĐoạn hai nói về phân loại rác.",
                    "published_at": f"{day}T08:00:00+07:00", "media_kind": "text", "language": "vi"}
            store.save_article("run-1", item, classification={"model_version": "m1", "topics": {
                "qd1894": {"tier": qd, "probability": 0.7, "evidence": [{"text": "phân loại rác"}]},
                "ct20": {"tier": ct, "probability": 0.6, "evidence": [{"text": "phân loại rác"}]}}})
    return path


@pytest.fixture
async def site(db):
    """The site and a logged-in reviewer's cookies, the CSRF cookie included (as a browser
    holds it after its first page)."""
    ds = make_datasette(db)
    cookies = signed_in(ds, db)
    cookies["ds_csrftoken"] = (await ds.client.get("/-/review", cookies=cookies)).cookies["ds_csrftoken"]
    return ds, cookies


def shown(html: str) -> tuple[int, str] | None:
    match = re.search(r'id="review-item" data-article-id="(\d+)" data-topic="(\w+)"', html)
    return (int(match.group(1)), match.group(2)) if match else None


def remaining(html: str) -> int:
    return int(re.search(r'id="remaining">(\d+)<', html).group(1))


async def answer(ds, cookies, page_html: str, action: str, note: str = "") -> str:
    """Press a button of the page's form (its hidden fields as they are), follow the redirect
    and return the next page."""
    form = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)"', page_html))
    response = await ds.client.post("/-/review", data={**form, "action": action, "note": note}, cookies=cookies)
    assert response.status_code == 303, response.text[:300]
    nxt = await ds.client.get(response.headers["location"], cookies={**cookies, **response.cookies})
    assert nxt.status_code == 200
    return nxt.text


async def test_queue_newest_first_with_count_and_filters(site):
    ds, cookies = site
    page = (await ds.client.get("/-/review", cookies=cookies)).text
    assert remaining(page) == 4
    assert shown(page) == (3, "qd1894")  # 2026-04-05, the newest probable
    assert "Tin mẫu số 3" in page and "Cổng TTĐT tỉnh" in page
    for label in ("Xác nhận", "Bác bỏ", "Bỏ qua"):
        assert label in page
    # The sentence the model weighed is marked in the text.
    assert re.search(r'<mark class="weighed"[^>]*>[^<]*phân loại rác', page)
    only_ct20 = (await ds.client.get("/-/review?document=ct20", cookies=cookies)).text
    assert remaining(only_ct20) == 1 and shown(only_ct20) == (2, "ct20")
    one_outlet = (await ds.client.get("/-/review?outlet=baogialai&document=qd1894", cookies=cookies)).text
    assert remaining(one_outlet) == 2 and shown(one_outlet) == (2, "qd1894")
    cited = (await ds.client.get("/-/review?tier=cited", cookies=cookies)).text
    assert remaining(cited) == 2 and shown(cited) in {(4, "qd1894"), (5, "ct20")}


async def test_confirm_reject_with_note_and_skip(site, db):
    ds, cookies = site
    coverage_before = await coverage(ds, cookies)
    page = (await ds.client.get("/-/review", cookies=cookies)).text
    page = await answer(ds, cookies, page, "confirmed")                  # item 3 / qd1894
    assert remaining(page) == 3 and "Đã xác nhận: Tin mẫu số 3" in page
    page = await answer(ds, cookies, page, "rejected", "chỉ nhắc qua")    # item 2 / ct20 (newest of the rest)
    assert remaining(page) == 2
    skipped_item = shown(page)
    page = await answer(ds, cookies, page, "skip")
    assert remaining(page) == 1 and shown(page) != skipped_item
    assert query(db, "select article_id, topic, verdict, reviewer, note from verdicts order by id") == [
        (3, "qd1894", "confirmed", "lan.pham", None),
        (2, "ct20", "rejected", "lan.pham", "chỉ nhắc qua"),
    ]
    # Counted at once: the coverage canned query and the report.
    after = await coverage(ds, cookies)
    assert after[("qd1894", "gialai-gov", "2026-04")] == coverage_before[("qd1894", "gialai-gov", "2026-04")] + 1
    counted = {(r["article_id"], r["topic"]) for r in counted_items(db, year=2026)}
    assert (3, "qd1894") in counted and (2, "ct20") not in counted and skipped_item not in counted


async def test_the_queue_ends_with_a_clear_page(site):
    ds, cookies = site
    page = (await ds.client.get("/-/review?document=ct20", cookies=cookies)).text
    page = await answer(ds, cookies, page, "confirmed")
    assert shown(page) is None and 'id="queue-empty"' in page and remaining(page) == 0


async def test_a_verdict_can_be_changed_and_the_later_one_counts(site, db):
    ds, cookies = site
    token = re.search(r'name="csrftoken" value="([^"]+)"', (await ds.client.get("/-/review", cookies=cookies)).text)
    form = {"csrftoken": token.group(1), "article_id": "1", "topic": "qd1894", "next": "/pressmon/articles/1"}
    first = await ds.client.post("/-/review/verdict", data={**form, "action": "confirmed"}, cookies=cookies)
    assert first.status_code == 303 and first.headers["location"] == "/pressmon/articles/1"
    await ds.client.post("/-/review/verdict", data={**form, "action": "rejected", "note": "xem lại: chỉ nhắc qua"},
                         cookies=cookies)
    assert query(db, "select verdict from verdicts where article_id = 1 order by id") == [("confirmed",), ("rejected",)]
    assert query(db, "select verdict, counted from topic_decisions where article_id = 1 and topic = 'qd1894'") == [
        ("rejected", 0)]


async def test_bad_forms_write_nothing_and_say_why(site, db):
    ds, cookies = site
    token = re.search(r'name="csrftoken" value="([^"]+)"',
                      (await ds.client.get("/-/review", cookies=cookies)).text).group(1)
    for bad in ({"article_id": "999", "topic": "qd1894", "action": "confirmed"},
                {"article_id": "1", "topic": "khac", "action": "confirmed"},
                {"article_id": "x", "topic": "qd1894", "action": "confirmed"},
                {"article_id": "1", "topic": "qd1894", "action": "maybe"}):
        response = await ds.client.post("/-/review", data={**bad, "csrftoken": token}, cookies=cookies)
        assert response.status_code == 303
    assert query(db, "select count(*) from verdicts") == [(0,)]
    # A `next` that leaves the site goes home instead.
    response = await ds.client.post("/-/review/verdict", data={"csrftoken": token, "article_id": "1", "topic": "qd1894",
                                                                "action": "confirmed", "next": "//evil.example/x"},
                                    cookies=cookies)
    assert response.headers["location"] == "/"


async def coverage(ds, cookies) -> dict:
    response = await ds.client.get("/pressmon/coverage_by_document.json?_shape=array", cookies=cookies)
    assert response.status_code == 200
    counts = {(r["topic"], r["outlet_id"], r["published_month"]): r["items"] for r in response.json()}
    return {key: counts.get(key, 0) for key in
            [(t, o, m) for t in ("qd1894", "ct20") for o in ("baogialai", "gialai-gov")
             for m in ("2026-03", "2026-04", "2026-05")]}
