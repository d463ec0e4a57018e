"""Peak memory of a 10,000-page crawl: the crawl process and its language workers.

Generates a large mirror for this benchmark only: sample items made by recombining the
sentences of the shipped mirror's content (written for the project, never real news) under
new titles, built with the mirror's own builder into a temporary folder (every page carries
the mirror's sample note) and served over HTTP on 127.0.0.1. Then runs `pressmon crawl` of
every outlet into a fresh database, with no politeness delay, and samples the crawl process
and every process under it every 0.1 s.

The outlets share the items as the registry's limits allow, which are left as they are: with
the default 5,000 pages per outlet a night, the four outlets with a sitemap take most items;
the two without (found only through listings of 30 pages of 10 or 5 links each) take what
their listings can show.

Figures: pages fetched, articles stored, wall seconds, and memory three ways —
* peak PSS: the largest sum over the crawl's processes of their proportional set size (a page
  shared by n processes counts 1/n in each): what the crawl costs the machine;
* peak RSS sum: the largest sum of their resident sizes (shared pages counted in every process);
* high-water sum: the sum of each process's own RSS high-water mark (VmHWM): an upper bound
  of any moment's total, since the peaks need not coincide.

    python benchmarks/crawl_memory.py                   # 10,000 items
    python benchmarks/crawl_memory.py --items 2000
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timedelta
from pathlib import Path

from pressmon.crawlers.mirror.build import CONTENT_DIR, build, default_content_files
from pressmon.crawlers.mirror.server import serve_mirror

ROOT = Path(__file__).resolve().parents[1]
# Share of the items per outlet; the two outlets without a sitemap get what their listings
# show within max_listing_pages (2 sections × 30 pages × 10 links; 2 × 30 × 5).
SHARES = {"baogialai": 0.30, "gialai-gov": 0.24, "nongnghiepmoitruong": 0.19, "congthuong": 0.19,
          "snnmt-gialai": 0.05, "gialaitv": 0.03}
FIRST_DAY, DAYS = datetime(2025, 1, 1, 7, 0), 690  # up to late November 2026: never in the future


def sample_items(count: int, seed: int = 11) -> list[dict]:
    """`count` sample items, each a new title over 4–9 sentences drawn from the shipped content."""
    rng = random.Random(seed)
    shipped = [json.loads(line) for path in default_content_files(CONTENT_DIR)
               for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    paragraphs = [p for item in shipped for p in item["body"]]
    titles = [item["title"] for item in shipped]
    by_outlet = {outlet: [item for item in shipped if item["outlet"] == outlet] for outlet in SHARES}
    items = []
    for outlet, share in SHARES.items():
        for number in range(round(count * share)):
            model = rng.choice(by_outlet[outlet])
            published = FIRST_DAY + timedelta(minutes=rng.randrange(DAYS * 24 * 60))
            items.append({
                "outlet": outlet, "section": model["section"], "media_kind": model["media_kind"],
                "title": f"{rng.choice(titles)} (bản mẫu {outlet} số {number + 1})",
                "lead": rng.choice(shipped)["lead"], "body": rng.sample(paragraphs, rng.randint(4, 9)),
                "author": model.get("author"), "tags": model.get("tags") or [],
                "published": published.strftime("%Y-%m-%dT%H:%M:00+07:00")})
    return items


def processes_under(pid: int) -> list[int]:
    found, queue = [], [pid]
    while queue:
        current = queue.pop()
        found.append(current)
        for task in Path(f"/proc/{current}/task").glob("*/children"):
            try:
                queue += [int(child) for child in task.read_text().split()]
            except OSError:
                pass
    return found


def memory_of(pid: int) -> dict[str, int] | None:
    """kB: Pss (smaps_rollup), VmRSS and VmHWM (status) of one process; None once it is gone."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return None
    fields = {}
    for line in (status + rollup).splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "VmHWM", "Pss"):
            fields[name] = int(value.split()[0])
    return fields if len(fields) == 3 else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=10_000, help="sample items in the mirror (default 10,000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        content = tmp / "content.jsonl"
        content.write_text("".join(json.dumps(item, ensure_ascii=False) + "\n" for item in sample_items(args.items)),
                           encoding="utf-8")
        started = time.perf_counter()
        build([content], tmp / "sites")
        print(f"built a mirror of {args.items} sample items in {time.perf_counter() - started:.0f} s", flush=True)
        server, base_url = serve_mirror(tmp / "sites")
        db = tmp / "large.db"
        try:
            started = time.perf_counter()
            crawl = subprocess.Popen([sys.executable, "-m", "pressmon.pipeline.cli", "crawl", "--db", str(db),
                                      "--mirror", base_url, "--politeness-scale", "0", "--no-progress",
                                      "--log-file", str(tmp / "crawl.log")], cwd=ROOT)
            peak_pss = peak_rss = most_processes = 0
            high_water: dict[int, int] = {}
            while crawl.poll() is None:
                sizes = {pid: m for pid in processes_under(crawl.pid) if (m := memory_of(pid))}
                peak_pss = max(peak_pss, sum(m["Pss"] for m in sizes.values()))
                peak_rss = max(peak_rss, sum(m["VmRSS"] for m in sizes.values()))
                most_processes = max(most_processes, len(sizes))
                high_water.update({pid: m["VmHWM"] for pid, m in sizes.items()})
                time.sleep(0.1)
            elapsed = time.perf_counter() - started
        finally:
            server.shutdown()
        if crawl.returncode != 0:
            raise SystemExit(f"the crawl failed ({crawl.returncode}): see {tmp / 'crawl.log'}")
        import sqlite3

        conn = sqlite3.connect(db)
        pages, articles = conn.execute("SELECT SUM(pages_fetched), SUM(articles_new) FROM crawl_runs").fetchone()
        errors = dict(conn.execute("SELECT kind, COUNT(*) FROM crawl_errors GROUP BY kind").fetchall())
        conn.close()
    mib = 1024
    print(f"{pages} pages, {articles} articles stored in {elapsed:.0f} s ({pages / elapsed:.1f} pages/s); "
          f"errors {errors}")
    print(f"crawl process + language workers ({most_processes} processes at most, "
          f"{len(high_water)} over the crawl): peak PSS {peak_pss / mib:.0f} MiB, peak RSS sum {peak_rss / mib:.0f} MiB, "
          f"high-water sum {sum(high_water.values()) / mib:.0f} MiB")
    print("high-water per process (MiB): " + ", ".join(
        f"{'crawl' if pid == crawl.pid else 'worker'} {kb / mib:.0f}" for pid, kb in high_water.items()))


if __name__ == "__main__":
    main()
