"""The documents pressmon watches, read from their registry (`documents.toml` beside this file,
or the file `$PRESSMON_DOCUMENTS` names), and the words a decision about them uses.

One home for the topic ids, the documents' numbers, titles and look-alike rules (read by the
reference resolver), their Vietnamese labels (reports, the CLI, the review, the site), the tiers
and the staff verdicts. Light on purpose (no model, no numpy). The registry is read once, when
this module is imported: a process sees one set of documents.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from datetime import date
from pathlib import Path

REGISTRY_PATH = Path(__file__).with_name("documents.toml")
KINDS = ("Quyết định", "Chỉ thị", "Kế hoạch", "Nghị quyết", "Thông tư", "Nghị định", "Chương trình")
ROLES = ("document", "implementing", "related")


class DocumentsError(ValueError):
    """The registry cannot be read; the message names the entry and the field."""


@dataclass(frozen=True)
class Code:
    """A document named by kind, number and issuer code (an implementing or related one), a
    programme by its code (the key, "KC.06/21-30"), or a plan named by what it carries out."""

    key: str
    kind: str
    number: int | None = None
    issuer: str | None = None
    signed_on: date | None = None
    approved_by: Code | None = None
    province: str | None = None  # a plan of this province (not of a commune, not of another)


@dataclass(frozen=True)
class Sign:
    """Words that show an item is about the document without naming it (what the document
    orders, or the document while it was drafted): an ``anchor`` with a cue of every
    ``near`` group within ``window`` characters of it, in an item published on or after
    ``since`` (or undated)."""

    label: str
    anchor: re.Pattern
    near: tuple[re.Pattern, ...]
    window: int
    since: date


@dataclass(frozen=True)
class Document:
    id: str
    label: str
    short_label: str
    kind: str
    number: int
    issuer: str
    signed_on: date
    signer: str
    subject: str
    titles: tuple[re.Pattern, ...]
    title_kind: str
    subject_words: re.Pattern | None
    short_form_context: re.Pattern | None
    lookalike_context: re.Pattern | None
    plans_count: bool
    implementing: tuple[Code, ...]
    related: tuple[Code, ...]
    signs: tuple[Sign, ...] = ()

    @property
    def key(self) -> str:
        """The document as references name it: "1894/QĐ-TTg"."""
        return f"{self.number}/{self.issuer}"

    def as_dict(self) -> dict:
        """What `pressmon documents --json` prints."""
        return {"id": self.id, "number": self.key, "kind": self.kind, "title": self.subject, "label": self.label,
                "short_label": self.short_label, "signed_on": self.signed_on.isoformat(), "signer": self.signer,
                "implementing": [c.key for c in self.implementing], "related": [c.key for c in self.related],
                "signs": [s.label for s in self.signs]}


def _patterns(entry: dict, name: str, where: str) -> tuple[re.Pattern, ...]:
    values = entry.get(name) or []
    if isinstance(values, str):
        values = [values]
    try:
        return tuple(re.compile(rf"(?<![a-z0-9]){p}") for p in values)
    except re.error as exc:
        raise DocumentsError(f"{where}: {name}: {exc}") from None


def _alternation(patterns: tuple[re.Pattern, ...]) -> re.Pattern | None:
    return re.compile("|".join(f"(?:{p.pattern})" for p in patterns)) if patterns else None


def _sign(entry: dict, where: str, signed_on: date) -> Sign:
    anchor = _alternation(_patterns(entry, "anchor", where))
    groups = entry.get("near") or []
    if not entry.get("label") or anchor is None or not isinstance(groups, list):
        raise DocumentsError(f"{where}: needs a label, anchor patterns and near (a list of pattern lists)")
    near = tuple(_alternation(_patterns({"near": g}, "near", where)) for g in groups)
    if any(p is None for p in near):
        raise DocumentsError(f"{where}: near: every group needs at least one pattern")
    window = entry.get("window", 300)
    if not isinstance(window, int) or window <= 0:
        raise DocumentsError(f"{where}: window must be a positive number of characters")
    since = entry.get("since", signed_on)
    if not isinstance(since, date):
        raise DocumentsError(f"{where}: since must be a date, like 2025-07-12")
    return Sign(label=entry["label"], anchor=anchor, near=near, window=window, since=since)


def _code(entry: dict, where: str) -> Code:
    if not entry.get("key") or entry.get("kind") not in KINDS:
        raise DocumentsError(f"{where}: needs a key and a kind (one of {', '.join(KINDS)})")
    approved = entry.get("approved_by")
    return Code(key=entry["key"], kind=entry["kind"], number=entry.get("number"), issuer=entry.get("issuer"),
                signed_on=entry.get("signed_on"),
                approved_by=_code({"key": entry["key"], "kind": "Quyết định", **approved}, where) if approved else None,
                province=entry.get("province"))


def _document(entry: dict, n: int) -> Document:
    where = f"documents[{n}] ({entry.get('id', '?')})"
    missing = [k for k in ("id", "label", "short_label", "kind", "number", "issuer", "signed_on", "signer", "subject")
               if k not in entry]
    if missing:
        raise DocumentsError(f"{where}: missing {', '.join(missing)}")
    if entry["kind"] not in KINDS:
        raise DocumentsError(f"{where}: kind {entry['kind']!r} is not one of {', '.join(KINDS)}")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", entry["id"]):
        raise DocumentsError(f"{where}: id must be lower-case letters and digits, like qd1894")
    if not isinstance(entry["signed_on"], date):
        raise DocumentsError(f"{where}: signed_on must be a date, like 2025-09-04")
    return Document(
        id=entry["id"], label=entry["label"], short_label=entry["short_label"], kind=entry["kind"],
        number=int(entry["number"]), issuer=entry["issuer"], signed_on=entry["signed_on"], signer=entry["signer"],
        subject=entry["subject"], titles=_patterns(entry, "title", where),
        title_kind=entry.get("title_kind", entry["kind"]),
        subject_words=_alternation(_patterns(entry, "subject_words", where)),
        short_form_context=_alternation(_patterns(entry, "short_form_context", where)),
        lookalike_context=_alternation(_patterns(entry, "lookalike_context", where)),
        plans_count=bool(entry.get("plans_count", False)),
        implementing=tuple(_code(c, f"{where} implementing") for c in entry.get("implementing", [])),
        related=tuple(_code(c, f"{where} related") for c in entry.get("related", [])),
        signs=tuple(_sign(m, f"{where} signs[{i}]", entry["signed_on"]) for i, m in enumerate(entry.get("signs", []))))


def load_documents(path: str | Path | None = None) -> dict[str, Document]:
    """id → Document, in the registry's order."""
    path = Path(path or os.environ.get("PRESSMON_DOCUMENTS") or REGISTRY_PATH)
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DocumentsError(f"{path}: {exc}") from None
    documents = [_document(entry, n) for n, entry in enumerate(data.get("documents", []))]
    if not documents:
        raise DocumentsError(f"{path}: no [[documents]]")
    ids = [d.id for d in documents]
    keys = [c.key for d in documents for c in (d, *d.implementing, *d.related)]
    for name, values in (("id", ids), ("key", keys)):
        repeated = sorted({v for v in values if values.count(v) > 1})
        if repeated:
            raise DocumentsError(f"{path}: the same {name} twice: {', '.join(repeated)}")
    return {d.id: d for d in documents}


DOCUMENTS = load_documents()
TOPICS = tuple(DOCUMENTS)
# Topic id → the document's full Vietnamese name, as a report writes it.
DOCUMENT_LABELS = {d.id: d.label for d in DOCUMENTS.values()}
# Topic id → the short form for tables, facets and tabs.
DOCUMENT_SHORT_LABELS = {d.id: d.short_label for d in DOCUMENTS.values()}

# What the topic decision says of an item and a document.
TIER_LABELS = {
    "cited": "Trích dẫn",
    "probable": "Có khả năng",
    "none": "Không",
}
TIERS = tuple(TIER_LABELS)

# What a person says of a decision; it always overrides the model.
VERDICT_LABELS = {
    "confirmed": "Đã xác nhận",
    "rejected": "Đã bác bỏ",
}
VERDICTS = tuple(VERDICT_LABELS)
