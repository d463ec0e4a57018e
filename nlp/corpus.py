"""The labelled corpus in ``nlp/data/corpus/*.jsonl`` and its fixed train/dev/test split.

Each line is one item::

    {"id", "title", "lead", "body", "published_at", "outlet_kind",
     "labels": {"qd1894": bool, "ct20": bool},
     "kind": "cited" | "uncited" | "hard_negative" | "negative", "note", "provenance"}

The split is fixed by the item's id alone, so it never changes when items are added,
removed or reordered, and an item keeps its split across corpus files::

    bucket = int(sha1(id.encode("utf-8")).hexdigest(), 16) % 10
    0–5 -> "train" (60 %), 6–7 -> "dev" (20 %), 8–9 -> "test" (20 %)

``dev`` chooses the probability thresholds, ``test`` is only read by ``nlp.evaluate``.

``nlp/data/digests.txt`` lists the corpus items that are legal digests: they list 1894/QĐ-TTg
or 20/CT-TTg in passing among many documents and are labelled false. One item a line,
``<id> <topic>[,<topic>]`` (the topics whose documents the digest lists), ``#`` starts a
comment. Each line was checked by reading the item.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from pressmon.nlp.documents import TOPICS

__all__ = ["CORPUS_DIR", "DIGESTS_FILE", "TOPICS", "load_corpus", "load_items", "split_of", "by_split",
           "load_digest_ids_topics"]

DATA_DIR = Path(__file__).resolve().parent / "data"
CORPUS_DIR = DATA_DIR / "corpus"
DIGESTS_FILE = DATA_DIR / "digests.txt"
SPLITS = ("train", "dev", "test")


def split_of(item_id: str) -> str:
    """"train", "dev" or "test" for an item id (see the module docstring)."""
    bucket = int(hashlib.sha1(str(item_id).encode("utf-8")).hexdigest(), 16) % 10
    if bucket <= 5:
        return "train"
    if bucket <= 7:
        return "dev"
    return "test"


def load_corpus(folder: str | Path = CORPUS_DIR) -> list[dict]:
    """Every item of every ``*.jsonl`` file in ``folder``, sorted by file name then line (see
    ``load_items``); a duplicate id across files raises ``ValueError`` too."""
    items: list[dict] = []
    seen: dict[str, str] = {}
    for path in sorted(Path(folder).glob("*.jsonl")):
        for item in load_items(path):
            if item["id"] in seen:
                raise ValueError(f"{path.name}: duplicate id {item['id']!r} (also in {seen[item['id']]})")
            seen[item["id"]] = path.name
            items.append(item)
    return items


def load_items(path: str | Path) -> list[dict]:
    """The labelled items of one JSON lines file in the corpus format.

    Blank lines are skipped; a line that is not valid JSON, or an item without an ``id``
    or ``labels``, raises ``ValueError`` naming the file and line, and so does a duplicate
    id. Each item gets ``"split"`` (from ``split_of``) and ``"source_file"`` added; a label
    missing for a watched document is read as False.
    """
    path = Path(path)
    items: list[dict] = []
    seen: set[str] = set()
    with path.open(encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            where = f"{path.name}:{lineno}"
            try:
                item = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{where}: not JSON ({exc})") from None
            if not isinstance(item, dict) or not item.get("id") or "labels" not in item:
                raise ValueError(f"{where}: an item needs 'id' and 'labels'")
            if item["id"] in seen:
                raise ValueError(f"{where}: duplicate id {item['id']!r}")
            seen.add(item["id"])
            labels = item.get("labels") or {}
            item["labels"] = {t: bool(labels.get(t, False)) for t in TOPICS}
            item["split"] = split_of(item["id"])
            item["source_file"] = path.name
            items.append(item)
    return items


def by_split(items: list[dict]) -> dict[str, list[dict]]:
    """{"train": [...], "dev": [...], "test": [...]}."""
    out: dict[str, list[dict]] = {s: [] for s in SPLITS}
    for item in items:
        out[item.get("split") or split_of(item["id"])].append(item)
    return out


def load_digest_ids_topics(path: str | Path = DIGESTS_FILE) -> dict[str, set[str]]:
    """{id: topics listed} from ``nlp/data/digests.txt`` (empty when the file is absent)."""
    path = Path(path)
    if not path.exists():
        return {}
    out: dict[str, set[str]] = {}
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        topics = set(parts[1].split(",")) if len(parts) > 1 else set()
        if not topics or topics - set(TOPICS):
            raise ValueError(f"{path.name}:{lineno}: expected '<id> <topic>[,<topic>]'")
        out[parts[0]] = topics
    return out
