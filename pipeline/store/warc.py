"""Evidence that outlives the page: every fetched article response archived as WARC.
(Exporting it, one page or a pack for a report, is reports/evidence.py.)

Each article row keeps `warc_file` (relative to the database's folder), `warc_offset` and
`payload_sha256` (SHA-256 of the response body as archived, i.e. after HTTP content decoding).
Records are gzip members, so a single record can be read at its offset and a set of records
concatenated is itself a valid `.warc.gz`, readable with standard WARC tools.
"""

from __future__ import annotations

import hashlib
import io
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
