"""Evidence that outlives the page: every fetched article response archived as WARC.
(Exporting it, one page or a pack for a report, is reports/evidence.py.)

Each article row keeps `warc_file` (relative to the database's folder), `warc_offset` and
`payload_sha256` (SHA-256 of the response body as archived, i.e. after HTTP content decoding).
Records are gzip members, so a single record can be read at its offset and a set of records
concatenated is itself a valid `.warc.gz`, readable with standard WARC tools.

`check_archive` sorts every record by what points at it, so that records of pages that were
archived and never committed (a crawl killed in between) are counted, not silently kept.
"""

from __future__ import annotations

import hashlib
import io
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

DEFAULT_MAX_BYTES = 100 * 1024 * 1024
# Scrapy hands us the decoded body: headers that describe the transfer no longer apply.
TRANSFER_HEADERS = {"content-encoding", "transfer-encoding", "content-length"}


class EvidenceError(Exception):
    """A WARC file is missing or damaged: the message names it."""


class WarcArchive:
    """Appends response records to `<folder>/<prefix>-NNNNN.warc.gz`, starting a new file
    when the current one passes `max_bytes`."""

    def __init__(self, folder: str | Path, prefix: str = "pressmon", max_bytes: int = DEFAULT_MAX_BYTES):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.prefix, self.max_bytes = prefix, max_bytes

    def _current_file(self) -> Path:
        existing = sorted(self.folder.glob(f"{self.prefix}-*.warc.gz"))
        if existing and existing[-1].stat().st_size < self.max_bytes:
            return existing[-1]
        number = int(existing[-1].name.split("-")[-1].split(".")[0]) + 1 if existing else 1
        return self.folder / f"{self.prefix}-{number:05d}.warc.gz"

    def archive(self, url: str, status: int, headers: list[tuple[str, str]], body: bytes,
                fetched_at: datetime | None = None) -> tuple[Path, int, str]:
        """Write one response record; return (file, offset, payload SHA-256)."""
        path = self._current_file()
        kept = [(k, v) for k, v in headers if k.lower() not in TRANSFER_HEADERS]
        kept.append(("Content-Length", str(len(body))))
        http_headers = StatusAndHeaders(f"{status} {'OK' if status == 200 else ''}".strip(), kept,
                                        protocol="HTTP/1.1")
        with open(path, "ab") as handle:
            offset = handle.tell()
            writer = WARCWriter(handle, gzip=True)
            warc_headers = {"WARC-Date": (fetched_at or datetime.utcnow()).strftime("%Y-%m-%dT%H:%M:%SZ")}
            record = writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                               http_headers=http_headers,
                                               warc_headers_dict=warc_headers)
            writer.write_record(record)
            handle.flush()
        return path, offset, hashlib.sha256(body).hexdigest()


def read_payload(warc_path: str | Path, offset: int, expected_sha256: str | None = None) -> bytes:
    """The archived response body of the record at `offset`, checked against its hash."""
    warc_path = Path(warc_path)
    if not warc_path.is_file():
        raise EvidenceError(f"WARC file missing: {warc_path}")
    try:
        with open(warc_path, "rb") as handle:
            handle.seek(offset)
            record = next(iter(ArchiveIterator(handle)))
            body = record.content_stream().read()
    except Exception as exc:  # zlib, warcio and I/O each raise their own kind for a corrupt member
        raise EvidenceError(f"WARC file damaged: {warc_path} (record at {offset}: {exc})") from exc
    if expected_sha256 and hashlib.sha256(body).hexdigest() != expected_sha256:
        raise EvidenceError(f"WARC file damaged: {warc_path} (record at {offset} does not match its SHA-256)")
    return body


def raw_record(warc_path: Path, offset: int) -> bytes:
    """The record's bytes as stored (one gzip member), for packing into another WARC."""
    with open(warc_path, "rb") as handle:
        handle.seek(offset)
        iterator = ArchiveIterator(handle)
        next(iter(iterator))
        length = iterator.get_record_length()
        handle.seek(offset)
        return handle.read(length)


# Checking an archive against the database ------------------------------------------------

CHUNK = 1 << 16
GZIP_MAGIC = b"\x1f\x8b\x08"
TARGET_URI = re.compile(rb"^WARC-Target-URI: *(\S+)\r?$", re.MULTILINE)


