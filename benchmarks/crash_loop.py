"""SIGKILL a real crawl at random points, again and again, over one database.

Each round starts `pressmon crawl` (every outlet, over the offline mirror) on the same SQLite
file and kills it with SIGKILL once it has committed a random number of new articles, plus a
random few milliseconds, so the kill lands anywhere in an item's path: fetching, archiving
its response as WARC, the pipeline stages, the commit (with --max-seconds N, at a random moment
in [N/2, N] s after the crawl opened its run if that comes first: discovery too). After each kill it checks:

* PRAGMA integrity_check and the FTS5 index check say ok;
* no article stored before the kill is lost or changed (the mirror serves the same text);
* no text is stored twice for one outlet;
* every article's WARC record is there and matches its payload_sha256;
* what the archive holds that no article points at (store/warc.py check_archive): copies
  of pages stored later, pages with an error row, and `untraced` records of pages that were
  archived and never committed (the kill fell between the two).

A last round runs to the end and must leave every mirrored article stored once.

    python benchmarks/crash_loop.py             # 20 kills
    python benchmarks/crash_loop.py --kills 50 --seed 7 --max-seconds 5

tests/test_crawl_mirror.py runs the same loop with 10 kills.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from pressmon.pipeline.store import Store
from pressmon.pipeline.store.warc import EvidenceError, check_archive, read_payload

ROOT = Path(__file__).resolve().parents[1]
MANIFEST = ROOT / "crawlers" / "mirror" / "sites" / "_manifest.json"


def crawl_command(db: Path, mirror: str, politeness_scale: float) -> list[str]:
    return [sys.executable, "-m", "pressmon.pipeline.cli", "crawl", "--db", str(db), "--mirror", mirror,
            "--politeness-scale", str(politeness_scale), "--no-progress"]


def stored_articles(db: Path) -> dict[str, str]:
    """url → content_sha256 of every committed article, read as another process would."""
    return dict(_read(db, "SELECT url, content_sha256 FROM articles"))


def run_count(db: Path) -> int:
    """How many crawl runs have opened (a crawl's first write, once its imports are done)."""
    return _read(db, "SELECT COUNT(DISTINCT run_id) FROM crawl_runs")[0][0] if db.exists() else 0


def _read(db: Path, sql: str) -> list[tuple]:
    if not db.exists():
        return [(0,)] if "COUNT" in sql else []
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql).fetchall()
    except sqlite3.OperationalError:  # the schema is not there yet
        return [(0,)] if "COUNT" in sql else []
    finally:
        conn.close()


def check_database(db: Path, before: dict[str, str]) -> dict:
    """The checks after a kill (see the module's docstring), as figures."""
    with Store(db) as store:
        integrity = store.integrity_check()
        rows = store.db.execute("SELECT url, content_sha256, warc_file, warc_offset, payload_sha256 "
                                "FROM articles").fetchall()
        duplicates = store.db.execute(
            "SELECT COUNT(*) FROM (SELECT 1 FROM articles GROUP BY outlet_id, content_sha256 "
            "HAVING COUNT(*) > 1)").fetchone()[0]
    after = {url: digest for url, digest, *_ in rows}
    lost = [url for url in before if url not in after]
    changed = [url for url in before if url in after and after[url] != before[url]]
    folder = db.resolve().parent
    bad_evidence = []
    for url, _, warc_file, offset, payload_sha256 in rows:
        try:
            if warc_file is None:
                raise EvidenceError("no WARC record")
            read_payload(folder / warc_file, offset, payload_sha256)
        except EvidenceError as exc:
            bad_evidence.append(f"{url}: {exc}")
    archive = check_archive(db)
    return {"articles": len(after), "integrity": integrity, "lost": lost, "changed": changed,
            "duplicates": duplicates, "bad_evidence": bad_evidence, "warc_records": archive.records,
            "warc_copies": len(archive.copies), "warc_recorded": len(archive.recorded),
            "warc_untraced": len(archive.untraced), "warc_damaged": len(archive.damaged)}


def problems(figures: dict) -> list[str]:
    found = []
    if figures["integrity"] != "ok":
        found.append(f"integrity: {figures['integrity']}")
    for key in ("lost", "changed", "bad_evidence"):
        if figures[key]:
            found.append(f"{key}: {figures[key][:3]}")
    if figures["duplicates"]:
        found.append(f"{figures['duplicates']} texts stored twice")
    return found


