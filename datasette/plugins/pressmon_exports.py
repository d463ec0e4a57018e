"""Datasette plugin: exports that open right in Excel and hold every row, read once.

CSV: Excel reads a CSV file as the computer's legacy code page unless it starts with a UTF-8
byte order mark, so Vietnamese turns to mojibake. Datasette's CSV renderer writes none; an
ASGI wrapper puts the three bytes in front of the first body chunk of every successful CSV
response (paths ending in `.csv`, or `?_format=csv`). A CSV response with a Content-Length
gets it raised by 3.

Every row, read once: Datasette 0.65 streams a table's CSV (`_stream=on`) and datasette-xlsx
writes a table's XLSX by running the page's query again for every page of rows (keyset
pagination), so each page re-runs a search from the start: a search with 220,000 matches on
10^6 items would take over an hour. This plugin answers `/<db>/<table>.csv?_stream=on` and
`/<db>/<table>.xlsx` itself (a route ahead of Datasette's): Datasette builds the page's SQL —
filters, search, sort, `_col` — for a one-row page, and the plugin runs that SQL without its
LIMIT on a read-only connection of its own, in a worker thread that walks one cursor in
batches. A search exports every match, not the newest 5,000 the page shows
(pressmon_search: the request carries EXPORT_SCOPE_KEY). CSV is written as the rows come;
XLSX rows go into a write-only workbook in a temporary file, sent when complete. When the
client goes away (ASGI `http.disconnect`) the thread is told to stop and its SQL interrupted,
so an abandoned download stops costing the server within a batch. Rows come once each in the
page's order (one cursor, no page boundaries where rows could repeat or go missing).
Anything else — a CSV page without `_stream`, a canned query, `_labels` — is Datasette's.

XLSX: the datasette-xlsx plugin (pinned in pyproject.toml) still writes canned queries and SQL
results. It adds a sheet describing the export with Swedish labels; the writer below gives
the same sheet in Vietnamese, for both paths. It replaces datasette-xlsx's `_Writer` class,
which its `render_xlsx` looks up on every export: tests/test_exports.py reads the sheet, so an
upgrade that changes this fails there, not in front of staff.
"""

from __future__ import annotations

import asyncio
import csv
import datetime
import io
import re
import sqlite3
import tempfile
import threading
from urllib.parse import parse_qsl, urlencode

import datasette_xlsx
from datasette import hookimpl
from datasette.utils import tilde_decode
from datasette.views.table import TableView

BOM = b"\xef\xbb\xbf"
CSV_TYPES = (b"text/csv", b"text/plain")  # Datasette sends text/plain unless ?_dl=1
# The key pressmon_search reads: an export gets every match of a search, not the page's cap.
EXPORT_SCOPE_KEY = "pressmon_export"
# The article tables' sort key is no column a person reads: exports leave it out unless
# `_col=search_key` asks for it.
SEARCH_KEY = "search_key"
# Rows per read from the cursor; bytes per chunk sent; chunks the thread may be ahead of
# the client (so an export holds about a megabyte in memory, whatever its size).
BATCH_ROWS = 50
CHUNK_BYTES = 256 * 1024
QUEUED_CHUNKS = 4

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

# What this plugin exports itself: every row of a table or view, as CSV (streamed) or XLSX.
EXPORT_ROUTE = r"^/(?P<database>[^/]+)/(?P<table>[^/]+)\.(?P<format>csv|xlsx)$"
# Asked of Datasette for the SQL only: one row, no count, no facets.
_PAGE_ARGS = (("_size", "1"), ("_nocount", "1"), ("_nofacet", "1"), ("_nosuggest", "1"))
_DROPPED_ARGS = {"_stream", "_dl", "_size", "_nocount", "_nofacet", "_nosuggest", "_format", "_next", "_header"}
_LIMIT = re.compile(r"(?s)(?P<sql>.*) limit \d+$")


@hookimpl
def register_routes(datasette):
    return [(EXPORT_ROUTE, export)]


