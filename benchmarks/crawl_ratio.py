"""pressmon's full crawl against bare Scrapy + trafilatura, on the same mirror pages in one run.

Serves the offline mirror on 127.0.0.1, then crawls it again and again, each crawl in a fresh
Python process (Scrapy's reactor starts once per process), in a fixed order:

* (a) bare Scrapy: a minimal spider that fetches the pages pressmon's crawl fetched (the
  list the mirror recorded during an untimed warm-up crawl) through the same loopback server,
  one download slot per site with the same concurrency, size cap, timeout and retries, and extracts every article page with
  trafilatura; no pressmon pipeline;
* (b) pressmon: `run_crawl` of every outlet into a fresh SQLite file, the shipped topic model.

Both with no politeness delay, and without the mirror's deliberately slow page (pressmon's
crawl never follows its link; the bare list never has it). Wall and CPU seconds are those
of the crawl itself, imports excluded; CPU counts the crawl process and every process it
started and waited for (pressmon's language workers). "model loads" counts how often the
topic model file was opened for reading, in the crawl process and any process forked from it.
The ratio is (b)'s pages per wall-clock second over (a)'s, the median of the repetitions.

    python benchmarks/crawl_ratio.py              # a warm-up pair, then 3 timed pairs
    python benchmarks/crawl_ratio.py --repeat 5
    python benchmarks/crawl_ratio.py --items 3000 # on crawl_memory.py's generated mirror instead

The shipped mirror is small: a crawl's fixed start (loading and warming the model, forking
the workers, setting up six spiders) weighs on its figure. `--items N` measures the same two
crawls on a generated mirror of N sample items (see benchmarks/crawl_memory.py).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import scrapy

SLOW_PAGE = "https://baogialai.com.vn/trang-cham-post999006.html"


class LeaveOut:
    """Spider middleware of pressmon's crawl here: the slow page's link is never followed."""

    def process_spider_output(self, response, result):
        return (out for out in result if not _slow(out))

    async def process_spider_output_async(self, response, result):
        async for out in result:
            if not _slow(out):
                yield out


def _slow(out) -> bool:
    return isinstance(out, scrapy.Request) and out.url == SLOW_PAGE


class BareSpider(scrapy.Spider):
    """Fetches the given pages of the mirror; trafilatura on every article page."""

    name = "bare"

    def __init__(self, base_url: str, pages: list[list[str]], **kwargs):
        super().__init__(**kwargs)
        from pressmon.crawlers.registry import load_registry

        self.base_url, self.pages = base_url, pages
        self.outlets = {domain: outlet for outlet in load_registry().values() for domain in outlet.domains}

    async def start(self):
        for host, target in self.pages:
            yield scrapy.Request(self.base_url + target, headers={"Host": host}, dont_filter=True,
                                 meta={"download_slot": host}, cb_kwargs={"url": f"https://{host}{target}"})

    def parse(self, response, url: str):
        import trafilatura

        outlet = self.outlets.get(url.split("/")[2])
        if outlet and outlet.is_article_url(url) and b"html" in response.headers.get("Content-Type", b""):
            yield {"url": url, "text": bool(trafilatura.extract(response.text, url=url, with_metadata=True))}


def crawl_bare(base_url: str, pages: list[list[str]], log_file: Path) -> dict:
    from scrapy.crawler import CrawlerProcess

    from pressmon.crawlers import settings as pressmon_settings

    # pressmon's concurrency, size cap, timeout and retries: the same work on the wire.
    same = {name: getattr(pressmon_settings, name) for name in (
        "CONCURRENT_REQUESTS", "CONCURRENT_REQUESTS_PER_DOMAIN", "DOWNLOAD_MAXSIZE", "DOWNLOAD_WARNSIZE",
        "DOWNLOAD_TIMEOUT", "RETRY_TIMES", "REDIRECT_MAX_TIMES")}
    # Every hop of a redirect pressmon followed is in the list already.
    process = CrawlerProcess({**same, "DOWNLOAD_DELAY": 0, "ROBOTSTXT_OBEY": False, "COOKIES_ENABLED": False,
                              "REDIRECT_ENABLED": False, "METAREFRESH_ENABLED": False,
                              "TELNETCONSOLE_ENABLED": False, "LOG_FILE": str(log_file), "LOG_LEVEL": "INFO"})
    crawler = process.create_crawler(BareSpider)
    process.crawl(crawler, base_url=base_url, pages=pages)
    process.start()
    return {"pages": crawler.stats.get_value("response_received_count", 0), "model_loads": 0}


def crawl_pressmon(base_url: str, workdir: Path, model: str) -> dict:
    from pressmon.pipeline.crawl.runner import run_crawl

    # Counted where any process of the crawl opens the file: the hook is inherited by forks,
    # and os.write raises no audit event of its own.
    counter = os.open(workdir / "model-loads", os.O_WRONLY | os.O_CREAT | os.O_APPEND)

    def count_model_opens(event, args):
        if event == "open" and args and isinstance(args[0], (str, bytes, os.PathLike)) \
                and os.fsdecode(args[0]) == model and (args[1] or "r").startswith("r"):
            os.write(counter, b"x")

    sys.addaudithook(count_model_opens)
    db = workdir / "pressmon.db"
    run_id = run_crawl(str(db), mirror=base_url, politeness_scale=0, progress=False,
                       log_file=workdir / "pressmon.log", settings={"SPIDER_MIDDLEWARES": {"crawl_ratio.LeaveOut": 50}})
    conn = sqlite3.connect(db)
    pages = conn.execute("SELECT SUM(pages_fetched) FROM crawl_runs WHERE run_id = ?", [run_id]).fetchone()[0]
    conn.close()
    return {"pages": pages, "model_loads": os.path.getsize(workdir / "model-loads")}


def child(kind: str, base_url: str, workdir: Path, pages_file: Path | None, model: str) -> None:
    """One crawl in this process; prints its figures as one JSON line."""
    import pressmon.pipeline.crawl.item_pipelines  # noqa: F401 — imports are not the crawl
    import trafilatura  # noqa: F401

    def cpu(who) -> float:
        usage = resource.getrusage(who)
        return usage.ru_utime + usage.ru_stime

    wall, used, used_children = time.perf_counter(), cpu(resource.RUSAGE_SELF), cpu(resource.RUSAGE_CHILDREN)
    if kind == "bare":
        figures = crawl_bare(base_url, json.loads(pages_file.read_text()), workdir / "bare.log")
    else:
        figures = crawl_pressmon(base_url, workdir, model)
    children = cpu(resource.RUSAGE_CHILDREN) - used_children
    figures.update(wall=time.perf_counter() - wall, cpu=cpu(resource.RUSAGE_SELF) - used + children,
                   cpu_children=children)
    print(json.dumps(figures))


def run_child(kind: str, base_url: str, tmp: Path, pages_file: Path, model: str) -> dict:
    workdir = Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=tmp))
    result = subprocess.run([sys.executable, __file__, "--child", kind, base_url, str(workdir), str(pages_file)],
                            capture_output=True, text=True, env={**os.environ, "PRESSMON_MODEL": model})
    if result.returncode != 0:
        raise SystemExit(f"{kind} crawl failed:\n{result.stderr[-3000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def generated_mirror(items: int, folder: Path) -> Path:
    from crawl_memory import sample_items

    from pressmon.crawlers.mirror.build import build

    content = folder / "content.jsonl"
    content.write_text("".join(json.dumps(item, ensure_ascii=False) + "\n" for item in sample_items(items)),
                       encoding="utf-8")
    build([content], folder / "sites")
    return folder / "sites"


def pages_fetched(server) -> list[list[str]]:
    """(host, target) of every page the mirror answered, first ask first, each once."""
    return [list(page) for page in dict.fromkeys((host, target) for host, _, target, _ in server.requests)]


def show(kind: str, runs: list[dict]) -> dict:
    median = {key: statistics.median(r[key] for r in runs)
              for key in ("pages", "wall", "cpu", "cpu_children", "model_loads")}
    median["rate"] = statistics.median(r["pages"] / r["wall"] for r in runs)
    print(f"{kind:26} {median['pages']:6.0f} pages  wall {median['wall']:5.2f} s  CPU {median['cpu']:5.2f} s "
          f"(workers {median['cpu_children']:4.2f})  "
          f"{median['rate']:6.1f} pages/s  model loads {median['model_loads']:.0f}   "
          f"(walls: {', '.join(format(r['wall'], '.2f') for r in runs)})")
    return median


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="timed pairs of crawls (default 3)")
    parser.add_argument("--items", type=int, help="crawl a generated mirror of this many sample items")
    parser.add_argument("--child", nargs=4, metavar=("KIND", "BASE_URL", "WORKDIR", "PAGES"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    from pressmon.nlp.topics import SHIPPED_MODEL

    model = str(SHIPPED_MODEL)
    if args.child:
        kind, base_url, workdir, pages_file = args.child
        child(kind, base_url, Path(workdir), Path(pages_file), model)
        return
    from pressmon.crawlers.mirror.server import serve_mirror

    runs: dict[str, list[dict]] = {"bare": [], "pressmon": []}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        server, base_url = serve_mirror(generated_mirror(args.items, tmp) if args.items else None)
        try:
            pages_file = tmp / "pages.json"
            run_child("pressmon", base_url, tmp, pages_file, model)  # warm-up, and the list of pages
            pages = pages_fetched(server)
            pages_file.write_text(json.dumps(pages))
            run_child("bare", base_url, tmp, pages_file, model)  # warm-up
            for _ in range(args.repeat):
                for kind in ("bare", "pressmon"):
                    runs[kind].append(run_child(kind, base_url, tmp, pages_file, model))
        finally:
            server.shutdown()
    print(f"{len(pages)} mirror pages, {args.repeat} runs each, medians; {os.cpu_count()} cores")
    bare = show("(a) Scrapy + trafilatura", runs["bare"])
    full = show("(b) pressmon full crawl", runs["pressmon"])
    print(f"ratio (b)/(a), pages per wall-clock second: {full['rate'] / bare['rate']:.2f}")


if __name__ == "__main__":
    main()
