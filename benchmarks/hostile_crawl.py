"""A crawl of the hostile copy of baogialai.com.vn with the decompression bombs at full size:
peak memory of the crawl process, articles stored, wrong articles, untraced fault pages.

The server is the fault matrix's (tests/hostile_site.py), with a 1 MiB and a 4 MiB `.xml.gz`
sitemap (inflating to about 0.9 and 3.5 GiB) and a 1 MiB gzip Content-Encoding body (about
0.9 GiB) instead of the test's small ones. The crawl is `pressmon crawl --outlet baogialai
--mirror URL` in a process of its own, run twice as in the test (a night with the good articles
only, then the hostile night, which is timed); the peak RSS is getrusage(RUSAGE_CHILDREN), the
larger of the two crawl processes'. Building the bombs takes 15-50 s.

    .venv/bin/python benchmarks/hostile_crawl.py
    .venv/bin/python benchmarks/hostile_crawl.py --politeness-scale 0.05 --matrix matrix.md
"""

from __future__ import annotations

import argparse
import resource
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from hostile_site import (  # the test suite's server (tests/ is not a package)
    MIB,
    Observed,
    judge,
    render,
    serve_hostile,
    untraced_pages,
    wrong_articles,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--politeness-scale", type=float, default=0.05,
                        help="multiply the registry's delays (default 0.05, as the tests: the server is ours)")
    parser.add_argument("--matrix", type=Path, help="write the fault matrix (markdown) to this file")
    parser.add_argument("--timeout", type=float, default=900, help="give up on the crawl after this many seconds")
    args = parser.parse_args()

    started = time.perf_counter()
    server, base_url = serve_hostile(hang_seconds=120, sitemap_bombs=(MIB, 4 * MIB), body_bomb=MIB)
    built = time.perf_counter() - started
    bombs = [f.what for f in server.site.faults if "bomb" in f.name]
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "hostile.db"
        command = [sys.executable, "-m", "pressmon.pipeline.cli", "crawl", "--db", str(db), "--outlet", "baogialai",
                   "--mirror", base_url, "--politeness-scale", str(args.politeness_scale), "--no-progress"]
        try:
            # As the test: an earlier night stores the good articles, then the site turns hostile.
            server.site.first_night = True
            subprocess.run(command, check=True, cwd=ROOT, capture_output=True, timeout=args.timeout)
            server.site.first_night = False
            server.log.clear()
            started = time.perf_counter()
            result = subprocess.run(command, check=False, cwd=ROOT, capture_output=True, text=True,
                                    timeout=args.timeout)
        finally:
            server.shutdown()
            server.server_close()
        elapsed = time.perf_counter() - started
        peak_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        if not db.exists():
            sys.exit(f"the crawl wrote no database (exit {result.returncode}):\n{result.stderr[-3000:]}")
        obs = Observed(db, server)
        site = server.site
        rows = [(fault, *judge(fault, obs, site, args.politeness_scale)) for fault in site.faults]
        wrong = wrong_articles(obs, site)
        untraced = untraced_pages(obs, site)
        conn = sqlite3.connect(db)
        pages = conn.execute("select pages_fetched from crawl_runs order by id desc limit 1").fetchone()[0]
        conn.close()
    good = [*site.good, *site.feed_only]
    good_stored = sum(1 for a in good if a.url in obs.articles)
    matrix = render(rows, elapsed, peak_kib)
    if args.matrix:
        args.matrix.write_text(matrix, encoding="utf-8")
    print(f"bombs ({built:.0f} s to build): " + "; ".join(bombs))
    print(f"crawl: exit {result.returncode}, {elapsed:.1f} s, {pages} pages fetched, politeness scale "
          f"{args.politeness_scale:g}")
    print(f"peak RSS of the crawl process: {peak_kib / 1024:.0f} MiB")
    print(f"articles stored: {len(obs.articles)} (good articles: {good_stored} of {len(good)})")
    print(f"wrong articles: {len(wrong)}" + "".join(f"\n  {w}" for w in wrong))
    print(f"untraced fault pages: {len(untraced)}" + "".join(f"\n  {u}" for u in untraced))
    failed = [(f.name, observed) for f, ok, observed in rows if not ok]
    print(f"fault matrix: {len(rows) - len(failed)} of {len(rows)} rows as expected"
          + "".join(f"\n  {name}: {observed}" for name, observed in failed))


if __name__ == "__main__":
    main()
