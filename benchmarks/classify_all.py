"""Time `pressmon classify --all` on a database (a copy of one); with --kill-after, kill it
part-way and time the run that carries on.

    python benchmarks/classify_all.py --db /tmp/bench/large100k.db --copy /tmp/h2/run.db
    python benchmarks/classify_all.py --db /tmp/h2/classify1m.db --kill-after 600   # a copy made before
    python benchmarks/classify_all.py --db … --copy … --pressmon /work/before/.venv/bin/pressmon   # older code

With --copy the database is only read (copied with its WAL file, if any); the copy is replaced
if it exists and left in place afterwards. Without it the run writes to --db itself: give it a
copy. Open the database once with this pressmon first if it needs migrating, so that the
one-off migration is not timed as classification. The command is the user's: `pressmon classify --all --db
COPY` in a process of its own (with `--workers N` when given), its progress lines on stderr
copied here. Prints the articles classified, the wall time, articles per second and what a
million articles take at that rate (the actual time when the database holds a million).
With --kill-after S the first run gets SIGKILL after S seconds and the same command is run
again: the figures are for both runs together, and the second run's count shows that it
carried on instead of starting over.
"""

from __future__ import annotations

import argparse
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

MILLION = 1_000_000


def copy_database(source: Path, target: Path) -> None:
    for suffix in ("", "-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(source, target)
    if Path(f"{source}-wal").exists():
        shutil.copyfile(f"{source}-wal", f"{target}-wal")


def run(command: list[str], kill_after: float | None = None) -> tuple[float, int | None, int]:
    """(seconds, articles classified or None when killed, return code); stderr passes through."""
    start = time.perf_counter()
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        out, _ = process.communicate(timeout=kill_after)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.communicate()
        return time.perf_counter() - start, None, process.returncode
    seconds = time.perf_counter() - start
    match = re.match(r"(\d+) articles classified", out)
    return seconds, int(match.group(1)) if match else None, process.returncode


def minutes(seconds: float) -> str:
    return f"{seconds / 60:,.1f} min"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, type=Path, help="the database (only read with --copy)")
    parser.add_argument("--copy", type=Path, help="classify a copy of --db made here (replaced)")
    parser.add_argument("--pressmon", default=str(Path(sys.executable).with_name("pressmon")),
                        help="the pressmon command to time (default: this environment's)")
    parser.add_argument("--workers", type=int, help="pass --workers N (default: the command's own default)")
    parser.add_argument("--kill-after", type=float, help="SIGKILL the first run after this many seconds, run again")
    args = parser.parse_args()
    target = args.copy or args.db
    if args.copy:
        if args.copy.resolve() == args.db.resolve():
            raise SystemExit("--copy must differ from --db")
        copy_database(args.db, args.copy)
    with sqlite3.connect(f"file:{target}?mode=ro", uri=True) as conn:
        articles = conn.execute("SELECT count(*) FROM articles").fetchone()[0]
    command = [args.pressmon, "classify", "--all", "--db", str(target)]
    if args.workers:
        command += ["--workers", str(args.workers)]
    print(f"{articles:,} articles in {target}; running: {' '.join(command)}", flush=True)
    seconds, classified, code = run(command, args.kill_after)
    if classified is None and args.kill_after and code == -signal.SIGKILL:
        with sqlite3.connect(f"file:{target}?mode=ro", uri=True) as conn:
            done = conn.execute("SELECT classified FROM reclassify_runs WHERE finished_at IS NULL").fetchone()
        print(f"killed after {seconds:,.1f} s with {done[0] if done else 0:,} articles written; running it again",
              flush=True)
        more, rest, code = run(command)
        if rest is not None:
            print(f"the second run classified {rest:,} articles in {more:,.1f} s", flush=True)
            classified = (done[0] if done else 0) + rest
        seconds += more
    if code != 0 or classified is None:
        raise SystemExit(f"pressmon classify exited with code {code}")
    rate = classified / seconds
    actual = classified == MILLION
    print(f"classified {classified:,} articles in {seconds:,.1f} s ({minutes(seconds)}): {rate:,.0f} articles/s; "
          f"1,000,000 articles: {minutes(seconds if actual else MILLION / rate)} "
          f"({'actual' if actual else 'at this rate'})")


if __name__ == "__main__":
    main()