async def export(datasette, request, scope, receive, send):
    """A table's or view's CSV (`_stream=on`) or XLSX, every row from one cursor; any other
    request on these paths goes to Datasette's own table view."""
    fmt = request.url_vars["format"]
    args = request.args
    ours = (fmt == "xlsx" or args.get("_stream")) and not any(
        key in args for key in ("_next", "_labels", "_label", "_trace", "_shape", "sql"))
    query = await _export_query(datasette, request) if ours else None
    if query is None:
        return await TableView.as_view(datasette)(request, send)
    database, table, sql, params, columns = query
    stop = threading.Event()
    if fmt == "csv":
        work = _CsvRows(datasette, database, sql, params, columns, stop,
                        header=args.get("_header") != "off", limit_mb=datasette.setting("max_csv_mb"))
        headers = {"content-type": "text/csv; charset=utf-8" if args.get("_dl") else "text/plain; charset=utf-8"}
        if args.get("_dl"):
            headers["content-disposition"] = f'attachment; filename="{table}.csv"'
    else:
        config = datasette.plugin_config("datasette-xlsx", database=database, table=table) or {}
        info = {
            "Databas": database,
            "Tabell/vy": table,
            "URL": request.url.replace(".xlsx", "", 1),
            "Användare": (request.actor or {}).get("id"),
            "Exporterad": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
            "Datasette-version": __import__("datasette").__version__,
        }
        work = _XlsxFile(datasette, database, sql, params, columns, stop, sheet=table,
                         max_rows=int(config.get("max_rows", 1_000_000)), info=info)
        headers = {"content-type": datasette_xlsx.CONTENT_TYPE,
                   "content-disposition": datasette_xlsx._filename_header(table)}
    await _stream(work, headers, receive, send, stop)


async def _export_query(datasette, request):
    """(database, table, sql without its limit, params, columns) of the page the request
    names, as Datasette builds it for every row of a search; None for a canned query."""
    database = datasette.get_database(route=tilde_decode(request.url_vars["database"])).name
    table = tilde_decode(request.url_vars["table"])
    if await datasette.get_canned_query(database, table, request.actor):
        return None
    args = [(k, v) for k, v in parse_qsl(request.query_string, keep_blank_values=True) if k not in _DROPPED_ARGS]
    if not any(k == "_col" for k, _ in args):
        db = datasette.get_database(database)
        if SEARCH_KEY in await db.table_columns(table):
            args.append(("_nocol", SEARCH_KEY))
    scope = {**request.scope, "query_string": urlencode([*args, *_PAGE_ARGS]).encode("latin-1"),
             EXPORT_SCOPE_KEY: True}
    page = await TableView(datasette).data(type(request)(scope, request.receive))
    data = page[0] if isinstance(page, tuple) else None
    match = _LIMIT.match((data or {}).get("query", {}).get("sql") or "")
    if match is None:
        return None
    return database, table, match["sql"], data["query"]["params"], data["columns"]


async def _stream(work, headers, receive, send, stop) -> None:
    """Send what `work` produces in its thread as one response; stop it when the client
    disconnects."""
    chunks: asyncio.Queue = asyncio.Queue(QUEUED_CHUNKS)
    work.start(asyncio.get_running_loop(), chunks)
    sending = asyncio.current_task()

    async def watch_disconnect():
        while (await receive())["type"] != "http.disconnect":
            pass
        if not stop.is_set():
            work.cancel()
            sending.cancel()

    watcher = asyncio.ensure_future(watch_disconnect())
    started = False
    try:
        while True:
            try:
                chunk = await chunks.get()
            except asyncio.CancelledError:
                if stop.is_set():  # the client went away: nothing more to send
                    return
                raise
            if isinstance(chunk, BaseException):
                raise chunk
            if not started:
                size = work.content_length()
                extra = [(b"content-length", str(size).encode())] if size is not None else []
                await send({"type": "http.response.start", "status": 200,
                            "headers": [(k.encode(), v.encode()) for k, v in headers.items()] + extra})
                started = True
            if chunk is None:
                stop.set()
                await send({"type": "http.response.body", "body": b""})
                return
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
    finally:
        watcher.cancel()
        work.cancel()


