"""Staff verdicts: confirm or reject the model's decisions, one item at a time in a terminal
or many at once from a CSV file. A verdict always overrides the model."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pressmon.nlp.documents import DOCUMENT_LABELS, TIER_LABELS, TOPICS
from pressmon.nlp.normalize import fold
from pressmon.pipeline.store import Store, immediate_transaction

CSV_COLUMNS = ("article_id", "topic", "verdict")
CSV_OPTIONAL = ("reviewer", "note")
# What a reviewer may write in the verdict column, folded (any case, with or without
# diacritics): the English words, their initials and the Vietnamese words.
VERDICT_WORDS = {"confirmed": "confirmed", "confirm": "confirmed", "c": "confirmed", "x": "confirmed",
                 "xac nhan": "confirmed", "da xac nhan": "confirmed",
                 "rejected": "rejected", "reject": "rejected", "r": "rejected", "b": "rejected",
                 "bac bo": "rejected", "da bac bo": "rejected"}


class VerdictFileError(ValueError):
    """A verdict file that cannot be recorded; nothing of it was."""


@dataclass
class Pending:
    article_id: int
    topic: str
    tier: str
    probability: float | None
    evidence: list
    title: str
    outlet_id: str
    published_at: str | None
    url: str


def pending_reviews(store: Store, topic: str | None = None, tiers: Iterable[str] = ("probable",)) -> list[Pending]:
    """Decisions in force that no one has given a verdict on yet, most probable first."""
    tiers = list(tiers)
    sql = ("SELECT article_id, topic, tier, probability, evidence, title, outlet_id, published_at, url "
           "FROM topic_decisions WHERE verdict IS NULL AND tier IN ({}) {} "
           "ORDER BY probability DESC, published_at DESC").format(
        ", ".join("?" for _ in tiers), "AND topic = ?" if topic else "")
    rows = store.db.execute(sql, [*tiers, *([topic] if topic else [])]).fetchall()
    return [Pending(*row[:4], json.loads(row[4] or "[]"), *row[5:]) for row in rows]


CHOICES = "[x] xác nhận  [b] bác bỏ  [s] bỏ qua  [q] thoát"
ANSWERS = {"x": "confirmed", "b": "rejected", "s": "skipped", "q": "quit"}


def review_interactively(store: Store, items: list[Pending], reviewer: str,
                         ask: Callable[[str], str], show: Callable[[str], None]) -> dict:
    """Ask for a verdict on each item; returns counts. `ask` returns the answer to a prompt
    (an empty answer to the note prompt is no note); an answer that is not one of the
    choices is asked again."""
    counts = {"confirmed": 0, "rejected": 0, "skipped": 0}
    for number, item in enumerate(items, start=1):
        show(describe(item, number, len(items)))
        answer = ask(CHOICES).strip().lower()
        while answer not in ANSWERS:
            show(f"“{answer}” không phải một lựa chọn.")
            answer = ask(CHOICES).strip().lower()
        action = ANSWERS[answer]
        if action == "quit":
            break
        if action == "skipped":
            counts["skipped"] += 1
            continue
        note = ask("Ghi chú (Enter để bỏ trống)").strip() or None
        store.add_verdict(item.article_id, item.topic, action, reviewer, note)
        counts[action] += 1
    return counts


def describe(item: Pending, number: int, total: int) -> str:
    evidence = "\n".join(f"    • {_evidence_line(e)}" for e in item.evidence) or "    (không có)"
    probability = f"{item.probability:.2f}" if item.probability is not None else "—"
    return (f"\n[{number}/{total}] {DOCUMENT_LABELS.get(item.topic, item.topic)} — mức "
            f"{TIER_LABELS.get(item.tier, item.tier)}, xác suất {probability}\n"
            f"  {item.title}\n  {item.outlet_id} · {item.published_at or 'không rõ ngày'} · {item.url}\n"
            f"  Bằng chứng:\n{evidence}")


def read_verdict_file(text: str) -> list[dict]:
    """The rows of a verdict CSV (comma, semicolon or tab separated, as Excel writes it in
    any locale), checked to have the columns article_id, topic, verdict."""
    lines = text.lstrip("\ufeff").splitlines()
    if not lines or not lines[0].strip():
        raise VerdictFileError("the file is empty: its first line must be the header "
                               "article_id,topic,verdict[,reviewer][,note]")
    header_line = lines[0]
    delimiter = max(",;\t", key=header_line.count)
    reader = csv.DictReader(lines, delimiter=delimiter)
    header = [(name or "").strip().lower() for name in reader.fieldnames or []]
    missing = [c for c in CSV_COLUMNS if c not in header]
    if missing:
        raise VerdictFileError(f"line 1 must be the header article_id,topic,verdict[,reviewer][,note]; "
                               f"it has no {', '.join(missing)} (it reads: {header_line.strip()[:80]!r})")
    reader.fieldnames = header
    return [{k: (v or "").strip() for k, v in row.items() if k} for row in reader]


def import_verdicts(store: Store, rows: list[dict], reviewer: str | None) -> tuple[int, int]:
    """Record the verdicts of `rows` (article_id, topic, verdict; optional reviewer and note),
    the file's reviewer column before `reviewer`. Every row is checked before any is
    written, so a bad file changes nothing. A row repeated in the file, or the verdict the
    same reviewer already gave, is recorded once. Returns (recorded, already recorded)."""
    checked: dict[tuple, int] = {}
    for line, row in enumerate(rows, start=2):
        if not any(row.values()):
            continue
        missing = [c for c in CSV_COLUMNS if not row.get(c)]
        if missing:
            raise VerdictFileError(f"line {line}: no {', '.join(missing)}")
        verdict = VERDICT_WORDS.get(fold(row["verdict"]).lower().strip())
        if verdict is None:
            raise VerdictFileError(f"line {line}: verdict must be confirmed or rejected "
                                   f"(xác nhận or bác bỏ), not {row['verdict']!r}")
        topic = row["topic"].lower()
        if topic not in TOPICS:
            raise VerdictFileError(f"line {line}: topic must be one of {', '.join(TOPICS)}, not {row['topic']!r}")
        try:
            article_id = int(row["article_id"])
        except ValueError:
            raise VerdictFileError(f"line {line}: article_id {row['article_id']!r} is not a number") from None
        if store.db.execute("SELECT 1 FROM articles WHERE id = ?", [article_id]).fetchone() is None:
            raise VerdictFileError(f"line {line}: no article {article_id} in the database")
        who = row.get("reviewer") or reviewer
        if not who:
            raise VerdictFileError(f"line {line}: no reviewer: add a reviewer column or pass --reviewer NAME")
        key = (article_id, topic, verdict, who, row.get("note") or None)
        for (other_id, other_topic, other_verdict, *_), other_line in checked.items():
            if (other_id, other_topic) == (article_id, topic) and other_verdict != verdict:
                raise VerdictFileError(f"line {line}: {verdict} contradicts line {other_line} "
                                       f"({other_verdict}) for article {article_id}, {topic}")
        checked.setdefault(key, line)
    recorded = already = 0
    with immediate_transaction(store.db):
        for article_id, topic, verdict, who, note in checked:
            newest = store.db.execute(
                "SELECT verdict, reviewer FROM verdicts WHERE article_id = ? AND topic = ? "
                "ORDER BY at DESC, id DESC LIMIT 1", [article_id, topic]).fetchone()
            if newest == (verdict, who):
                already += 1
                continue
            store.add_verdict(article_id, topic, verdict, who, note)
            recorded += 1
    return recorded, already


def _evidence_line(evidence) -> str:
    """A span or sentence as the reviewer reads it, with the sign it shows when it is one."""
    if not isinstance(evidence, dict):
        return str(evidence)
    sign = f" (dấu hiệu của văn bản: {evidence['sign']})" if evidence.get("sign") else ""
    return evidence.get("text", "") + sign
