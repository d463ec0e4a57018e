"""The documents pressmon watches, and the words a decision about them uses: one home for the
topic ids and their Vietnamese labels, the tiers and the staff verdicts.

Light on purpose (no model, no numpy): the CLI's choices, the reports, the review and the
Datasette plugin all read it.
"""

from __future__ import annotations

# Topic id → the document's full Vietnamese name, as a report writes it.
DOCUMENT_LABELS = {
    "qd1894": "Quyết định số 1894/QĐ-TTg",
    "ct20": "Chỉ thị số 20/CT-TTg",
}
# Topic id → the short form for tables, facets and tabs.
DOCUMENT_SHORT_LABELS = {
    "qd1894": "QĐ 1894",
    "ct20": "CT 20",
}
TOPICS = tuple(DOCUMENT_LABELS)

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
