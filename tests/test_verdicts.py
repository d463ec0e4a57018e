"""Topic decisions and staff verdicts in the store, and the coverage they add up to in
Datasette: a verdict always overrides the model; counted = cited or confirmed, never rejected."""

from __future__ import annotations

import pytest

from pressmon.pipeline.publish import make_datasette
from pressmon.pipeline.store import Store

from conftest import signed_in

OUTLETS = [
    {"id": "baogialai", "name": "Báo Gia Lai", "kind": "newspaper", "family": "zce",
     "domain": "baogialai.com.vn", "home_url": "https://baogialai.com.vn/", "language": "vi"},
    {"id": "gialai-gov", "name": "Cổng TTĐT tỉnh", "kind": "government_portal", "family": "govportal",
     "domain": "gialai.gov.vn", "home_url": "https://gialai.gov.vn/", "language": "vi"},
]


def article(n: int, outlet_id: str, month: str) -> dict:
    return {"url": f"https://example.vn/{outlet_id}/{n}", "outlet_id": outlet_id, "title": f"Bài mẫu số {n}",
            "lead": "Sa-pô mẫu.", "body": f"Nội dung mẫu của bài số {n}.", "published_at": f"{month}-10T08:00:00+07:00",
            "media_kind": "text", "language": "vi"}


def decision(tier: str, probability: float) -> dict:
    return {"tier": tier, "probability": probability, "evidence": [{"text": "Quyết định số 1894/QĐ-TTg"}]}


@pytest.fixture
def db_path(tmp_path):
    path = tmp_path / "pressmon.db"
    with Store(path) as store:
        store.sync_outlets(OUTLETS)
        plan = [  # (outlet, month, qd1894 tier, ct20 tier)
            ("baogialai", "2026-03", "cited", "none"),
            ("baogialai", "2026-03", "probable", "none"),   # confirmed below → counted
            ("baogialai", "2026-04", "cited", "cited"),     # qd1894 rejected below → only ct20
            ("gialai-gov", "2026-03", "none", "probable"),  # never confirmed → not counted
            ("gialai-gov", "2026-04", "cited", "none"),
        ]
        for n, (outlet, month, qd, ct) in enumerate(plan, start=1):
            store.save_article("run-1", article(n, outlet, month), classification={
                "model_version": "m1", "topics": {"qd1894": decision(qd, 0.8), "ct20": decision(ct, 0.7)}})
        store.add_verdict(2, "qd1894", "confirmed", "chi.nguyen", "đúng nhiệm vụ của chương trình")
        store.add_verdict(3, "qd1894", "confirmed", "chi.nguyen")
        store.add_verdict(3, "qd1894", "rejected", "an.tran", "chỉ nhắc qua")  # the newest verdict wins
    return path


def test_reclassifying_keeps_earlier_model_decisions(db_path):
    with Store(db_path) as store:
        store.save_topics(1, "m2", {"qd1894": decision("none", 0.1), "ct20": decision("none", 0.1)})
        store.save_topics(1, "m2", {"qd1894": decision("probable", 0.95), "ct20": decision("none", 0.1)})
        rows = store.db.execute("select model_version, tier from article_topics where article_id = 1 "
                                "and topic = 'qd1894' order by model_version").fetchall()
        current = store.db.execute("select tier, model_version from topic_decisions where article_id = 1 "
                                   "and topic = 'qd1894'").fetchone()
    assert rows == [("m1", "cited"), ("m2", "probable")]
    assert current == ("probable", "m2")


def test_verdicts_are_checked(db_path):
    with Store(db_path) as store:
        with pytest.raises(ValueError):
            store.add_verdict(1, "qd1894", "maybe", "x")
        with pytest.raises(LookupError):
            store.add_verdict(999, "qd1894", "confirmed", "x")


async def test_coverage_by_document_counts_cited_plus_confirmed_minus_rejected(db_path):
    ds = make_datasette(db_path, public=True)
    response = await ds.client.get("/pressmon/coverage_by_document.json?_shape=array")
    assert response.status_code == 200
    got = {(r["topic"], r["outlet_id"], r["published_month"]): r["items"] for r in response.json()}
    assert got == {
        ("qd1894", "baogialai", "2026-03"): 2,   # article 1 cited + article 2 confirmed
        ("ct20", "baogialai", "2026-04"): 1,     # article 3: ct20 cited; its qd1894 was rejected
        ("qd1894", "gialai-gov", "2026-04"): 1,  # article 5 cited
    }


async def test_topic_facets_in_datasette(db_path):
    ds = make_datasette(db_path)
    response = await ds.client.get("/pressmon/topic_decisions.json?_facet=tier&_facet=topic&_size=0",
                                   cookies=signed_in(ds, db_path))
    facets = response.json()["facet_results"]
    assert {r["value"]: r["count"] for r in facets["tier"]["results"]} == {"cited": 4, "probable": 2, "none": 4}
    assert {r["value"]: r["count"] for r in facets["topic"]["results"]} == {"qd1894": 5, "ct20": 5}


