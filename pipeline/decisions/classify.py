"""The topic decision wired to the store: which model, what it learns from, and
(re)classifying stored items. The decision itself lives in `nlp.topics`."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from itertools import islice
from pathlib import Path

from pressmon.crawlers.dates import now
from pressmon.nlp.corpus import by_split, load_corpus, load_items
from pressmon.nlp.evaluate import load_realtopics, train_corpus_model
from pressmon.nlp.topics import SHIPPED_MODEL, TOPICS, TopicModel
from pressmon.pipeline.store import Store
from pressmon.pipeline.store.migrations import immediate_transaction
from pressmon.pipeline.workers import forked_pool

# Written for the project: reaches every lazy part of the classifier once, and of the crawl's
# language work (references, places) too: both pools warm up on it before they fork.
WARM_UP_ITEM = {
    "title": "Gia Lai triển khai Chỉ thị 20/CT-TTg về ngăn chặn ô nhiễm môi trường",
    "lead": "UBND tỉnh giao các sở, ngành và xã Ia Grai thực hiện Quyết định số 1894/QĐ-TTg.",
    "body": "Sở Nông nghiệp và Môi trường hướng dẫn doanh nghiệp xử lý nước thải, chất thải rắn.",
    "published_at": "2025-10-01T08:00:00+07:00",
}


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


BATCH_SIZE = 200  # articles per read, per worker task and per write transaction


@dataclass
class Work:
    """What a classification run has to do: the ids of the articles to classify, ascending;
    for `--all`, what the unfinished run it carries on had done (`done` articles, every id up
    to `resumed_after`)."""

    ids: list[int]
    done: int = 0
    resumed_after: int | None = None

    @property
    def total(self) -> int:
        return self.done + len(self.ids)


def pending_work(store: Store, model: TopicModel, every_item: bool = False) -> Work:
    """The articles this model version has not decided (every article with `every_item`, less
    those an unfinished `--all` run of this model already did).

    The ids come from a scan of an index, not of the articles table (at a million articles
    that table is gigabytes of text), and are sorted here."""
    if not every_item:
        ids = [row[0] for row in store.db.execute(
            "SELECT a.id FROM articles a WHERE NOT EXISTS (SELECT 1 FROM article_topics t "
            "WHERE t.article_id = a.id AND t.model_version = ?)", [model.version])]
        return Work(sorted(ids))
    run = store.db.execute("SELECT last_article_id, classified FROM reclassify_runs "
                           "WHERE model_version = ? AND finished_at IS NULL", [model.version]).fetchone()
    after = run[0] if run else 0
    ids = sorted(row[0] for row in store.db.execute("SELECT id FROM articles") if row[0] > after)
    return Work(ids, done=run[1], resumed_after=after) if run else Work(ids)


def classify_stored(store: Store, model: TopicModel, every_item: bool = False,
                    progress: Callable[[int], None] | None = None, workers: int = 1,
                    work: Work | None = None, batch_size: int = BATCH_SIZE) -> int:
    """Classify stored articles this model version has not decided yet (all with
    `every_item`); earlier models' decisions stay. Returns how many were classified.

    Batches of `batch_size` articles, in id order, are read here, classified by `workers`
    processes (in this one when 1), and each batch's decisions written here in one
    transaction — with, for `every_item`, the run's progress in `reclassify_runs`, so that a
    run stopped part-way carries on after the last batch written (`pending_work`).
    `progress(n)` is called after each batch is committed (it may raise to stop the run)."""
    work = work or pending_work(store, model, every_item)
    if every_item and work.resumed_after is None:
        with immediate_transaction(store.db):
            store.db.execute(
                "INSERT INTO reclassify_runs (model_version, started_at) VALUES (?, ?) "
                "ON CONFLICT (model_version) DO UPDATE SET started_at = excluded.started_at, "
                "last_article_id = 0, classified = 0, finished_at = NULL", [model.version, now()])
    batches = (work.ids[i:i + batch_size] for i in range(0, len(work.ids), batch_size))
    count = 0
    with _decider(model, workers) as decide:
        for decided in decide(_read(store, ids) for ids in batches):
            with immediate_transaction(store.db):
                for article_id, topics in decided:
                    store.save_topics(article_id, model.version, topics)
                if every_item and decided:
                    store.db.execute("UPDATE reclassify_runs SET last_article_id = ?, classified = classified + ? "
                                     "WHERE model_version = ?", [decided[-1][0], len(decided), model.version])
            count += len(decided)
            if progress:
                progress(len(decided))
    if every_item:
        with immediate_transaction(store.db):
            store.db.execute("UPDATE reclassify_runs SET finished_at = ? WHERE model_version = ?",
                             [now(), model.version])
    return count


def _read(store: Store, ids: list[int]) -> list[tuple]:
    marks = ",".join("?" * len(ids))
    return store.db.execute(f"SELECT id, title, lead, body, published_at FROM articles WHERE id IN ({marks}) "
                            "ORDER BY id", ids).fetchall()


def decide_rows(model: TopicModel, rows: list[tuple]) -> list[tuple[int, dict]]:
    """(article id, decision per topic) for rows (id, title, lead, body, published_at)."""
    decided = model.classify_many([{"title": title, "lead": lead, "body": body, "published_at": published_at}
                                   for _, title, lead, body, published_at in rows])
    return [(row[0], result["topics"]) for row, result in zip(rows, decided)]


# The model a pool worker classifies with: inherited from the parent at fork, not pickled.
_worker_model: TopicModel | None = None


def _set_worker_model(model: TopicModel) -> None:
    global _worker_model
    _worker_model = model


def _decide_in_worker(rows: list[tuple]) -> list[tuple[int, dict]]:
    return decide_rows(_worker_model, rows)


@contextmanager
def _decider(model: TopicModel, workers: int):
    """A function from an iterable of row batches to their decisions, batch by batch in order.

    With more than one worker: a pool of forked processes. The model is loaded and warmed
    (underthesea's tables, the fast transforms) here, before the fork, so every worker shares
    those pages copy-on-write instead of loading its own copy. At most two batches per worker
    are in flight: the articles are read as the workers need them, never all at once."""
    if workers <= 1:
        yield lambda batches: (decide_rows(model, rows) for rows in batches)
        return
    model.classify(WARM_UP_ITEM)
    pool = forked_pool(workers, _set_worker_model, (model,))

    def decide(batches):
        pending = deque(pool.submit(_decide_in_worker, rows) for rows in islice(batches, 2 * workers))
        while pending:
            decided = pending.popleft().result()
            for rows in islice(batches, 1):
                pending.append(pool.submit(_decide_in_worker, rows))
            yield decided

    try:
        yield decide
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
