"""Evidence behind a report, from the WARC archive beside the database: one article's page
exactly as it was fetched, or a pack (zip) of the records of every item a report counts with a
CSV manifest of their hashes."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

from pressmon.pipeline.store import read_only
from pressmon.pipeline.store.warc import EvidenceError, raw_record, read_payload

MANIFEST_HEADER = ["article_id", "topic", "outlet_id", "published_at", "url", "pack_offset", "payload_sha256"]


def article_page(db_path: str | Path, article_id: int) -> tuple[bytes, str]:
    """(the page body as fetched, its SHA-256) of one article; EvidenceError when there is no
    such article, it was never archived, or its record is missing or damaged."""
    conn = read_only(db_path)
    try:
        row = conn.execute("SELECT warc_file, warc_offset, payload_sha256 FROM articles WHERE id = ?",
                           [article_id]).fetchone()
    finally:
        conn.close()
    if row is None:
        raise EvidenceError(f"no article {article_id} in {db_path}")
    if not row["warc_file"]:
        raise EvidenceError(f"article {article_id} has no archived page (crawled before WARC archiving)")
    folder = Path(db_path).resolve().parent
    return read_payload(folder / row["warc_file"], row["warc_offset"], row["payload_sha256"]), row["payload_sha256"]


def pack_rows(db_path: str | Path, year: int, topic: str = "all") -> list[dict]:
    """The archived records of the items counted for `topic` (or all) published in `year`."""
    conn = read_only(db_path)
    try:
        return [dict(r) for r in conn.execute(
            "SELECT d.article_id, d.topic, d.outlet_id, d.published_at, d.url, a.warc_file, a.warc_offset, "
            "a.payload_sha256 FROM topic_decisions d JOIN articles a ON a.id = d.article_id "
            "WHERE d.counted = 1 AND d.published_at >= ? AND d.published_at < ? AND (? = 'all' OR d.topic = ?) "
            "AND a.warc_file IS NOT NULL ORDER BY d.published_at, d.article_id, d.topic",
            [str(year), str(year + 1), topic, topic])]
    finally:
        conn.close()


def build_pack(rows: list[dict], db_folder: Path) -> bytes:
    """A zip with `evidence.warc.gz` (the records of `rows`, concatenated: a valid WARC) and
    `manifest.csv` (one line per record: article, outlet, date, URL, topic, offset in the pack,
    payload SHA-256). Every record is checked against its hash first: damaged evidence is
    refused, not packed."""
    warc = io.BytesIO()
    manifest = io.StringIO()
    writer = csv.writer(manifest)
    writer.writerow(MANIFEST_HEADER)
    for row in rows:
        source = db_folder / row["warc_file"]
        read_payload(source, row["warc_offset"], row["payload_sha256"])
        offset = warc.tell()
        warc.write(raw_record(source, row["warc_offset"]))
        writer.writerow([row["article_id"], row["topic"], row["outlet_id"], row["published_at"], row["url"],
                         offset, row["payload_sha256"]])
    pack = io.BytesIO()
    with zipfile.ZipFile(pack, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("evidence.warc.gz", warc.getvalue())
        archive.writestr("manifest.csv", manifest.getvalue())
    return pack.getvalue()


__all__ = ["EvidenceError", "article_page", "build_pack", "pack_rows"]
