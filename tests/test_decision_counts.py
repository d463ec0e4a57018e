"""The decision in force and the counts the database keeps (migration 10) agree, after any
sequence of writes, with what recomputing them from every row gives."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import sqlite_utils

from pressmon.pipeline.store import Store
from pressmon.pipeline.store.migrations import MIGRATIONS, migrate

OUTLETS = [
    {"id": "baogialai", "name": "Báo Gia Lai", "kind": "newspaper"},
    {"id": "gialai_gov", "name": "Cổng thông tin điện tử tỉnh Gia Lai", "kind": "government_portal"},
]

# What topic_decisions meant before migration 10, worked out from every classification and
# verdict: the newest of each per article and topic (a verdict alone makes a pair too).
RECOMPUTED = """
WITH latest AS (
    SELECT t.*, row_number() OVER (PARTITION BY article_id, topic ORDER BY classified_at DESC, id DESC) AS n
    FROM article_topics t
), verdict AS (
    SELECT v.*, row_number() OVER (PARTITION BY article_id, topic ORDER BY at DESC, id DESC) AS n
    FROM verdicts v
), pairs AS (
    SELECT article_id, topic FROM article_topics UNION SELECT article_id, topic FROM verdicts
)
SELECT p.article_id, p.topic, l.tier, l.probability, l.evidence, l.model_version, v.verdict, v.reviewer,
       a.outlet_id, a.outlet_kind, a.published_at, a.published_month, a.title, a.url,
       CASE WHEN v.verdict = 'rejected' THEN 0 WHEN v.verdict = 'confirmed' OR l.tier = 'cited' THEN 1 ELSE 0 END
FROM pairs p JOIN articles a ON a.id = p.article_id
LEFT JOIN latest l ON l.article_id = p.article_id AND l.topic = p.topic AND l.n = 1
LEFT JOIN verdict v ON v.article_id = p.article_id AND v.topic = p.topic AND v.n = 1
ORDER BY 1, 2"""

KEPT = """
SELECT article_id, topic, tier, probability, evidence, model_version, verdict, reviewer, outlet_id, outlet_kind,
       published_at, published_month, title, url, counted
