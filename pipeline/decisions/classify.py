"""The topic decision wired to the store: which model, what it learns from, and
(re)classifying stored items. The decision itself lives in `nlp.topics`."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from pressmon.nlp.corpus import by_split, load_corpus, load_items
from pressmon.nlp.evaluate import load_realtopics, train_corpus_model
from pressmon.nlp.topics import SHIPPED_MODEL, TOPICS, TopicModel
from pressmon.pipeline.store import Store


def user_model_path() -> Path:
    """Where `pressmon nlp train` writes a model the user trains: $PRESSMON_MODEL, or
    topics.npz in the user's data folder (on Linux ~/.local/share/pressmon/models/), never
    the installed package."""
    from platformdirs import user_data_path

    return Path(os.environ.get("PRESSMON_MODEL") or user_data_path("pressmon") / "models" / "topics.npz")


def default_model_path() -> Path:
    """The model in force: $PRESSMON_MODEL; else one the user trained; else the shipped one."""
    if os.environ.get("PRESSMON_MODEL"):
        return Path(os.environ["PRESSMON_MODEL"])
    trained = user_model_path()
    return trained if trained.is_file() else SHIPPED_MODEL


def load_model(path: str | Path | None = None) -> TopicModel:
    """The model in force (or at `path`); `nlp.topics.ModelError` says what is wrong."""
    return TopicModel.load(path or default_model_path())


def classification(model: TopicModel, item: dict) -> dict:
    """What the store keeps of one decision: {"model_version", "topics"}."""
    return {"model_version": model.version, "topics": model.classify(item)["topics"]}


def crawled_training_items(db_path: str | Path) -> list[dict]:
    """Stored items a person or a citation has settled: a verdict (confirmed → positive,
    rejected → negative) or, without one, a `cited` decision (positive). Other topics of
    such an item count as negative only when they too were settled."""
    with Store(db_path) as store:
        rows = store.db.execute(
            "SELECT d.article_id, d.topic, d.tier, d.verdict, a.title, a.lead, a.body, a.published_at "
            "FROM topic_decisions d JOIN articles a ON a.id = d.article_id "
            "WHERE d.verdict IS NOT NULL OR d.tier = 'cited'").fetchall()
    items: dict[int, dict] = {}
    for article_id, topic, tier, verdict, title, lead, body, published_at in rows:
        item = items.setdefault(article_id, {"id": f"db-{article_id}", "title": title, "lead": lead, "body": body,
                                             "published_at": published_at, "labels": {}, "split": "train"})
        item["labels"][topic] = verdict == "confirmed" or (verdict is None and tier == "cited")
    for item in items.values():
        for topic in TOPICS:
            item["labels"].setdefault(topic, False)
    return list(items.values())


def train_model(db_path: str | Path | None = None, realnews_path: str | Path | None = None,
                realtopics_path: str | Path | None = None, item_files: tuple = ()) -> tuple[TopicModel, dict]:
    """The shipped model's recipe (the corpus: train split to fit, dev split for thresholds),
    which from the repository alone gives the shipped model itself; each extra source must be
    asked for and gives another version: a database's settled items, real news as negatives,
    the real-topics items, more labelled items (JSON lines in the corpus format).
    Returns the model and the training counts."""
    corpus = load_corpus()
    splits = by_split(corpus)
    crawled = crawled_training_items(db_path) if db_path else []
    topical = realtopics_items(realtopics_path) if realtopics_path else []
    more = [item for path in item_files for item in load_items(path)]
    model = train_corpus_model(corpus, extra_items=crawled + topical + more, realnews_path=realnews_path)
    counts = {"corpus_train": len(splits["train"]), "corpus_dev": len(splits["dev"]), "crawled": len(crawled),
              "realtopics": len(topical), "items": len(more), "realnews": bool(realnews_path)}
    return model, counts


def realtopics_items(path: str | Path) -> list[dict]:
    """The real-topics items as training items: `cited` or `probable` for a document is positive."""
    return [{**item, "split": "train", "labels": {t: item["gold"].get(t, "none") != "none" for t in TOPICS}}
            for item in load_realtopics(path)]


def classify_stored(store: Store, model: TopicModel, every_item: bool = False,
                    progress: Callable[[int], None] | None = None) -> int:
    """Classify stored articles this model version has not decided yet (all with
    `every_item`); earlier models' decisions stay. Returns how many were classified."""
    sql = "SELECT id, title, lead, body, published_at FROM articles"
    if not every_item:
        sql += (" WHERE id NOT IN (SELECT article_id FROM article_topics WHERE model_version = ?)")
    rows = store.db.execute(sql, [] if every_item else [model.version]).fetchall()
    for article_id, title, lead, body, published_at in rows:
        decided = model.classify({"title": title, "lead": lead, "body": body, "published_at": published_at})
        store.save_topics(article_id, model.version, decided["topics"])
        if progress:
            progress(1)
    return len(rows)
