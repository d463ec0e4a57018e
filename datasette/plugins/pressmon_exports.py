"""Datasette plugin: exports that open right in Excel.

CSV: Excel reads a CSV file as the computer's legacy code page unless it starts with a UTF-8
byte order mark, so Vietnamese turns to mojibake. Datasette's CSV renderer writes none; an
ASGI wrapper puts the three bytes in front of the first body chunk of every successful CSV
response (paths ending in `.csv`, or `?_format=csv`), so streaming (`_stream=on`, every row of
a table, sent as it is read) is kept. A CSV response with a Content-Length gets it raised by 3.

Every row, in any order: Datasette 0.65 pages a sorted table by keyset (sort value, primary
key), but orders the first page by the sort column alone, so rows that share a sort value
(articles published the same minute) come in another order on the first page than the next
pages expect: at a page boundary some repeat and others are lost. A streamed CSV and an XLSX
export walk those pages, so for a table (not a view: views page by offset) the wrapper
orders them by the primary key instead, which is unique; the spreadsheet can sort them again.

XLSX: the datasette-xlsx plugin (pinned in pyproject.toml) writes every row of a table, view,
search or query. It adds a sheet describing the export with Swedish labels; the writer below
gives the same sheet in Vietnamese. It replaces datasette-xlsx's `_Writer` class, which its
`render_xlsx` looks up on every export: tests/test_exports.py reads the sheet, so an upgrade
that changes this fails there, not in front of staff.
"""

from __future__ import annotations

import re
import tempfile
from urllib.parse import parse_qsl, urlencode

import datasette_xlsx
from datasette import hookimpl
from datasette.utils import tilde_decode

BOM = b"\xef\xbb\xbf"
CSV_TYPES = (b"text/csv", b"text/plain")  # Datasette sends text/plain unless ?_dl=1

# datasette-xlsx's own labels of the export sheet → Vietnamese.
SHEET_TITLE = "Thông tin xuất dữ liệu"
LABELS = {
    "Databas": "Cơ sở dữ liệu",
    "Tabell/vy": "Bảng hoặc khung nhìn",
    "Sparad fråga": "Truy vấn",
    "SQL": "SQL",
    "URL": "Địa chỉ",
    "Användare": "Người xuất",
    "Exporterad": "Thời điểm xuất",
    "Datasette-version": "Phiên bản Datasette",
}


_EXPORT_PATH = re.compile(r"^/(?P<database>[^/]+)/(?P<table>[^/]+)\.(?P<format>csv|xlsx)$")


async def _paged_by_primary_key(datasette, scope) -> dict:
    """`scope` with a sorted table's export (every page of it) ordered by its primary key."""
    match = _EXPORT_PATH.match(scope["path"])
    if not match:
        return scope
    args = parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
    keys = {key for key, _ in args}
    if "_next" in keys or (match["format"] == "csv" and "_stream" not in keys):
        return scope  # one page: no boundary to cross
    try:
        db = datasette.get_database(tilde_decode(match["database"]))
    except KeyError:
        return scope
    table = tilde_decode(match["table"])
    if table not in await db.table_names():
        return scope
    pks = await db.primary_keys(table)
    if len(pks) != 1:
        return scope
    args = [(key, value) for key, value in args if key not in ("_sort", "_sort_desc")] + [("_sort", pks[0])]
    return {**scope, "query_string": urlencode(args).encode("latin-1")}


def _is_csv_request(scope) -> bool:
    if scope["type"] != "http" or scope.get("method") == "HEAD":
        return False
    query = scope.get("query_string", b"")
    return scope["path"].endswith(".csv") or b"_format=csv" in query


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def export(scope, receive, send):
            if scope["type"] == "http" and scope["path"].endswith((".csv", ".xlsx")):
                scope = await _paged_by_primary_key(datasette, scope)
            if not _is_csv_request(scope):
                return await app(scope, receive, send)
            state = {"csv": False, "pending": True}

            async def send_with_bom(message):
                if message["type"] == "http.response.start":
                    headers = list(message.get("headers") or [])
                    content_type = next((v for k, v in headers if k.lower() == b"content-type"), b"")
                    state["csv"] = message["status"] == 200 and content_type.lower().startswith(CSV_TYPES)
                    if state["csv"]:
                        headers = [(k, str(int(v) + len(BOM)).encode() if k.lower() == b"content-length" else v)
                                   for k, v in headers]
                        message = {**message, "headers": headers}
                elif message["type"] == "http.response.body" and state["csv"] and state["pending"]:
                    state["pending"] = False
                    message = {**message, "body": BOM + message.get("body", b"")}
                await send(message)

            return await app(scope, receive, send_with_bom)

        return export

    return wrap


class VietnameseWriter(datasette_xlsx._Writer):
    """datasette-xlsx's writer with the export sheet in Vietnamese (the data sheets are the
    plugin's own: one Excel table per sheet, every row)."""

    def finish(self, info):
        self._flush()
        self._close_table()
        sheet = self.wb.create_sheet(SHEET_TITLE)
        rows = {LABELS.get(key, key): value for key, value in info.items()}
        rows["Số dòng"] = self.rows
        rows["Số trang tính có dữ liệu"] = self.sheets
        if self.hit_limit:
            rows["Lưu ý"] = f"Dừng ở giới hạn {self.max_rows} dòng (max_rows): tệp không đủ mọi dòng"
        if self.truncated_cells:
            rows["Ô bị cắt bớt"] = (f"{self.truncated_cells} ô (Excel cho tối đa "
                                    f"{datasette_xlsx.EXCEL_MAX_CELL} ký tự một ô)")
        rows = [(key, value) for key, value in rows.items() if value not in (None, "")]
        datasette_xlsx._set_widths(sheet, datasette_xlsx._column_widths(["", ""], rows, max_width=100))
        for key, value in rows:
            sheet.append([key, self._cell(value)])
        return _save(self.wb)


def _save(workbook) -> bytes:
    # As datasette-xlsx saves: a write-only workbook can only be saved to a file.
    with tempfile.TemporaryFile() as handle:
        workbook.save(handle)
        handle.seek(0)
        return handle.read()


datasette_xlsx._Writer = VietnameseWriter
