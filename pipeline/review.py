"""Staff verdicts: confirm or reject the model's decisions, one item at a time in a terminal
or many at once from a CSV file. A verdict always overrides the model."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from pipeline.store import Store

TOPIC_NAMES = {"qd1894": "Quyết định 1894/QĐ-TTg", "ct20": "Chỉ thị 20/CT-TTg"}
CSV_COLUMNS = ("article_id", "topic", "verdict")


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


def review_interactively(store: Store, items: list[Pending], reviewer: str,
                         ask: Callable[[str], str], show: Callable[[str], None]) -> dict:
    """Ask for a verdict on each item; returns counts. `ask` returns the answer to a prompt."""
    counts = {"confirmed": 0, "rejected": 0, "skipped": 0}
    for number, item in enumerate(items, start=1):
        show(describe(item, number, len(items)))
        answer = ask("[x] xác nhận  [b] bác bỏ  [s] bỏ qua  [q] thoát").strip().lower()
        if answer in ("q", "quit"):
            break
        if answer in ("x", "c", "confirm"):
            verdict = "confirmed"
        elif answer in ("b", "r", "reject"):
            verdict = "rejected"
        else:
            counts["skipped"] += 1
            continue
        note = ask("Ghi chú (Enter để bỏ trống)").strip() or None
        store.add_verdict(item.article_id, item.topic, verdict, reviewer, note)
        counts[verdict] += 1
    return counts


def describe(item: Pending, number: int, total: int) -> str:
    evidence = "\n".join(f"    • {e.get('text', e) if isinstance(e, dict) else e}" for e in item.evidence) or "    (không có)"
    probability = f"{item.probability:.2f}" if item.probability is not None else "—"
    return (f"\n[{number}/{total}] {TOPIC_NAMES.get(item.topic, item.topic)} — mức {item.tier}, xác suất {probability}\n"
            f"  {item.title}\n  {item.outlet_id} · {item.published_at or 'không rõ ngày'} · {item.url}\n"
            f"  Bằng chứng:\n{evidence}")


def import_verdicts_csv(store: Store, rows: Iterable[dict], reviewer: str | None) -> int:
    """Rows with article_id, topic, verdict (confirmed|rejected), optional reviewer and note.
    All rows are checked before any is written, so a bad file changes nothing."""
    checked = []
    for line, row in enumerate(rows, start=2):
        missing = [c for c in CSV_COLUMNS if not (row.get(c) or "").strip()]
        if missing:
            raise ValueError(f"line {line}: missing {', '.join(missing)}")
        who = (row.get("reviewer") or "").strip() or reviewer
        if not who:
            raise ValueError(f"line {line}: no reviewer (add a reviewer column or pass --reviewer)")
        verdict, topic = row["verdict"].strip(), row["topic"].strip()
        if verdict not in ("confirmed", "rejected"):
            raise ValueError(f"line {line}: verdict must be confirmed or rejected, not {verdict!r}")
        if topic not in TOPIC_NAMES:
            raise ValueError(f"line {line}: topic must be one of {', '.join(TOPIC_NAMES)}, not {topic!r}")
        try:
            article_id = int(row["article_id"])
        except ValueError:
            raise ValueError(f"line {line}: article_id {row['article_id']!r} is not a number") from None
        if store.db.execute("SELECT 1 FROM articles WHERE id = ?", [article_id]).fetchone() is None:
            raise ValueError(f"line {line}: no article {article_id}")
        checked.append((article_id, topic, verdict, who, (row.get("note") or "").strip() or None))
    for args in checked:
        store.add_verdict(*args)
    return len(checked)


def read_csv(handle) -> list[dict]:
    return list(csv.DictReader(handle))
