"""The report's chart: items per month per document, Vietnamese labels, as PNG bytes (the DOCX
embeds it; the site draws the same counts with its dashboard)."""

from __future__ import annotations

import io

from pressmon.crawlers.dates import vn_month
from pressmon.nlp.documents import DOCUMENT_LABELS
from pressmon.pipeline.reports.counting import full_meta, months, period_label, summaries, topics_of


def chart_png(items: list[dict], meta: dict | None = None) -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    meta = full_meta(meta)
    topics = topics_of(meta["topic"])
    shown = months(items, meta)
    by_month = summaries(items)["totals"]["by_month"]
    figure = Figure(figsize=(8, 3.8), dpi=150)
    axes = figure.subplots()
    width = 0.8 / len(topics)
    for n, topic in enumerate(topics):
        xs = [i + (n - (len(topics) - 1) / 2) * width for i in range(len(shown))]
        axes.bar(xs, [by_month.get(m, {}).get(topic, 0) for m in shown], width, label=DOCUMENT_LABELS[topic])
    axes.set_xticks(range(len(shown)), [vn_month(m) for m in shown],
                    rotation=45 if len(shown) > 6 else 0, ha="right" if len(shown) > 6 else "center")
    axes.set_xlabel("Tháng")
    axes.set_ylabel("Số tin, bài")
    axes.set_title(f"Số tin, bài tuyên truyền theo tháng và văn bản, {period_label(meta)}")
    axes.yaxis.get_major_locator().set_params(integer=True)
    axes.legend()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()
