"""The classifier's commands: `pressmon nlp classify` (any text, JSON lines), `pressmon
classify` (stored items, by model version), and what `pressmon nlp train --db` learns from."""

from __future__ import annotations

import json

import numpy as np
import pytest
from click.testing import CliRunner

from pressmon.nlp.topics import SHIPPED_MODEL, TopicModel
from pressmon.pipeline.decisions.classify import crawled_training_items
from pressmon.pipeline.cli import cli
from pressmon.pipeline.store import Store

OUTLET = {"id": "baogialai", "name": "Báo Gia Lai", "kind": "newspaper", "family": "zce",
          "domain": "baogialai.com.vn", "home_url": "https://baogialai.com.vn/", "language": "vi"}
CITING = {"title": "Gia Lai triển khai Chỉ thị số 20/CT-TTg về ngăn chặn ô nhiễm môi trường",
          "lead": "UBND tỉnh yêu cầu các sở, ngành kiểm tra cơ sở xả thải.",
          "body": "Thực hiện Chỉ thị số 20/CT-TTg ngày 12/7/2025 của Thủ tướng Chính phủ, tỉnh lập đoàn kiểm tra "
                  "liên ngành, công bố danh sách cơ sở phải lắp quan trắc tự động, liên tục.",
          "published_at": "2025-10-02T08:00:00+07:00"}
UNRELATED = {"title": "Giá cà phê tại Gia Lai tăng nhẹ trong tuần qua", "lead": "Nông dân phấn khởi.",
             "body": "Giá cà phê nhân xô tại các huyện phía tây tỉnh tăng khoảng 2.000 đồng mỗi kg so với tuần trước.",
             "published_at": "2025-10-02T08:00:00+07:00"}


def test_nlp_classify_answers_every_line_in_order(model_path):
    lines = [json.dumps({"id": "a", **CITING}, ensure_ascii=False), "{not json", json.dumps([1, 2]),
             json.dumps({"id": "b", **UNRELATED}, ensure_ascii=False),
             json.dumps({"id": "c", "title": "", "body": ""}),
             json.dumps({"id": "d", "title": "Weather today", "body": "Sunny with light winds in the afternoon."})]
    lines.insert(3, "   ")  # a blank line is skipped, not an error; line numbers still count it
    result = CliRunner().invoke(cli, ["nlp", "classify", "--model", str(model_path)], input="\n".join(lines) + "\n\n")
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in result.output.splitlines()]
    assert [o.get("id") for o in out] == ["a", None, None, "b", "c", "d"]
    assert out[0]["topics"]["ct20"]["tier"] == "cited"
    assert out[0]["topics"]["ct20"]["evidence"][0]["text"].startswith("Chỉ thị số 20/CT-TTg")
    assert any(r["document"] == "20/CT-TTg" for r in out[0]["references"])
    assert "error" in out[1] and out[1]["line"] == 2
    assert "error" in out[2] and out[2]["line"] == 3
    assert {t["tier"] for t in out[3]["topics"].values()} == {"none"}
    for empty_or_english in (out[4], out[5]):
        assert all(t["tier"] == "none" and t.get("reason") for t in empty_or_english["topics"].values())


def test_the_command_and_the_pipeline_make_the_same_decision(model_path):
    model = TopicModel.load(model_path)
    result = CliRunner().invoke(cli, ["nlp", "classify", "--model", str(model_path)],
                                input=json.dumps({"id": 1, **CITING}, ensure_ascii=False) + "\n")
    assert json.loads(result.output)["topics"] == json.loads(json.dumps(model.classify(CITING)["topics"]))


def test_training_from_the_repository_gives_the_shipped_model(topic_model):
    """`pressmon nlp train` with no extra data (the conftest model) is the model in the package,
    and the card beside it describes that model."""
    shipped = TopicModel.load(SHIPPED_MODEL)
    assert topic_model.version == shipped.version
    assert topic_model.thresholds == pytest.approx(shipped.thresholds, abs=1e-6)
    assert topic_model.word_terms == shipped.word_terms and topic_model.char_terms == shipped.char_terms
    np.testing.assert_allclose(topic_model.coef, shipped.coef, rtol=1e-6, atol=1e-9)
    card = SHIPPED_MODEL.with_suffix(".card.md").read_text(encoding="utf-8")
    assert card.startswith(f"# Topic model {shipped.version}")
    assert all(f"| {t} | {v:.3f} |" in card for t, v in shipped.thresholds.items())


def test_missing_model_says_how_to_train(tmp_path):
    result = CliRunner().invoke(cli, ["nlp", "classify", "--model", str(tmp_path / "none.joblib")], input="{}\n")
    assert result.exit_code != 0
    assert "pressmon nlp train" in result.output


def test_classify_stored_items_by_model_version(model_path, tmp_path):
    db = tmp_path / "pressmon.db"
    with Store(db) as store:
        store.sync_outlets([OUTLET])
        for n, item in enumerate([CITING, UNRELATED]):
            store.save_article("r1", {**item, "url": f"https://baogialai.com.vn/a-post{n}.html", "outlet_id": "baogialai"})
    runner = CliRunner()
    first = runner.invoke(cli, ["classify", "--db", str(db), "--model", str(model_path)])
    again = runner.invoke(cli, ["classify", "--db", str(db), "--model", str(model_path)])
    every = runner.invoke(cli, ["classify", "--db", str(db), "--model", str(model_path), "--all"])
    assert first.stdout.startswith("2 articles") and again.stdout.startswith("0 articles")
    assert every.stdout.startswith("2 articles")
    with Store(db) as store:
        rows = store.db.execute("select a.title, t.topic, t.tier from article_topics t join articles a "
                                "on a.id = t.article_id order by a.id, t.topic").fetchall()
    assert len(rows) == 4
    assert (CITING["title"], "ct20", "cited") in rows
    assert (UNRELATED["title"], "ct20", "none") in rows


def test_training_learns_from_citations_and_verdicts_in_the_database(tmp_path):
    db = tmp_path / "pressmon.db"
    with Store(db) as store:
        store.sync_outlets([OUTLET])
        for n, item in enumerate([CITING, UNRELATED]):
            store.save_article("r1", {**item, "url": f"https://baogialai.com.vn/b-post{n}.html", "outlet_id": "baogialai"},
                               classification={"model_version": "m1", "topics": {
                                   "qd1894": {"tier": "none", "probability": 0.1},
                                   "ct20": {"tier": "cited" if n == 0 else "probable", "probability": 0.9}}})
        store.add_verdict(2, "ct20", "rejected", "lan.pham")
    items = {item["title"]: item["labels"] for item in crawled_training_items(db)}
    assert items == {CITING["title"]: {"ct20": True, "qd1894": False},
                     UNRELATED["title"]: {"ct20": False, "qd1894": False}}
