"""How fast the site answers while a crawl writes to its database.

    python benchmarks/site_during_crawl.py [--rounds 3]

Serves the offline mirror on 127.0.0.1, crawls one outlet into a fresh database
(`pressmon crawl --mirror … --politeness-scale 0`), serves that database with `pressmon serve
--public`, and times the staff's pages one after the other: first with nothing else running
(quiet), then while `pressmon crawl` stores every other outlet into the same file, repeated
`--rounds` times over fresh databases. Prints p50/p95 per phase and page, and the crawl's
pages and seconds. The crawl and the site are separate processes, as with the nightly cycle.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

from site_at_scale import free_port, get, percentile, wait_until_serving

from pressmon.crawlers.mirror.server import serve_mirror
from pressmon.crawlers.registry import load_registry

QUIET_REQUESTS = 40


def site_pages(name: str) -> list[tuple[str, str]]:
    return [
        ("home page", "/"),
        ("article list", f"/{name}/article_list"),
        ("search (`o nhiem`)", f"/{name}/article_list?" + urlencode({"_search": "o nhiem"})),
        ("canned coverage_by_document", f"/{name}/coverage_by_document"),
        ("an item's page", f"/{name}/articles/1"),
    ]


def pressmon_command(*args: str) -> list[str]:
    return [str(Path(sys.executable).with_name("pressmon")), *args]


def crawl(db: Path, mirror: str, outlets: list[str]) -> subprocess.Popen:
    command = pressmon_command("crawl", "--db", str(db), "--mirror", mirror, "--politeness-scale", "0",
                               "--no-progress", "--log-file", str(db.with_suffix(".crawl.log")))
    for outlet in outlets:
        command += ["--outlet", outlet]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def time_pages(port: int, pages: list[tuple[str, str]], until) -> dict[str, list[float]]:
    """Request the pages in turn until `until()` is true; milliseconds per page."""
    times: dict[str, list[float]] = {label: [] for label, _ in pages}
    while not until():
        for label, path in pages:
            status, _, seconds = get(port, path, 30)
            if status != 200:
                raise SystemExit(f"{path} answered {status}")
            times[label].append(seconds * 1000)
    return times


def one_round(mirror: str, folder: Path) -> tuple[dict, dict, int, float]:
    outlets = list(load_registry())
    # One outlet seeds the site; the crawl measured against stores all the others.
    first, second = outlets[:1], outlets[1:]
    db = folder / "demo.db"
    if crawl(db, mirror, first).wait() != 0:
        raise SystemExit("the first crawl failed")
    port = free_port()
    server = subprocess.Popen(pressmon_command("serve", "--db", str(db), "--public", "--port", str(port)),
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_serving(port, server, 60)
        pages = site_pages(db.stem)
        time_pages(port, pages, until=iter([False, True]).__next__)  # warm up once
        counter = iter(range(QUIET_REQUESTS // len(pages) + 1))
        quiet = time_pages(port, pages, until=lambda: next(counter) >= QUIET_REQUESTS // len(pages))
        started = time.perf_counter()
        crawler = crawl(db, mirror, second)
        during = time_pages(port, pages, until=lambda: crawler.poll() is not None)
        seconds = time.perf_counter() - started
        if crawler.returncode != 0:
            raise SystemExit("the crawl during the measurement failed")
    finally:
        server.terminate()
        server.wait(10)
    import sqlite3

    with sqlite3.connect(db) as conn:
        pages_fetched = conn.execute("SELECT sum(pages_fetched) FROM crawl_runs WHERE outlet_id IN ({})".format(
            ", ".join("?" for _ in second)), second).fetchone()[0]
    return quiet, during, pages_fetched, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="fresh databases to measure on")
    args = parser.parse_args()
    server, mirror = serve_mirror()
    quiet: dict[str, list[float]] = {}
    during: dict[str, list[float]] = {}
    crawls = []
    try:
        for _ in range(args.rounds):
            with tempfile.TemporaryDirectory() as tmp:
                q, d, pages, seconds = one_round(mirror, Path(tmp))
            for label in q:
                quiet.setdefault(label, []).extend(q[label])
                during.setdefault(label, []).extend(d[label])
            crawls.append((pages, seconds))
            print(f"  round {len(crawls)}: crawl of {pages} pages took {seconds:.1f} s", file=sys.stderr)
    finally:
        server.shutdown()
    print(f"\n{args.rounds} rounds; the crawl: "
          + ", ".join(f"{p} pages in {s:.1f} s" for p, s in crawls) + "\n")
    print("| page | quiet p50 | quiet p95 | during crawl p50 | during crawl p95 | requests during |")
    print("|---|---|---|---|---|---|")
    everything_quiet = [t for times in quiet.values() for t in times]
    everything_during = [t for times in during.values() for t in times]
    for label in quiet:
        print(f"| {label} | {percentile(quiet[label], .5):,.0f} ms | {percentile(quiet[label], .95):,.0f} ms "
              f"| {percentile(during[label], .5):,.0f} ms | {percentile(during[label], .95):,.0f} ms "
              f"| {len(during[label])} |")
    print(f"| all pages | {percentile(everything_quiet, .5):,.0f} ms | {percentile(everything_quiet, .95):,.0f} ms "
          f"| {percentile(everything_during, .5):,.0f} ms | {percentile(everything_during, .95):,.0f} ms "
          f"| {len(everything_during)} |")


if __name__ == "__main__":
    main()
