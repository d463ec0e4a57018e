"""Reports and evidence for the department's annual duty: what counts (counting.py), one writer
per format (csv_report.py, xlsx_report.py, docx_report.py, with chart.py), and the archived
pages behind the counts (evidence.py)."""

from __future__ import annotations

from pressmon.pipeline.reports.csv_report import write_csv
from pressmon.pipeline.reports.docx_report import write_docx
from pressmon.pipeline.reports.xlsx_report import write_xlsx

WRITERS = {"xlsx": write_xlsx, "docx": write_docx, "csv": write_csv}
FORMATS = tuple(WRITERS)


def write_report(fmt: str, items: list[dict], path, meta: dict | None = None) -> None:
    WRITERS[fmt](items, path, meta)
