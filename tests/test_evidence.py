"""WARC evidence: records written and read back byte for byte, rotation, and clear failures
for a missing or damaged file."""

from __future__ import annotations

import gzip
import hashlib
import zipfile

import pytest
from warcio.archiveiterator import ArchiveIterator

from pressmon.pipeline.reports.evidence import build_pack
from pressmon.pipeline.store.warc import EvidenceError, WarcArchive, read_payload

PAGE = "<html><body><h1>Trang mẫu</h1><p>Nội dung mẫu do dự án pressmon soạn.</p></body></html>".encode()
HEADERS = [("Content-Type", "text/html; charset=utf-8"), ("Content-Encoding", "gzip"), ("ETag", '"abc"')]


def test_a_record_reads_back_byte_for_byte(tmp_path):
    archive = WarcArchive(tmp_path / "warc")
    path, offset, digest = archive.archive("https://baogialai.com.vn/a-post1.html", 200, HEADERS, PAGE)
    second = archive.archive("https://baogialai.com.vn/b-post2.html", 200, HEADERS, PAGE + b"2")
    assert digest == hashlib.sha256(PAGE).hexdigest()
    assert read_payload(path, offset, digest) == PAGE
    assert read_payload(second[0], second[1], second[2]) == PAGE + b"2"
    with open(path, "rb") as handle:
        records = [(r.rec_headers.get_header("WARC-Target-URI"), r.http_headers.get_header("Content-Encoding"))
                   for r in ArchiveIterator(handle)]
    # the body is stored decoded, so the transfer encoding header must not claim otherwise
    assert records == [("https://baogialai.com.vn/a-post1.html", None), ("https://baogialai.com.vn/b-post2.html", None)]


def test_files_rotate_by_size(tmp_path):
    archive = WarcArchive(tmp_path / "warc", max_bytes=200)
    files = {archive.archive(f"https://x.vn/{n}", 200, HEADERS, PAGE)[0].name for n in range(3)}
    assert files == {"pressmon-00001.warc.gz", "pressmon-00002.warc.gz", "pressmon-00003.warc.gz"}


def test_missing_and_damaged_files_are_named(tmp_path):
    archive = WarcArchive(tmp_path / "warc")
    path, offset, digest = archive.archive("https://x.vn/1", 200, HEADERS, PAGE)
    with pytest.raises(EvidenceError, match="missing: .*nope.warc.gz"):
        read_payload(tmp_path / "nope.warc.gz", 0, digest)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(EvidenceError, match=f"damaged: {path}"):
        read_payload(path, offset, digest)


def test_a_wrong_hash_is_damage_not_evidence(tmp_path):
    archive = WarcArchive(tmp_path / "warc")
    path, offset, _ = archive.archive("https://x.vn/1", 200, HEADERS, PAGE)
    with pytest.raises(EvidenceError, match="does not match its SHA-256"):
        read_payload(path, offset, "0" * 64)


def test_pack_is_a_standard_warc_with_a_manifest(tmp_path):
    archive = WarcArchive(tmp_path / "warc")
    rows = []
    for n in range(3):
        path, offset, digest = archive.archive(f"https://x.vn/{n}", 200, HEADERS, PAGE + bytes([48 + n]))
        rows.append({"article_id": n, "topic": "ct20", "outlet_id": "baogialai", "published_at": "2026-03-01",
                     "url": f"https://x.vn/{n}", "warc_file": str(path.relative_to(tmp_path)), "warc_offset": offset,
                     "payload_sha256": digest})
    (tmp_path / "pack.zip").write_bytes(build_pack(rows, tmp_path))
    with zipfile.ZipFile(tmp_path / "pack.zip") as pack:
        warc = pack.read("evidence.warc.gz")
        manifest = pack.read("manifest.csv").decode().splitlines()
    assert gzip.decompress(warc).startswith(b"WARC/1")  # concatenated gzip members
    (tmp_path / "evidence.warc.gz").write_bytes(warc)
    with open(tmp_path / "evidence.warc.gz", "rb") as handle:
        hashes = [hashlib.sha256(r.content_stream().read()).hexdigest() for r in ArchiveIterator(handle)]
    assert hashes == [r["payload_sha256"] for r in rows]
    assert len(manifest) == 4 and manifest[0].startswith("article_id,topic")
