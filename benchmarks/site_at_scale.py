"""Serve a (large) pressmon database with `pressmon serve --public` and time the site's pages.

    python benchmarks/site_at_scale.py --db /tmp/large.db [--requests 30] [--warmup 1] [--only TEXT]

Starts `pressmon serve --public --port <free port>` on 127.0.0.1 in a subprocess, requests
each page `--warmup` times untimed, then `--requests` times one after the other (a new HTTP
connection each), and prints a markdown table of p50/p95 wall-clock milliseconds and the
HTTP statuses seen. The database name in URLs is the file's stem. Build a database with
benchmarks/build_large_db.py.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import os
import socket
import sqlite3
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

from pressmon.pipeline.publish import load_metadata


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(port: int, path: str, timeout: float) -> tuple[int, int, float]:
    """(status, body bytes, seconds) of one GET on a new connection."""
    started = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        return response.status, len(body), time.perf_counter() - started
    finally:
        connection.close()


def percentile(values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    ordered = sorted(values)
    k = (len(ordered) - 1) * p
    low = int(k)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (k - low)


def pages(db: Path) -> list[tuple[str, str]]:
    name = db.stem
    charts = load_metadata(db)["plugins"]["datasette-dashboards"]["do-phu-tuyen-truyen"]["charts"]
    chart = charts["theo-thang"]["query"]
    return [
        ("search, common words (`o nhiem moi truong`)", f"/{name}/article_list?_search=o+nhiem+moi+truong"),
        ("search, rare words (`dak doa`)", f"/{name}/article_list?_search=dak+doa"),
        ("search + outlet facet", f"/{name}/article_list?_search=o+nhiem+moi+truong&_facet=outlet_id"),
        ("article list with its facets", f"/{name}/article_list"),
        ("articles table", f"/{name}/articles"),
        ("canned coverage_by_document", f"/{name}/coverage_by_document"),
        ("canned coverage_by_outlet_month",
         f"/{name}/coverage_by_outlet_month?outlet_kind=&from_month=&to_month="),
        ("canned crawl_health", f"/{name}/crawl_health"),
        ("canned newest_items", f"/{name}/newest_items"),
        ("home page", "/"),
        ("dashboard chart data (theo-thang)", f"/{name}.json?" + urlencode({"sql": chart, "_shape": "objects"})),
        ("canned references_by_document", f"/{name}/references_by_document?document=&topic="),
        ("dashboard chart data (theo-loai-nguon)",
         f"/{name}.json?" + urlencode({"sql": charts["theo-loai-nguon"]["query"], "_shape": "objects"})),
        ("dashboard page", "/-/dashboards/do-phu-tuyen-truyen"),
    ]


def wait_until_serving(port: int, process: subprocess.Popen, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"pressmon serve exited with {process.returncode}")
        try:
            get(port, "/-/versions.json", 5)
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"pressmon serve did not answer within {timeout:.0f} s")


@contextlib.contextmanager
def serving(db: Path, pressmon: Path, name: str, start_timeout: float = 120):
    """`pressmon serve --public` of `db` on a free port of 127.0.0.1, its log in $TMPDIR;
    yields (port, process) once it answers, and stops it afterwards."""
    port = free_port()
    command = [str(pressmon), "serve", "--db", str(db), "--public", "--host", "127.0.0.1", "--port", str(port)]
    with open(Path(os.environ.get("TMPDIR", "/tmp")) / f"{name}-{port}.log", "w") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        try:
            wait_until_serving(port, process, start_timeout)
            yield port, process
        finally:
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()


def article_count(db: Path) -> int:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as connection:
        return connection.execute("SELECT count(*) FROM articles").fetchone()[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, type=Path)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=1, help="untimed requests per page first")
    parser.add_argument("--timeout", type=float, default=120.0, help="client timeout per request, s")
    parser.add_argument("--only", help="time only the requests whose label contains this text")
    args = parser.parse_args()
    db = args.db.resolve()
    if not db.exists():
        raise SystemExit(f"no database {db}")
    with serving(db, Path(sys.executable).with_name("pressmon"), "site_at_scale") as (port, _):
        rows = []
        for label, path in pages(db):
            if args.only and args.only not in label:
                continue
            for _ in range(args.warmup):
                get(port, path, args.timeout)
            times, statuses, sizes = [], Counter(), []
            for _ in range(args.requests):
                try:
                    status, size, seconds = get(port, path, args.timeout)
                except TimeoutError:
                    status, size, seconds = "client timeout", 0, args.timeout
                times.append(seconds * 1000)
                statuses[status] += 1
                sizes.append(size)
            status_text = ", ".join(f"{s}×{n}" if len(statuses) > 1 else str(s) for s, n in statuses.items())
            rows.append((label, percentile(times, 0.5), percentile(times, 0.95), status_text,
                         statistics.median(sizes)))
            print(f"  {label}: p50 {rows[-1][1]:,.0f} ms, p95 {rows[-1][2]:,.0f} ms, {status_text}",
                  file=sys.stderr, flush=True)
    count = article_count(db)
    print(f"\n{db.name}: {count:,} articles, {db.stat().st_size / 1e6:,.0f} MB; "
          f"{args.requests} requests per page after {args.warmup} untimed; `pressmon serve --public`\n")
    print("| request | p50 | p95 | status | body |")
    print("|---|---|---|---|---|")
    for label, p50, p95, status, size in rows:
        print(f"| {label} | {p50:,.0f} ms | {p95:,.0f} ms | {status} | {size / 1e3:,.0f} kB |")


if __name__ == "__main__":
    main()