@dataclass
class ArchiveCheck:
    """Every record of the archive, sorted by what points at it. A record no article points
    at is one of: a copy (its URL is a stored article or alias: an unchanged page fetched
    again, or a page whose crawl was killed and refetched later), recorded (the page has a
    crawl_errors row: it failed after it was archived), or untraced (nothing in the database
    knows the page: the crawl died between archiving and the commit, and never came back to
    it). `damaged` are parts of files that are not whole records (a write cut by a kill)."""
    records: int = 0
    referenced: int = 0
    copies: list[tuple[str, int, str]] = field(default_factory=list)
    recorded: list[tuple[str, int, str]] = field(default_factory=list)
    untraced: list[tuple[str, int, str]] = field(default_factory=list)
    damaged: list[tuple[str, int, str]] = field(default_factory=list)

    @property
    def unreferenced(self) -> int:
        return len(self.copies) + len(self.recorded) + len(self.untraced)


def scan_members(path: str | Path) -> Iterator[tuple[int, str | None, str | None]]:
    """(offset, target URL, problem) of each gzip member of a `.warc.gz`; `problem` is None
    for a whole record. A damaged member is skipped by looking for the next gzip header."""
    with open(path, "rb") as handle:
        offset, pending = 0, b""
        while True:
            if not pending:
                pending = handle.read(CHUNK)
                if not pending:
                    return
            start, head = offset, b""
            inflater = zlib.decompressobj(31)
            try:
                while True:
                    out = inflater.decompress(pending)
                    head = (head + out[:4096])[:4096]
                    if inflater.eof:
                        offset += len(pending) - len(inflater.unused_data)
                        pending = inflater.unused_data
                        found = TARGET_URI.search(head)
                        yield start, found.group(1).decode("utf-8", "replace") if found else None, None
                        break
                    offset += len(pending)
                    pending = handle.read(CHUNK)
                    if not pending:
                        yield start, None, f"cut short after {offset - start} bytes (a write interrupted)"
                        return
            except zlib.error as exc:
                yield start, None, f"not a whole gzip member ({exc})"
                offset, pending = _next_member(handle, start + 1), b""
                if offset is None:
                    return
                handle.seek(offset)


def _next_member(handle, position: int) -> int | None:
    handle.seek(position)
    tail = b""
    while chunk := handle.read(CHUNK):
        data = tail + chunk
        found = data.find(GZIP_MAGIC)
        if found >= 0:
            return position - len(tail) + found
        position += len(chunk)
        tail = data[-(len(GZIP_MAGIC) - 1):]
    return None


def check_archive(db_path: str | Path, warc_dir: str | Path | None = None) -> ArchiveCheck:
    """Compare every record in the archive beside `db_path` (or in `warc_dir`) with the
    articles, aliases and crawl errors of the database (read-only)."""
    from pressmon.crawlers.urls import canonical_url
    from pressmon.pipeline.store.checks import read_only

    db_path = Path(db_path)
    folder = db_path.resolve().parent
    conn = read_only(db_path)
    try:
        pointed = {(str((folder / row[0]).resolve()), row[1]) for row in conn.execute(
            "SELECT warc_file, warc_offset FROM articles WHERE warc_file IS NOT NULL")}
        stored = {row[0] for row in conn.execute("SELECT url FROM articles UNION SELECT url FROM article_aliases")}
        errors = {row[0] for row in conn.execute("SELECT url FROM crawl_errors WHERE url IS NOT NULL")}
    finally:
        conn.close()
    files = set(Path(warc_dir or db_path.with_suffix(".warc")).resolve().glob("*.warc.gz"))
    files |= {Path(path) for path, _ in pointed}
    check = ArchiveCheck()
    for path in sorted(p for p in files if p.is_file()):
        for offset, url, problem in scan_members(path):
            if problem:
                check.damaged.append((str(path), offset, problem))
                continue
            check.records += 1
            if (str(path), offset) in pointed:
                check.referenced += 1
                continue
            try:
                key = canonical_url(url) if url else None
            except ValueError:
                key = url
            if key in stored or url in stored:
                check.copies.append((str(path), offset, url))
            elif key in errors or url in errors:
                check.recorded.append((str(path), offset, url))
            else:
                check.untraced.append((str(path), offset, url))
    return check
