"""End-to-end crawl of the offline mirror: pages per second and peak memory.

Runs the real spiders over loopback HTTP into a fresh SQLite file, as `pressmon demo
--no-serve` does. With the registry's politeness delays (scale 1, the default) the figure is
bounded by the delays, which is what a night costs; `--politeness-scale 0` measures what the
machine itself can do.

    python benchmarks/crawl_mirror.py
    python benchmarks/crawl_mirror.py --politeness-scale 0
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import tempfile
import time
from pathlib import Path

from pressmon.crawlers.mirror.server import serve_mirror
from pressmon.pipeline.crawl.runner import run_crawl


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--politeness-scale", type=float, default=1.0,
                        help="multiply the registry's delays (0 = no delay)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db_path = Path(tmp) / "bench.db"
        server, base_url = serve_mirror()
        started = time.perf_counter()
        try:
            run_id = run_crawl(str(db_path), mirror=base_url, politeness_scale=args.politeness_scale,
                               progress=False)
        finally:
            server.shutdown()
        elapsed = time.perf_counter() - started
        conn = sqlite3.connect(db_path)
        pages, new = conn.execute("select sum(pages_fetched), sum(articles_new) from crawl_runs where run_id = ?",
                                  [run_id]).fetchone()
        conn.close()
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"politeness scale {args.politeness_scale:g}: {pages} pages, {new} articles in {elapsed:.1f} s "
          f"= {pages / elapsed:.1f} pages/s; peak memory {peak_mib:.0f} MiB")


if __name__ == "__main__":
    main()
