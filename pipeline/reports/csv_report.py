"""The report as CSV: the long form, one row per outlet, month and document with at least one
counted item, for analysts who pivot it themselves."""

from __future__ import annotations

import csv

from pressmon.pipeline.reports.counting import summaries

CSV_HEADER = ("outlet_id", "outlet_kind", "month", "topic", "items")


def write_csv(items: list[dict], path, meta: dict | None = None) -> None:
    with open(path, "w", encoding="utf-8", newline="") as file:
        writer = csv.writer(file, lineterminator="\n")
        writer.writerow(CSV_HEADER)
        for row in summaries(items)["by_outlet_month"]:
            writer.writerow([row["outlet_id"], row["outlet_kind"] or "", row["month"],
                             row["topic"], row["items"]])
