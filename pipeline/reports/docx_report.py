"""The report as a Word document for a Vietnamese office: A4 with the margins of administrative
documents (Nghị định 30/2020/NĐ-CP: left 3 cm, right 1.5 cm, top and bottom 2 cm), Times New
Roman 13, Vietnamese as the proofing language, the department as author; a heading, the
summary, the count tables, a chart and, in a landscape section, the annex of counted items."""

from __future__ import annotations

import io
from datetime import date, datetime, timezone

from pressmon.crawlers.dates import vn_date
from pressmon.pipeline.reports.chart import chart_png
from pressmon.pipeline.reports.counting import (ANNEX_HEADER, COMMUNE_NOTE, MONTH_COLUMN, SHEET_COMMUNE, SHEET_KIND,
                                                SHEET_OUTLET_MONTH, TOTAL_LABEL, annex_rows, criteria_sentence,
                                                empty_sentence, full_meta, report_title, summary_sentence,
                                                topics_of, view_tables)

LANGUAGE = "vi-VN"
SECTIONS = [(SHEET_OUTLET_MONTH, "2. Số tin, bài theo nguồn tin và tháng"),
            (SHEET_KIND, "3. Số tin, bài theo loại nguồn tin"),
            (SHEET_COMMUNE, "4. Số tin, bài theo xã, phường được nêu")]


def write_docx(items: list[dict], path, meta: dict | None = None) -> None:
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    meta = full_meta(meta)
    document = Document()
    _speak_vietnamese(document)
    normal = document.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(13)
    for name in ("Title", "Heading 1"):
        style = document.styles[name]
        style.font.name = "Times New Roman"
        style.font.size = Pt(16 if name == "Title" else 14)
        style.font.bold = True
    section = document.sections[0]
    section.orientation = WD_ORIENT.PORTRAIT
    section.page_width, section.page_height = Cm(21), Cm(29.7)
    section.left_margin, section.right_margin = Cm(3), Cm(1.5)
    section.top_margin = section.bottom_margin = Cm(2)

    heading = document.add_heading(report_title(meta), level=0)
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    note = document.add_paragraph(
        f"Số liệu lập ngày {vn_date(meta['generated_at'])} từ hệ thống giám sát báo chí pressmon.")
    note.alignment = WD_ALIGN_PARAGRAPH.CENTER

    document.add_heading("1. Kết quả chung", level=1)
    document.add_paragraph(summary_sentence(items, meta))
    document.add_paragraph(criteria_sentence(meta))

    def table(header: list[str], rows: list[list], count_from: int | None, font_size: int = 11):
        t = document.add_table(rows=1, cols=len(header))
        t.style = "Table Grid"
        for cell, text in zip(t.rows[0].cells, header):
            cell.text = ""
            cell.paragraphs[0].add_run(str(text)).bold = True
        for row in rows:
            for cell, name, value in zip(t.add_row().cells, header, row):
                cell.text = _text(value, name)
        if count_from is not None and rows:
            cells = t.add_row().cells
            cells[0].text = ""
            cells[0].paragraphs[0].add_run(TOTAL_LABEL).bold = True
            for i in range(count_from, len(header)):
                cells[i].text = ""
                cells[i].paragraphs[0].add_run(_count(sum(row[i] for row in rows))).bold = True
        for row in t.rows:
            for cell in row.cells:
                for paragraph in cell.paragraphs:
                    for run in paragraph.runs:
                        run.font.size = Pt(font_size)
        return t

    topics = topics_of(meta["topic"])
    views = view_tables(items, meta)
    for key, title in SECTIONS:
        document.add_heading(title, level=1)
        header, rows = views[key]
        if key == SHEET_OUTLET_MONTH:  # the outlet id is for machines; the name is enough here
            header, rows = header[1:], [row[1:] for row in rows]
        if not rows:
            document.add_paragraph(empty_sentence(meta))
            continue
        table(header, rows, len(header) - 1 - len(topics))
        if key == SHEET_COMMUNE:
            document.add_paragraph(COMMUNE_NOTE)

    document.add_heading("5. Biểu đồ số tin, bài theo tháng", level=1)
    if items:
        document.add_picture(io.BytesIO(chart_png(items, meta)), width=Cm(16.5))
    else:
        document.add_paragraph(empty_sentence(meta))

    annex = document.add_section()
    annex.orientation = WD_ORIENT.LANDSCAPE
    annex.page_width, annex.page_height = section.page_height, section.page_width
    annex.left_margin = annex.right_margin = Cm(1.5)
    document.add_heading("Phụ lục: Danh sách tin, bài được tính", level=1)
    if items:
        table(ANNEX_HEADER, annex_rows(items), None, font_size=9)
    else:
        document.add_paragraph(empty_sentence(meta))

    properties = document.core_properties
    properties.title = report_title(meta)
    properties.subject = "Kết quả tuyên truyền"
    properties.author = properties.last_modified_by = meta["author"]
    properties.language = LANGUAGE
    properties.comments = "Lập bởi pressmon"
    properties.revision = 1
    # Office files store these times in UTC.
    created = datetime.fromisoformat(meta["generated_at"]).astimezone(timezone.utc).replace(tzinfo=None)
    properties.created = properties.modified = created
    document.save(path)


def _speak_vietnamese(document) -> None:
    """Vietnamese as the proofing language of every run (the template's defaults say en-US)."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    defaults = document.styles.element.find(qn("w:docDefaults"))
    run_defaults = defaults.find(qn("w:rPrDefault")).find(qn("w:rPr"))
    lang = run_defaults.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        run_defaults.append(lang)
    for attribute in ("w:val", "w:eastAsia"):
        lang.set(qn(attribute), LANGUAGE)


def _text(value, column: str) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.strftime("%m/%Y") if column == MONTH_COLUMN else vn_date(value)
    if isinstance(value, int):
        return _count(value)
    return str(value)


def _count(n: int) -> str:
    """1234 → "1.234", as Vietnamese write numbers."""
    return f"{n:,}".replace(",", ".")
