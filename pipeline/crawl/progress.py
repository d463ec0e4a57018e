"""Progress bars for a crawl on a terminal (rich); nothing at all when not on a terminal,
where Scrapy's own log lines tell the story."""

from __future__ import annotations

from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from scrapy import signals


class CrawlProgress:
    def __init__(self, enabled: bool):
        self.progress = Progress(TextColumn("{task.description:<22}"), BarColumn(),
                                 TextColumn("{task.fields[pages]} trang · {task.fields[items]} bài"),
                                 TimeElapsedColumn()) if enabled else None

    def __enter__(self):
        if self.progress:
            self.progress.start()
        return self

    def __exit__(self, *exc):
        if self.progress:
            self.progress.stop()

    def watch(self, crawler, outlet_id: str) -> None:
        if not self.progress:
            return
        task = self.progress.add_task(outlet_id, total=None, pages=0, items=0)
        counts = {"pages": 0, "items": 0}

        def page(*args, **kwargs):
            counts["pages"] += 1
            self.progress.update(task, **counts)

        def item(item, *args, **kwargs):
            if item.get("type") == "article":
                counts["items"] += 1
                self.progress.update(task, **counts)

        # Scrapy keeps weak references to signal handlers: keep ours alive on the crawler.
        crawler._pressmon_progress = (page, item)
        crawler.signals.connect(page, signal=signals.response_received)
        crawler.signals.connect(item, signal=signals.item_scraped)

        def finished(*args, **kwargs):
            self.progress.update(task, total=1, completed=1)

        crawler._pressmon_progress += (finished,)
        crawler.signals.connect(finished, signal=signals.spider_closed)
