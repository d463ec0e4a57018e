"""Time a search of the article list and the export of every match, on a served database.

    python benchmarks/search_export.py --db /tmp/large.db [--requests 30] [--pressmon PATH]

Starts `pressmon serve --public` on 127.0.0.1 (the `pressmon` beside this Python, or
`--pressmon`, e.g. another checkout's, for a before/after comparison) and measures:

- search pages of the article list: common words, rare words, common words with the outlet
  facet, common words typed with diacritics, and the second page of the common search,
  `--requests` times each after one untimed request (p50/p95 wall-clock ms, statuses);
- the export of every match of the common search as CSV (`_stream=on`) and as XLSX: wall
  time, rows and bytes received (a client timeout of `--export-timeout` s ends an export
  early; the table then says how far it got);
- a client abandoning the CSV export after its first MiB: the CPU time the server process
  uses in the 5 s after the connection is closed (100 % = one core busy all along).

Prints a markdown table. The database name in URLs is the file's stem.
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import socket
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent))
from site_at_scale import article_count, get, percentile, serving  # noqa: E402

COMMON = "o nhiem moi truong"
RARE = "dak doa"
TYPED = "ô nhiễm môi trường"
ABANDON_AFTER = 1024 * 1024
CPU_WINDOW = 5.0


def search_pages(name: str) -> list[tuple[str, str]]:
    table = f"/{name}/article_list"
    return [
        (f"search, common words (`{COMMON}`)", f"{table}?" + urlencode({"_search": COMMON})),
        (f"search, rare words (`{RARE}`)", f"{table}?" + urlencode({"_search": RARE})),
        ("search + outlet facet", f"{table}?" + urlencode({"_search": COMMON, "_facet": "outlet_id"})),
        (f"search typed with diacritics (`{TYPED}`)", f"{table}?" + urlencode({"_search": TYPED})),
    ]


def export_paths(name: str) -> list[tuple[str, str]]:
    table = f"/{name}/article_list"
    return [
        ("export every match, CSV", f"{table}.csv?" + urlencode({"_search": COMMON, "_stream": "on", "_dl": "1"})),
        ("export every match, XLSX", f"{table}.xlsx?" + urlencode({"_search": COMMON})),
    ]


def timed_export(port: int, path: str, timeout: float) -> tuple[str, float, int, int | None]:
    """(status, seconds, bytes, CSV data rows or None) of one export read to the end, or
    until `timeout` seconds have passed."""
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode())
        connection.settimeout(5)
        received = bytearray()
        while time.perf_counter() - started < timeout:
            try:
                chunk = connection.recv(1 << 20)
            except TimeoutError:
                continue
            if not chunk:
                break
            received += chunk
        else:
            return "client timeout", time.perf_counter() - started, len(received), None
    seconds = time.perf_counter() - started
    head, _, body = bytes(received).partition(b"\r\n\r\n")
    status = head.split(b" ", 2)[1].decode()
    if b"transfer-encoding: chunked" in head.lower():
        body = dechunk(body)
    rows = None
    if path.split("?")[0].endswith(".csv"):
        rows = sum(1 for _ in csv.reader(io.StringIO(body.decode("utf-8-sig")))) - 1
    return status, seconds, len(body), rows


def dechunk(body: bytes) -> bytes:
    out, position = bytearray(), 0
    while True:
        end = body.index(b"\r\n", position)
        size = int(body[position:end].split(b";")[0], 16)
        if size == 0:
            return bytes(out)
        out += body[end + 2:end + 2 + size]
        position = end + 2 + size + 2


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (all its threads), in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def abandoned_export(port: int, pid: int, path: str) -> tuple[float, float]:
    """(server CPU % in the CPU_WINDOW seconds after the client closed, CPU % in the window
    before it closed) for a client that reads the first ABANDON_AFTER bytes and goes away."""
    with socket.create_connection(("127.0.0.1", port)) as connection:
        connection.sendall(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode())
        started, cpu_started = time.perf_counter(), cpu_seconds(pid)
        received = 0
        while received < ABANDON_AFTER:
            chunk = connection.recv(65536)
            if not chunk:
                break
            received += len(chunk)
        reading = max(time.perf_counter() - started, 1e-9)
        before = (cpu_seconds(pid) - cpu_started) / reading * 100
    closed, cpu_closed = time.perf_counter(), cpu_seconds(pid)
    time.sleep(CPU_WINDOW)
    after = (cpu_seconds(pid) - cpu_closed) / (time.perf_counter() - closed) * 100
    return after, before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--pressmon", type=Path, default=Path(sys.executable).with_name("pressmon"),
                        help="the pressmon command to serve with (default: this Python's)")
    parser.add_argument("--timeout", type=float, default=120.0, help="client timeout per page, s")
    parser.add_argument("--export-timeout", type=float, default=600.0, help="client timeout per export, s")
    args = parser.parse_args()
    db = args.db.resolve()
    if not db.exists():
        raise SystemExit(f"no database {db}")
    rows = []
    with serving(db, args.pressmon, "search_export", start_timeout=600) as (port, process):
        for label, path in search_pages(db.stem):
            get(port, path, args.timeout)
            times, statuses = [], Counter()
            for _ in range(args.requests):
                try:
                    status, _, seconds = get(port, path, args.timeout)
                except TimeoutError:
                    status, seconds = "client timeout", args.timeout
                times.append(seconds * 1000)
                statuses[status] += 1
            status_text = ", ".join(f"{s}×{n}" if len(statuses) > 1 else str(s) for s, n in statuses.items())
            rows.append((label, f"p50 {percentile(times, 0.5):,.0f} ms, p95 {percentile(times, 0.95):,.0f} ms",
                         status_text))
            print(f"  {label}: {rows[-1][1]}, {status_text}", file=sys.stderr, flush=True)
        for label, path in export_paths(db.stem):
            status, seconds, size, count = timed_export(port, path, args.export_timeout)
            what = f"{seconds:,.1f} s, {size / 1e6:,.1f} MB" + (f", {count:,} rows" if count is not None else "")
            rows.append((label, what, status))
            print(f"  {label}: {what}, {status}", file=sys.stderr, flush=True)
        after, before = abandoned_export(port, process.pid, export_paths(db.stem)[0][1])
        rows.append(("CSV export abandoned after 1 MiB: server CPU in the 5 s after",
                     f"{after:,.0f} % of a core (while streaming: {before:,.0f} %)", ""))
        print(f"  {rows[-1][0]}: {rows[-1][1]}", file=sys.stderr, flush=True)
    count = article_count(db)
    print(f"\n{db.name}: {count:,} articles, {db.stat().st_size / 1e6:,.0f} MB; served by {args.pressmon}; "
          f"{args.requests} requests per page after 1 untimed\n")
    print("| request | figure | status |")
    print("|---|---|---|")
    for label, figure, status in rows:
        print(f"| {label} | {figure} | {status} |")


if __name__ == "__main__":
    main()