async def test_article_page_shows_tier_evidence_and_verdict(db_path):
    ds = make_datasette(db_path)
    html = (await ds.client.get("/pressmon/articles/3", cookies=signed_in(ds, db_path))).text
    assert "Chủ đề" in html and "<td>Trích dẫn" in html
    assert "“Quyết định số 1894/QĐ-TTg”" in html
    assert "Đã bác bỏ" in html and "an.tran" in html


def test_review_asks_about_probable_items_and_records_answers(db_path):
    from pressmon.pipeline.decisions.review import pending_reviews, review_interactively

    with Store(db_path) as store:
        pending = pending_reviews(store)
        assert [(p.article_id, p.topic) for p in pending] == [(4, "ct20")]  # article 2's probable has a verdict
        answers = iter(["x", "đúng: chiến dịch kiểm tra"])
        shown = []
        counts = review_interactively(store, pending, "lan.pham", ask=lambda _: next(answers), show=shown.append)
        assert counts == {"confirmed": 1, "rejected": 0, "skipped": 0}
        assert "Chỉ thị số 20/CT-TTg" in shown[0] and "mức Có khả năng" in shown[0]
        assert store.db.execute("select counted, verdict, reviewer from topic_decisions where article_id = 4 "
                                "and topic = 'ct20'").fetchone() == (1, "confirmed", "lan.pham")
        assert pending_reviews(store) == []


def test_review_csv_import_is_all_or_nothing(db_path, tmp_path):
    from click.testing import CliRunner

    from pressmon.pipeline.cli import cli

    good = tmp_path / "good.csv"
    good.write_text("article_id,topic,verdict,note\n4,ct20,confirmed,ok\n1,qd1894,rejected,chỉ nhắc qua\n",
                    encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text("article_id,topic,verdict\n4,ct20,confirmed\n5,qd1894,perhaps\n", encoding="utf-8")
    runner = CliRunner()
    failed = runner.invoke(cli, ["review", "--db", str(db_path), "--csv", str(bad), "--reviewer", "lan.pham"])
    assert failed.exit_code != 0 and "line 3" in failed.output
    with Store(db_path) as store:
        assert store.db.execute("select count(*) from verdicts").fetchone()[0] == 3  # the fixture's own
    done = runner.invoke(cli, ["review", "--db", str(db_path), "--csv", str(good), "--reviewer", "lan.pham"])
    assert done.exit_code == 0, done.output
    with Store(db_path) as store:
        counted = dict(store.db.execute("select article_id || '/' || topic, counted from topic_decisions").fetchall())
    assert counted["4/ct20"] == 1 and counted["1/qd1894"] == 0


async def test_coverage_dashboard_charts_count_what_the_reports_count(db_path):
    ds = make_datasette(db_path, public=True)
    page = await ds.client.get("/-/dashboards/do-phu-tuyen-truyen")
    assert page.status_code == 200
    assert "Số tin, bài được tính theo tháng và văn bản" in page.text
    from pressmon.pipeline.publish import load_metadata

    query = load_metadata(db_path)["plugins"]["datasette-dashboards"]["do-phu-tuyen-truyen"]["charts"]["theo-thang"]["query"]
    # The chart's SQL, run as an admin may (anonymous visitors and reviewers run no SQL of their own).
    rows = (await ds.client.get("/pressmon.json", params={"sql": query, "_shape": "array"},
                                cookies=signed_in(ds, db_path, "admin"))).json()
    assert {(r["thang"], r["van_ban"]): r["so_bai"] for r in rows} == {
        ("2026-03", "Quyết định số 1894/QĐ-TTg"): 2,  # the labels are the registry's
        ("2026-04", "Chỉ thị số 20/CT-TTg"): 1,
        ("2026-04", "Quyết định số 1894/QĐ-TTg"): 1,
    }


def test_the_reviewer_sees_which_sign_made_an_item_probable():
    from pressmon.pipeline.decisions.review import Pending, describe

    item = Pending(article_id=7, topic="ct20", tier="probable", probability=0.31,
                   evidence=[{"field": "body", "start": 0, "end": 60, "sign": "Không để mô tô, xe gắn máy chạy xăng "
                              "lưu thông trong Vành đai 1 (Hà Nội) từ 1/7/2026",
                              "text": "mô tô, xe gắn máy chạy xăng không được lưu thông trong khu vực Vành đai 1"}],
                   title="Phường chuẩn bị dừng xe máy xăng", outlet_id="baogialai", published_at="2026-03-02",
                   url="https://baogialai.com.vn/x-post1.html")
    shown = describe(item, 1, 1)
    assert ("    • mô tô, xe gắn máy chạy xăng không được lưu thông trong khu vực Vành đai 1 "
            "(dấu hiệu của văn bản: Không để mô tô") in shown
    assert "Chỉ thị số 20/CT-TTg — mức Có khả năng, xác suất 0.31" in shown
