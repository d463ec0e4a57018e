"""The crawl's language work — document references, places, the topic decision — done in
worker processes, so that Scrapy's reactor goes on fetching and every core is used.

One pool per crawl: `run_crawl` starts it before the reactor runs and all its spiders share it
(`LanguagePool.shared`); a bare `scrapy crawl <outlet>` starts one for its spider. The topic
model is loaded once per crawl, in the crawl process, and used once on a sample item there,
so that every lazy part (the model's fast transforms, underthesea's tagger) is built before the
workers are forked: they share all of it copy-on-write and load nothing. See docs/decisions.md,
"The language work runs in a pool of forked workers".

A worker that dies (killed, out of memory) breaks the pool: every item in it then fails with
`LanguageStageError`, which the store records as a `pipeline_error` row with the page's URL,
and the next item starts a new pool, forked from the same loaded model.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from pathlib import Path

from pressmon.nlp.places import find_places
from pressmon.nlp.references import find_references
from pressmon.nlp.topics import ModelError
from pressmon.pipeline.decisions.classify import (
    WARM_UP_ITEM,
    classification,
    load_model,
)
from pressmon.pipeline.workers import forked_pool

logger = logging.getLogger(__name__)

ITEMS_IN_FLIGHT_PER_WORKER = 4
FIELDS = ("title", "lead", "body")

# The model the workers classify with: set in the crawl process before they are forked.
_model = None


class LanguageStageError(Exception):
    """The language work of one item failed; the message is the whole detail of its error row."""


def article_references(item: dict) -> list[dict]:
    """Legal-document references (1894/QĐ-TTg, 20/CT-TTg, …) with their spans per field."""
    context = "\n".join(item.get(f) or "" for f in FIELDS)
    return [{"field": name, **ref.as_dict()} for name in FIELDS
            for ref in find_references(item.get(name) or "", published_at=item.get("published_at"), context=context)]


def article_places(item: dict) -> list[dict]:
    """Mentions of the province's communes and wards, with their spans per field."""
    return [{"field": name, **place.as_dict()} for name in FIELDS for place in find_places(item.get(name) or "")]


def analyse(item: dict) -> tuple[int, dict]:
    """What the store keeps of one article's language: references, places and, with a model,
    the topic decision. Returns the PID that did the work with it. Runs in a worker."""
    try:
        found = {"references": article_references(item), "places": article_places(item)}
        if _model is not None:
            found["classification"] = classification(_model, item)
    except Exception as exc:  # noqa: BLE001 — any failure becomes the item's error row, named here
        # The worker's traceback does not cross the process boundary: name its innermost line now.
        raise LanguageStageError(describe(exc, exc.__traceback__)) from None
    return os.getpid(), found


def describe(exc: BaseException, tb) -> str:
    """"KeyError: 'x' (in find_places, places.py:57)": the exception and the innermost line
    that raised it, enough for a person to know which stage failed."""
    detail = f"{type(exc).__name__}: {exc}"
    if tb is not None:
        while tb.tb_next is not None:
            tb = tb.tb_next
        code = tb.tb_frame.f_code
        detail += f" (in {code.co_name}, {Path(code.co_filename).name}:{tb.tb_lineno})"
    return detail


class LanguagePool:
    """The worker processes of one crawl and the model they share."""

    _shared: dict[str, LanguagePool] = {}

    def __init__(self, model_path: str | Path | None = None, workers: int | None = None, niceness: int = 0):
        self.model_path = model_path
        self.workers = workers or os.cpu_count() or 1
        self.niceness = niceness
        self.model = None
        self.executor: ProcessPoolExecutor | None = None
        self.items_by_worker: Counter[int] = Counter()
        self.restarts = 0
        # Items handed to the pool and not yet back. Bounded, so that when the workers fall
        # behind (nice +10 under a competing load) the items wait in Scrapy, whose scraper then
        # stops taking responses, instead of piling up here: a 10,000-page crawl on a busy
        # machine peaked at 515 MiB without the bound.
        self.in_flight = asyncio.Semaphore(ITEMS_IN_FLIGHT_PER_WORKER * self.workers)

    @classmethod
    def from_settings(cls, settings) -> LanguagePool:
        return cls(settings.get("PRESSMON_MODEL"), settings.getint("PRESSMON_LANGUAGE_WORKERS") or None,
                   settings.getint("PRESSMON_LANGUAGE_NICENESS"))

    @classmethod
    def of_run(cls, run_id: str | None) -> LanguagePool | None:
        """The pool `run_crawl` started for this run, if any."""
        return cls._shared.get(run_id) if run_id else None

    def start(self) -> LanguagePool:
        """Load the model (once for the crawl), build everything lazy in it, fork the workers."""
        global _model
        try:
            self.model = load_model(self.model_path)
            logger.info("topic model %s loaded once for this crawl; %d language workers", self.model.version,
                        self.workers)
        except ModelError as exc:
            logger.warning("articles are stored unclassified: %s", exc)
        _model = self.model
        analyse(WARM_UP_ITEM)
        self.executor = self._fork_workers()
        # Every worker up before the first item: a pool that cannot start fails the crawl here.
        for future in [self.executor.submit(os.getpid) for _ in range(self.workers)]:
            future.result()
        return self

    def _fork_workers(self) -> ProcessPoolExecutor:
        # Objects that exist now are never collected in a worker: the collector's writes to
        # them would copy every shared page.
        gc.freeze()
        executor = forked_pool(self.workers, niceness=self.niceness)
        return executor

    async def analyse(self, item: dict) -> dict:
        """The item's language work, done in a worker while the reactor goes on."""
        fields = {name: item.get(name) for name in (*FIELDS, "published_at")}
        async with self.in_flight:
            return await self._analyse(fields)

    async def _analyse(self, fields: dict) -> dict:
        executor = self.executor
        try:
            future = executor.submit(analyse, fields)
        except BrokenProcessPool:  # a worker died since the last item: this one was never in the pool
            executor = self._replace(executor)
            future = executor.submit(analyse, fields)
        try:
            pid, found = await asyncio.wrap_future(future)
        except BrokenProcessPool as exc:
            self._replace(executor)
            raise LanguageStageError(f"a language worker process died (killed, or out of memory) while this "
                                     f"item was in the pool; the pool was restarted ({exc})") from None
        self.items_by_worker[pid] += 1
        return found

    def _replace(self, broken: ProcessPoolExecutor) -> ProcessPoolExecutor:
        if self.executor is broken:
            broken.shutdown(wait=False, cancel_futures=True)
            self.executor = self._fork_workers()
            self.restarts += 1
            logger.warning("a language worker died: the pool was restarted (%d restarts this crawl)", self.restarts)
        return self.executor

    def close(self) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=True, cancel_futures=True)
            self.executor = None
        workers = ", ".join(f"{pid}: {n}" for pid, n in sorted(self.items_by_worker.items()))
        logger.info("language work: %d items in worker processes (PID: items) %s; crawl process %d; %d pool "
                    "restarts", sum(self.items_by_worker.values()), workers or "none", os.getpid(), self.restarts)

    @contextmanager
    def shared(self, run_id: str):
        """`with pool.shared(run_id):` the pool runs, and every spider of that run uses it."""
        try:
            LanguagePool._shared[run_id] = self.start()
            yield self
        finally:
            LanguagePool._shared.pop(run_id, None)
            self.close()
