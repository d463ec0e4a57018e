"""The watched documents are data: the registry (nlp/documents.toml), `pressmon documents`,
and a third document added through the registry and labelled example items only, followed
through references → tiers → store → Datasette → report."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest
from click.testing import CliRunner

from conftest import ROOT, pressmon
from pressmon.nlp.documents import DOCUMENTS, DocumentsError, load_documents
from pressmon.pipeline.cli import cli

REGISTRY = (ROOT / "nlp" / "documents.toml").read_text(encoding="utf-8")

# A real document, written as a user would add it; the example items below are sample text.
THIRD = '''
[[documents]]
id = "qd1658"
label = "Quyết định số 1658/QĐ-TTg"
short_label = "QĐ 1658"
kind = "Quyết định"
number = 1658
issuer = "QĐ-TTg"
signed_on = 2021-10-01
signer = "Thủ tướng Chính phủ"
subject = "Phê duyệt Chiến lược quốc gia về tăng trưởng xanh giai đoạn 2021–2030, tầm nhìn 2050"
title = ['chien\\s+luoc\\s+quoc\\s+gia\\s+ve\\s+tang\\s+truong\\s+xanh']
'''

PLACES = ["Gia Lai", "Quy Nhơn", "Pleiku", "An Khê", "Ayun Pa", "Hoài Nhơn", "Chư Sê", "Đak Đoa", "Kbang",
          "Tây Sơn", "Phù Cát", "Ia Grai"]
ACTIONS = ["lắp điện mặt trời áp mái cho trụ sở", "chuyển xe buýt sang chạy điện", "trồng rừng gỗ lớn có chứng chỉ",
           "cải tạo chiếu sáng công cộng bằng đèn LED", "xây dựng kế hoạch giảm phát thải khí nhà kính",
           "phát triển nông nghiệp tuần hoàn giảm phân bón hóa học"]


def example_item(n: int, place: str, action: str) -> dict:
    return {
        "id": f"gg-{n:04d}", "published_at": "2026-03-10T08:00:00+07:00", "labels": {"qd1658": True},
        "kind": "uncited", "title": f"{place} đẩy mạnh tăng trưởng xanh: {action}",
        "lead": f"Thực hiện mục tiêu tăng trưởng xanh, giảm cường độ phát thải khí nhà kính, {place} {action}.",
        "body": (f"Theo kế hoạch hành động tăng trưởng xanh của địa phương, việc {action} giúp tiết kiệm năng "
                 f"lượng và giảm phát thải. Đây là một trong các nhiệm vụ xanh hóa sản xuất, xanh hóa lối sống "
                 f"và tiêu dùng bền vững mà {place} đặt ra đến năm 2030.\n\nLãnh đạo địa phương cho biết sẽ "
                 f"nhân rộng mô hình, huy động nguồn lực xã hội hóa và lồng ghép chỉ tiêu tăng trưởng xanh vào "
                 f"kế hoạch phát triển kinh tế - xã hội hằng năm."),
        "note": "test example: green growth task, uncited", "provenance": "written for pressmon's tests"}


def example_items() -> list[dict]:
    """Labelled examples for the third document, written for this test: uncited items about
    green growth (positive), split by id as the corpus is."""
    return [example_item(n, PLACES[n % len(PLACES)], ACTIONS[n % len(ACTIONS)]) for n in range(36)]


CITING = {"id": 1, "title": "Gia Lai triển khai Quyết định số 1658/QĐ-TTg về tăng trưởng xanh",
          "lead": "UBND tỉnh ban hành kế hoạch hành động.",
          "body": "Thực hiện Quyết định số 1658/QĐ-TTg ngày 01/10/2021 của Thủ tướng Chính phủ phê duyệt Chiến "
                  "lược quốc gia về tăng trưởng xanh, tỉnh giao các sở xây dựng chỉ tiêu giảm phát thải.",
          "published_at": "2026-03-12T08:00:00+07:00"}
# An item of the same kind from a place no example names, not cited: the model's part.
UNCITED = {k: v for k, v in example_item(99, "Chư Păh", ACTIONS[0]).items() if k in ("title", "lead", "body")}

FOLLOW = textwrap.dedent('''
    import asyncio, json, sys
    from pathlib import Path
    from openpyxl import load_workbook
    from pressmon.nlp.documents import TOPICS
    from pressmon.nlp.topics import TopicModel
    from pressmon.pipeline.publish import make_datasette
    from pressmon.pipeline.reports.counting import counted_items, report_meta
    from pressmon.pipeline.reports.xlsx_report import write_xlsx
    from pressmon.pipeline.store import Store

    model_path, db, item, uncited = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3]), json.loads(sys.argv[4])
    model = TopicModel.load(model_path)
    decided = model.classify(item)
    uncited_decision = model.classify(uncited)["topics"]["qd1658"]
    with Store(db) as store:
        store.sync_outlets([{"id": "baogialai", "name": "Báo Gia Lai", "kind": "newspaper"}])
        outcome = store.save_article("r1", {**item, "url": "https://baogialai.com.vn/x-post1.html",
                                            "outlet_id": "baogialai"},
                                     references=[dict(r) for r in decided["references"]],
                                     classification={"model_version": model.version, "topics": decided["topics"]})
        counted = store.db.execute("select topic, tier, counted from topic_decisions order by topic").fetchall()

    async def site():
        ds = make_datasette(db, public=True)
        page = (await ds.client.get(f"/{db.stem}/articles/1")).text
        coverage = (await ds.client.get(f"/{db.stem}/coverage_by_outlet_month.json",
                                        params={"outlet_kind": "", "from_month": "", "to_month": "",
                                                "_shape": "array"})).json()
        return page, coverage

    page, coverage = asyncio.run(site())
    items = counted_items(db, year=2026)
    write_xlsx(items, db.with_suffix(".xlsx"), report_meta(year=2026))
    header = [c.value for c in load_workbook(db.with_suffix(".xlsx"))["Theo nguồn tin và tháng"][1]]
    print(json.dumps({"topics": list(TOPICS), "model_topics": list(model.topics),
                      "tiers": {t: d["tier"] for t, d in decided["topics"].items()},
                      "probability": decided["topics"]["qd1658"]["probability"],
                      "uncited": [uncited_decision["tier"], uncited_decision["probability"]],
                      "references": [(r["document"], r["topic"], r["role"]) for r in decided["references"] if r["topic"]],
                      "counted": counted, "label_on_page": "Quyết định số 1658/QĐ-TTg" in page,
                      "coverage_columns": sorted(coverage[0]), "report_items": [(i["topic"], i["tier"]) for i in items],
                      "report_header": header}, ensure_ascii=False))
''')


def test_the_registry_lists_both_documents_with_their_facts():
    assert list(DOCUMENTS) == ["qd1894", "ct20"]
    ct20 = DOCUMENTS["ct20"]
    assert (ct20.key, ct20.signed_on.isoformat(), ct20.label) == ("20/CT-TTg", "2025-07-12", "Chỉ thị số 20/CT-TTg")
    assert [c.key for c in DOCUMENTS["qd1894"].related] == ["980/QĐ-TTg", "KC.06/21-30"]
    assert [c.key for c in ct20.implementing] == ["2678/QĐ-BCT"]
    assert [s.since.isoformat() for s in ct20.signs] == ["2025-07-12", "2025-07-12"]  # signed_on by default
    assert DOCUMENTS["qd1894"].signs[0].since.isoformat() == "2024-01-01"


def test_pressmon_documents_prints_them_for_people_and_machines():
    listed = CliRunner().invoke(cli, ["documents", "--json"])
    assert listed.exit_code == 0, listed.output
    entries = json.loads(listed.output)
    assert [(e["id"], e["number"], e["label"]) for e in entries] == [
        ("qd1894", "1894/QĐ-TTg", "Quyết định số 1894/QĐ-TTg"), ("ct20", "20/CT-TTg", "Chỉ thị số 20/CT-TTg")]
    assert entries[1]["title"].startswith("Về một số nhiệm vụ cấp bách")
    assert "Vành đai 1" in entries[1]["signs"][0]
    plain = CliRunner().invoke(cli, ["documents"]).output
    assert "20/CT-TTg" in plain and "12/07/2025" in plain


@pytest.mark.parametrize("change, message", [
    ('kind = "Chỉ thị"', "kind 'Chỉ định' is not one of"),
    ('signed_on = 2025-07-12', "signed_on must be a date"),
    ('id = "ct20"', "the same id twice: qd1894"),
    ('window = 200', r"qd1894\) signs\[0\]: window must be a positive number"),
    ('since = 2024-01-01', r"signs\[0\]: since must be a date"),
])
def test_a_broken_registry_says_where(tmp_path, change, message):
    broken = {'kind = "Chỉ thị"': REGISTRY.replace('kind = "Chỉ thị"', 'kind = "Chỉ định"'),
              'signed_on = 2025-07-12': REGISTRY.replace("signed_on = 2025-07-12", 'signed_on = "12/7/2025"'),
              'id = "ct20"': REGISTRY.replace('id = "ct20"', 'id = "qd1894"'),
              'window = 200': REGISTRY.replace("window = 200", "window = -5"),
              'since = 2024-01-01': REGISTRY.replace("since = 2024-01-01", 'since = "2024"')}[change]
    (tmp_path / "documents.toml").write_text(broken, encoding="utf-8")
    with pytest.raises(DocumentsError, match=message):
        load_documents(tmp_path / "documents.toml")


def test_a_third_document_added_as_data_goes_all_the_way_to_the_report(tmp_path):
    registry = tmp_path / "documents.toml"
    registry.write_text(REGISTRY + THIRD, encoding="utf-8")
    examples = tmp_path / "green-growth.jsonl"
    examples.write_text("\n".join(json.dumps(it, ensure_ascii=False) for it in example_items()) + "\n",
                        encoding="utf-8")
    env = {"PRESSMON_DOCUMENTS": str(registry), "PRESSMON_MODEL": str(tmp_path / "model.npz")}
    import os

    env = {**os.environ, **env}
    listed = pressmon("documents", "--json", env=env)
    assert [e["id"] for e in json.loads(listed.stdout)] == ["qd1894", "ct20", "qd1658"]
    trained = pressmon("nlp", "train", "--items", str(examples), env=env, timeout=600)
    assert trained.returncode == 0, trained.stderr[-3000:]
    assert "36 items from --items" in trained.stdout

    followed = subprocess.run([sys.executable, "-c", FOLLOW, env["PRESSMON_MODEL"], str(tmp_path / "pressmon.db"),
                               json.dumps(CITING, ensure_ascii=False), json.dumps(UNCITED, ensure_ascii=False)], env=env, capture_output=True, text=True,
                              timeout=300)
    assert followed.returncode == 0, followed.stderr[-3000:]
    seen = json.loads(followed.stdout)
    assert seen["topics"] == seen["model_topics"] == ["qd1894", "ct20", "qd1658"]
    assert ["1658/QĐ-TTg", "qd1658", "document"] in seen["references"]
    assert seen["tiers"]["qd1658"] == "cited" and seen["probability"] is not None
    assert seen["uncited"][0] == "probable" and seen["uncited"][1] > 0.5  # learnt from the examples alone
    assert ["qd1658", "cited", 1] in seen["counted"]
    assert seen["label_on_page"]
    assert "articles_qd1658" in seen["coverage_columns"]
    assert ("qd1658", "cited") in [tuple(i) for i in seen["report_items"]]
    assert "Quyết định số 1658/QĐ-TTg" in seen["report_header"]
