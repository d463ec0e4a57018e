"""The report as an Excel workbook: one sheet per view, header frozen, counts as numbers with a
totals row, months and days as real dates shown the Vietnamese way (03/2026, 15/03/2026), the
annex's links clickable; the department as author, Vietnamese as the document language."""

from __future__ import annotations

from datetime import date, datetime, timezone

from pressmon.pipeline.reports.counting import (ANNEX_HEADER, COMMUNE_NOTE, DAY_COLUMN, MONTH_COLUMN, SHEET_ANNEX,
                                                SHEET_COMMUNE, TOTAL_LABEL, annex_rows, empty_sentence, full_meta,
                                                report_title, topics_of, view_tables)

MONTH_FORMAT = "mm/yyyy"
DAY_FORMAT = "dd/mm/yyyy"
COUNT_FORMAT = "#,##0"
LANGUAGE = "vi-VN"


def write_xlsx(items: list[dict], path, meta: dict | None = None) -> None:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    meta = full_meta(meta)
    bold = Font(bold=True)
    header_fill = PatternFill("solid", fgColor="DDEBF7")
    workbook = Workbook()
    workbook.remove(workbook.active)

    def sheet(title: str, header: list[str], rows: list[list], count_from: int | None,
              note: str | None = None, widths: dict[int, int] | None = None):
        ws = workbook.create_sheet(title)
        ws.append(header)
        for cell in ws[1]:
            cell.font = bold
            cell.fill = header_fill
            cell.alignment = Alignment(wrap_text=True, vertical="center")
        for row in rows:
            ws.append(row)
        formats = {MONTH_COLUMN: MONTH_FORMAT, DAY_COLUMN: DAY_FORMAT}
        for index, name in enumerate(header, start=1):
            number_format = formats.get(name) or (COUNT_FORMAT if count_from is not None and index > count_from
                                                  else None)
            if number_format:
                for (cell,) in ws.iter_rows(min_row=2, max_row=len(rows) + 1, min_col=index, max_col=index):
                    cell.number_format = number_format
        if not rows:
            ws.append([empty_sentence(meta)])
        if count_from is not None:
            total = [TOTAL_LABEL] + [None] * (count_from - 1)
            total += [sum(row[i] for row in rows) for i in range(count_from, len(header))]
            ws.append(total)
            for cell in ws[ws.max_row]:
                cell.font = bold
                if isinstance(cell.value, int):
                    cell.number_format = COUNT_FORMAT
        if note:
            ws.append([note])
        ws.freeze_panes = "A2"
        for index, name in enumerate(header, start=1):
            values = [name] + [_shown(row[index - 1]) for row in rows]
            width = max(len(str(v)) for v in values if v is not None) + 2
            ws.column_dimensions[get_column_letter(index)].width = (widths or {}).get(index, min(max(width, 8), 60))
        return ws

    for title, (header, rows) in view_tables(items, meta).items():
        count_from = header.index(TOTAL_LABEL) - len(topics_of(meta["topic"]))
        sheet(title, header, rows, count_from, COMMUNE_NOTE if title == SHEET_COMMUNE and rows else None)
    annex = sheet(SHEET_ANNEX, ANNEX_HEADER, annex_rows(items), None, widths={4: 60, 5: 50, 9: 66})
    for row in annex.iter_rows(min_row=2, min_col=5, max_col=5):
        cell = row[0]
        if isinstance(cell.value, str) and cell.value.startswith(("http://", "https://")):
            cell.hyperlink = cell.value
            cell.style = "Hyperlink"
    # Office files store these times in UTC.
    created = datetime.fromisoformat(meta["generated_at"]).astimezone(timezone.utc).replace(tzinfo=None)
    properties = workbook.properties
    properties.title = report_title(meta)
    properties.creator = properties.lastModifiedBy = meta["author"]
    properties.created = properties.modified = created
    properties.language = LANGUAGE
    workbook.save(path)


def _shown(value) -> str | None:
    """How wide a value is on screen: a month shows as 03/2026, a day as 15/03/2026."""
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return value