FROM topic_decisions ORDER BY 1, 2"""


def article(n: int, month: int | None, body: str = "Nội dung mẫu.", outlet: str = "baogialai") -> dict:
    published = f"2025-{month:02d}-0{1 + n % 9}T08:00:00+07:00" if month else None
    return {"type": "article", "outlet_id": outlet, "url": f"https://example.test/{outlet}/bai-{n}.html",
            "title": f"Bài mẫu số {n}", "lead": None, "body": f"{body} ({n})", "published_at": published,
            "published_raw": published, "tags": [], "methods": {}}


def decisions(rng: random.Random) -> dict:
    return {topic: {"tier": rng.choice(["cited", "probable", "none"]), "probability": round(rng.random(), 3),
                    "evidence": []}
            for topic in rng.sample(["qd1894", "ct20"], rng.randint(1, 2))}


def assert_kept_as_recomputed(store: Store) -> None:
    db = store.db
    assert db.execute(KEPT).fetchall() == db.execute(RECOMPUTED).fetchall()
    assert db.execute(
        "SELECT outlet_id, published_month, topic, tier, verdict, items FROM decision_counts ORDER BY 1, 2, 3, 4, 5"
    ).fetchall() == db.execute(
        "SELECT outlet_id, coalesce(published_month, ''), topic, coalesce(tier, ''), coalesce(verdict, ''), count(*) "
        "FROM topic_decisions GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5").fetchall()
    assert db.execute("SELECT outlet_id, published_month, articles FROM article_counts ORDER BY 1, 2").fetchall() == \
        db.execute("SELECT outlet_id, coalesce(published_month, ''), count(*) FROM articles "
                   "GROUP BY 1, 2 ORDER BY 1, 2").fetchall()


@pytest.mark.parametrize("seed", range(4))
def test_counts_follow_every_kind_of_write(tmp_path: Path, seed: int):
    rng = random.Random(seed)
    with Store(tmp_path / "pressmon.db") as store:
        store.sync_outlets(OUTLETS)
        store.start_run("r1", "baogialai")
        items: dict[int, dict] = {}
        for step in range(300):
            action = rng.random()
            if action < 0.3 or not items:
                n = len(items) + 1
                items[n] = article(n, rng.choice([None, 1, 2, 3]), outlet=rng.choice(OUTLETS)["id"])
                store.save_article("r1", items[n], classification={"model_version": rng.choice(["m1", "m2"]),
                                                                    "topics": decisions(rng)})
            elif action < 0.45:
                # The outlet corrected the text and the date: the article moves to another month.
                n = rng.choice(list(items))
                items[n] = {**article(n, rng.choice([None, 4, 5]), body=f"Sửa lần {step}", outlet=items[n]["outlet_id"])}
                store.save_article("r1", items[n])
            elif action < 0.7:
                article_id = store.db.execute("SELECT id FROM articles WHERE url = ?",
                                              [items[rng.choice(list(items))]["url"]]).fetchone()[0]
                store.save_topics(article_id, rng.choice(["m1", "m2", "m3"]), decisions(rng))
            elif action < 0.97:
                article_id = rng.randint(1, len(items))
                store.add_verdict(article_id, rng.choice(["qd1894", "ct20"]), rng.choice(["confirmed", "rejected"]),
                                  reviewer=rng.choice(["lan", "minh"]))
            else:
                kind = rng.choice(["newspaper", "broadcaster"])
                store.sync_outlets([{**OUTLETS[0], "kind": kind}])
            if step % 50 == 49:
                assert_kept_as_recomputed(store)
        assert_kept_as_recomputed(store)
        # Every kind of bucket was reached, so the comparison above says something.
        verdicts = {row[0] for row in store.db.execute("SELECT DISTINCT verdict FROM decision_counts")}
        assert verdicts == {"", "confirmed", "rejected"}
        assert store.db.execute("SELECT count(*) FROM decision_counts WHERE published_month = ''").fetchone()[0]


def test_an_older_database_gets_the_counts_of_what_it_holds(tmp_path: Path):
    """Migration 10 builds the kept rows from the decisions and verdicts already stored."""
    db = sqlite_utils.Database(tmp_path / "old.db")
    assert migrate(db, MIGRATIONS[:9]) == 9
    rng = random.Random(7)
    db["outlets"].insert_all(OUTLETS)
    for n in range(1, 60):
        month = rng.choice([None, "2025-01", "2025-02"])
        db["articles"].insert({"id": n, "url": f"https://example.test/{n}", "outlet_id": rng.choice(OUTLETS)["id"],
                               "title": f"Bài mẫu {n}", "body": "Nội dung mẫu.", "published_month": month,
                               "published_at": month and f"{month}-03T08:00:00+07:00", "content_sha256": str(n),
                               "first_seen_at": "2025-03-01", "last_seen_at": "2025-03-01", "changed_at": "2025-03-01"})
        for version, at in (("m1", "2025-03-01"), ("m2", "2025-03-02"))[:rng.randint(1, 2)]:
            for topic, decision in decisions(rng).items():
                db["article_topics"].insert({"article_id": n, "topic": topic, "tier": decision["tier"],
                                             "probability": decision["probability"], "model_version": version,
                                             "classified_at": at})
        if n % 4 == 0:
            db["verdicts"].insert({"article_id": n, "topic": rng.choice(["qd1894", "ct20"]), "reviewer": "lan",
                                   "verdict": rng.choice(["confirmed", "rejected"]), "at": "2025-03-05"})
    expected = db.execute(RECOMPUTED).fetchall()
    assert migrate(db) == len(MIGRATIONS)
    store = Store(tmp_path / "old.db")
    try:
        assert store.db.execute(KEPT).fetchall() == expected
        assert_kept_as_recomputed(store)
    finally:
        store.close()
