"""Find the signs that an item is about a watched document without naming it.

A sign of the registry (``[[documents.signs]]`` in ``nlp/documents.toml``) is what the
document itself orders, so concretely that no earlier policy said it ("Vành đai 1" with
"xe máy" and "xăng" near it), or the document while it was drafted: an anchor with a cue of
every ``near`` group within ``window`` characters of it, matched on the folded text like
references are. An item published before the sign's ``since`` (by default the signing date)
never matches: before the document, the same words were other policy. A match makes the
item ``probable`` for the topic whatever the model says, and is its evidence (see
``TopicModel._decide`` in topics.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from pressmon.nlp.documents import DOCUMENTS
from pressmon.nlp.references import FoldedText, date_of

__all__ = ["SignMatch", "find_signs"]


@dataclass(frozen=True)
class SignMatch:
    topic: str
    label: str  # the sign as the registry names it (Vietnamese)
    start: int  # offsets in the text as given, from the anchor or cue that comes first…
    end: int  # …to the end of the one that comes last
    text: str

    def as_dict(self) -> dict:
        return {"start": self.start, "end": self.end, "text": self.text, "sign": self.label,
                "document": DOCUMENTS[self.topic].key}


def find_signs(text: str, published_at: str | None = None) -> list[SignMatch]:
    """The signs of the watched documents found in ``text``: the first match of each, in
    registry order. ``published_at`` (ISO 8601) before a sign's ``since`` rules it out."""
    if not text:
        return []
    folded = None
    published = date_of(published_at)
    found = []
    for document in DOCUMENTS.values():
        for sign in document.signs:
            if published is not None and published < sign.since:
                continue
            folded = folded or FoldedText(text)
            for anchor in sign.anchor.finditer(folded.f):
                lo = max(0, anchor.start() - sign.window)
                hi = anchor.end() + sign.window
                cues = [group.search(folded.f, lo, hi) for group in sign.near]
                if all(cues):
                    start = min([anchor.start(), *(c.start() for c in cues)])
                    end = max([anchor.end(), *(c.end() for c in cues)])
                    a, b = folded.span(start, end)
                    found.append(SignMatch(document.id, sign.label, a, b, text[a:b]))
                    break
    return found