class _Export:
    """One query's rows read in a thread of its own on a read-only connection, turned into
    byte chunks by `produce` and handed to the event loop through a bounded queue (so the
    thread waits for a slow client instead of reading ahead: uvicorn holds a chunk until the
    socket drains). `cancel` stops it between
    batches and interrupts a statement still running."""

    def __init__(self, datasette, database, sql, params, columns, stop: threading.Event):
        self.datasette, self.database = datasette, database
        self.sql, self.params, self.columns = sql, params, columns
        self.stop = stop
        self.rows_read = 0
        self._connection: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def start(self, loop, chunks: asyncio.Queue) -> None:
        self._loop, self._chunks = loop, chunks
        threading.Thread(target=self._run, name="pressmon-export", daemon=True).start()

    def cancel(self) -> None:
        self.stop.set()
        with self._lock:
            if self._connection is not None:
                self._connection.interrupt()

    def content_length(self) -> int | None:
        return None

    def rows(self):
        """The query's rows in batches, until done or stopped."""
        cursor = self._connection.execute(self.sql, self.params)
        while not self.stop.is_set():
            batch = cursor.fetchmany(BATCH_ROWS)
            if not batch:
                return
            self.rows_read += len(batch)
            yield batch

    def put(self, item) -> bool:
        """Hand `item` to the event loop, waiting while the queue is full; False once stopped."""
        future = asyncio.run_coroutine_threadsafe(self._chunks.put(item), self._loop)
        while True:
            try:
                future.result(timeout=0.25)
                return True
            except TimeoutError:
                if self.stop.is_set():
                    future.cancel()
                    return False

    def _run(self) -> None:
        db = self.datasette.get_database(self.database)
        connection = sqlite3.connect(f"file:{db.path}?mode=ro", uri=True, check_same_thread=False)
        # Datasette's own set-up: escape_fts and every plugin's functions.
        self.datasette._prepare_connection(connection, self.database)
        with self._lock:
            self._connection = connection
        try:
            self.produce()
            self.put(None)
        except BaseException as error:  # the event loop re-raises it, or it was a cancel
            if not self.stop.is_set():
                self.put(error)
        finally:
            with self._lock:
                self._connection = None
            connection.close()

    def produce(self) -> None:
        raise NotImplementedError


class _CsvRows(_Export):
    """CSV as Datasette writes it (header row, then the rows), sent batch by batch."""

    def __init__(self, *args, header: bool, limit_mb: int):
        super().__init__(*args)
        self.header = header
        self.limit = limit_mb * 1024 * 1024 if limit_mb else None

    def produce(self) -> None:
        text = io.StringIO()
        writer = csv.writer(text)
        if self.header:
            writer.writerow(self.columns)
        written = 0
        for batch in self.rows():
            writer.writerows(batch)
            if text.tell() < CHUNK_BYTES:
                continue
            chunk = text.getvalue().encode("utf-8")
            text.seek(0)
            text.truncate()
            written += len(chunk)
            if self.limit and written > self.limit:
                # As Datasette's own CSV stream ends past max_csv_mb.
                self.put(chunk + f"CSV contains more than {self.limit} bytes".encode())
                return
            if not self.put(chunk):
                return
        if text.tell():
            self.put(text.getvalue().encode("utf-8"))


class _XlsxFile(_Export):
    """Every row into a write-only workbook (openpyxl keeps its sheets in temporary files),
    saved to a temporary file, then sent in chunks with its length."""

    def __init__(self, *args, sheet: str, max_rows: int, info: dict):
        super().__init__(*args)
        self.sheet, self.max_rows, self.info = sheet, max_rows, info
        self.size = None

    def content_length(self) -> int | None:
        return self.size

    def produce(self) -> None:
        writer = VietnameseWriter(self.columns, self.sheet, self.max_rows)
        for batch in self.rows():
            if not all(writer.write(row) for row in batch):
                break
        if self.stop.is_set():
            return
        with tempfile.TemporaryFile() as handle:
            writer.finish_into(self.info, handle)
            self.size = handle.tell()
            handle.seek(0)
            while chunk := handle.read(CHUNK_BYTES):
                if not self.put(chunk):
                    return


def _is_csv_request(scope) -> bool:
    if scope["type"] != "http" or scope.get("method") == "HEAD":
        return False
    query = scope.get("query_string", b"")
    return scope["path"].endswith(".csv") or b"_format=csv" in query


@hookimpl
def asgi_wrapper(datasette):
    def wrap(app):
        async def export_bom(scope, receive, send):
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

        return export_bom

    return wrap


class VietnameseWriter(datasette_xlsx._Writer):
    """datasette-xlsx's writer with the export sheet in Vietnamese (the data sheets are the
    plugin's own: one Excel table per sheet, every row)."""

    def finish(self, info):
        with tempfile.TemporaryFile() as handle:
            self.finish_into(info, handle)
            handle.seek(0)
            return handle.read()

    def finish_into(self, info, handle) -> None:
        """Add the export sheet and save the workbook into the open binary file `handle`
        (a write-only workbook can only be saved to a file)."""
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
        self.wb.save(handle)


datasette_xlsx._Writer = VietnameseWriter