def one_round(db: Path, mirror: str, politeness_scale: float, rng: random.Random, max_new: int,
              max_seconds: float | None = None) -> dict:
    """Start a crawl and SIGKILL it after 1..max_new new articles (+ 0–50 ms), or at a random
    moment in [max_seconds/2, max_seconds] after the crawl opened its run if that comes
    first (counted from the run, not the start, so that a slow start-up on a busy machine does
    not turn every kill into one before the first article); check."""
    before = stored_articles(db)
    runs = run_count(db)
    target = len(before) + rng.randint(1, max_new)
    patience = rng.uniform(max_seconds / 2, max_seconds) if max_seconds else 120
    process = subprocess.Popen(crawl_command(db, mirror, politeness_scale), cwd=ROOT,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started = time.monotonic()
    opened = None
    killed = False
    try:
        while process.poll() is None and time.monotonic() - started < 120:
            if opened is None and run_count(db) > runs:
                opened = time.monotonic()
            if opened is not None and time.monotonic() - opened > patience:
                break
            if len(stored_articles(db)) >= target:
                time.sleep(rng.uniform(0, 0.05))
                break
            time.sleep(0.01)
        if process.poll() is None:
            os.kill(process.pid, signal.SIGKILL)
            killed = True
    finally:
        process.wait(timeout=30)
    figures = check_database(db, before)
    figures.update(killed=killed, seconds=round(time.monotonic() - started, 1),
                   new=figures["articles"] - len(before))
    return figures


def final_round(db: Path, mirror: str, politeness_scale: float) -> dict:
    before = stored_articles(db)
    started = time.monotonic()
    done = subprocess.run(crawl_command(db, mirror, politeness_scale), cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    figures = check_database(db, before)
    figures.update(returncode=done.returncode, seconds=round(time.monotonic() - started, 1),
                   new=figures["articles"] - len(before))
    return figures


def expected_urls() -> set[str]:
    manifest = json.loads(MANIFEST.read_text(encoding="utf-8"))
    return {a["url"] for o in manifest["outlets"].values() for a in o["articles"]}


def crash_loop(db: Path, mirror: str, kills: int, seed: int, max_new: int, politeness_scale: float,
               max_seconds: float | None = None, report=print) -> tuple[list[dict], dict]:
    """`kills` killed rounds then one whole round; returns the figures of each."""
    rng = random.Random(seed)
    rounds = []
    while len([r for r in rounds if r["killed"]]) < kills:
        figures = one_round(db, mirror, politeness_scale, rng, max_new, max_seconds)
        rounds.append(figures)
        report(f"round {len(rounds):>3}: {'killed' if figures['killed'] else 'ended'} after {figures['seconds']:>5} s, "
               f"+{figures['new']:>3} → {figures['articles']:>3} articles; integrity {figures['integrity']}, "
               f"lost {len(figures['lost'])}, changed {len(figures['changed'])}, duplicates {figures['duplicates']}, "
               f"bad WARC {len(figures['bad_evidence'])}; WARC records {figures['warc_records']} "
               f"(unreferenced: {figures['warc_copies']} copies, {figures['warc_recorded']} with an error row, "
               f"{figures['warc_untraced']} untraced; {figures['warc_damaged']} damaged members)")
    final = final_round(db, mirror, politeness_scale)
    report(f"final round: exit {final['returncode']} after {final['seconds']} s, +{final['new']} → "
           f"{final['articles']} articles; integrity {final['integrity']}, lost {len(final['lost'])}, "
           f"duplicates {final['duplicates']}, bad WARC {len(final['bad_evidence'])}; WARC records "
           f"{final['warc_records']} (unreferenced: {final['warc_copies']} copies, {final['warc_recorded']} with an "
           f"error row, {final['warc_untraced']} untraced; {final['warc_damaged']} damaged members)")
    return rounds, final


def main() -> None:
    from pressmon.crawlers.mirror.server import serve_mirror

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--max-new", type=int, default=8, help="kill after 1..N new articles (default 8)")
    parser.add_argument("--max-seconds", type=float, default=None,
                        help="kill at a random moment in [N/2, N] s after the crawl opened its run "
                             "if the articles come slower")
    parser.add_argument("--politeness-scale", type=float, default=0.05)
    args = parser.parse_args()
    server, base_url = serve_mirror()
    # Every kill resets the mirror's open connections: its traceback for each says nothing.
    server.handle_error = lambda request, client_address: None
    started = time.monotonic()
    try:
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "crash.db"
            rounds, final = crash_loop(db, base_url, args.kills, args.seed, args.max_new, args.politeness_scale,
                                       args.max_seconds)
            missing = expected_urls() - set(stored_articles(db))
    finally:
        server.shutdown()
        server.server_close()
    killed = [r for r in rounds if r["killed"]]
    failures = [p for r in [*rounds, final] for p in problems(r)]
    print(f"\n{len(killed)} SIGKILLs in {len(rounds)} rounds over one database, {time.monotonic() - started:.0f} s "
          f"(seed {args.seed}): integrity not ok {sum(r['integrity'] != 'ok' for r in rounds)}, "
          f"articles lost {sum(len(r['lost']) for r in rounds)}, changed {sum(len(r['changed']) for r in rounds)}, "
          f"duplicates {max(r['duplicates'] for r in [*rounds, final])}, "
          f"WARC mismatches {sum(len(r['bad_evidence']) for r in [*rounds, final])}; "
          f"most untraced WARC records after a kill {max(r['warc_untraced'] for r in rounds)}, "
          f"damaged members {max(r['warc_damaged'] for r in [*rounds, final])}; "
          f"after the final round: {final['articles']} articles, {len(missing)} of the mirror's missing, "
          f"{final['warc_untraced']} untraced WARC records")
    if failures or missing or final["returncode"] != 0:
        sys.exit(f"FAILED: {failures[:5]} missing {sorted(missing)[:5]} exit {final['returncode']}")


if __name__ == "__main__":
    main()
