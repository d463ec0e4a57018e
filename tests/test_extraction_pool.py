"""Article pages extracted in the crawl's worker pool (pipeline/crawl/language.py hands it to
the spiders): the work runs in a worker, an ExtractionError keeps its kind on the way back, and
a worker killed while it extracts a page leaves that page's error row and a crawl that ends.
The hostile pages' error kinds through the pool: tests/test_fault_matrix.py (`pressmon crawl`)."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import signal
import subprocess
import sys
from concurrent.futures import ProcessPoolExecutor

import pytest
from conftest import ROOT, TEST_SCALE, query

from pressmon.crawlers.extract import ExtractionError, extract_page
from pressmon.crawlers.registry import load_registry

# run_crawl of one outlet with a test downloader middleware marking one article's body (the
# mirror's middleware named too: this setting replaces the one the spider adds it to).
MARKED_CRAWL = """
import os, sys
db, mirror, outlet = sys.argv[1:]
from pressmon.crawlers.spiders.base import MIRROR_MIDDLEWARE_PRIORITY
from pressmon.pipeline.crawl.runner import run_crawl
run_crawl(db, [outlet], mirror=mirror, politeness_scale=float(os.environ["SCALE"]), progress=False,
          settings={"PRESSMON_LANGUAGE_WORKERS": 2, "DOWNLOADER_MIDDLEWARES": {
              "pressmon.crawlers.mirror.middleware.MirrorMiddleware": MIRROR_MIDDLEWARE_PRIORITY,
              "test_extraction_pool.MarkOnePage": 100}})
"""


def _reader_pid(path: str, body: bytes) -> bytes:
    with open(path, "a") as out:
        out.write(f"{os.getpid()} {os.getppid()}\n")
    return body


class TellsItsReader(bytes):
    """A body whose unpickling writes the PID (and parent PID) of the process that reads it."""

    def __reduce__(self):
        return _reader_pid, (os.environ["PRESSMON_TEST_PID_FILE"], bytes(self))


class KillsItsReader(bytes):
    """A body whose unpickling SIGKILLs the process that reads it, as the OOM killer would."""

    def __reduce__(self):
        return signal.raise_signal, (signal.SIGKILL,)


class MarkOnePage:
    """Downloader middleware: one article's response body comes back as a marked body."""

    def process_response(self, request, response, spider=None):
        if request.url == os.environ.get("PRESSMON_TEST_TELL_AT"):
            return response.replace(body=TellsItsReader(response.body))
        if request.url == os.environ.get("PRESSMON_TEST_KILL_AT"):
            return response.replace(body=KillsItsReader(response.body))
        return response


def crawl_marked(db, mirror, outlet: str, **env: str) -> subprocess.Popen:
    process = subprocess.Popen([sys.executable, "-c", MARKED_CRAWL, str(db), mirror, outlet], cwd=ROOT,
                               env={**os.environ, "SCALE": TEST_SCALE, "PYTHONPATH": str(ROOT / "tests"), **env},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return process


@pytest.mark.parametrize("kind", ["truncated", "soft_404", "bad_charset", "parse_failed"])
def test_an_extraction_error_keeps_its_kind_when_pickled(kind):
    error = pickle.loads(pickle.dumps(ExtractionError(f"the page is {kind}", kind=kind)))
    assert (type(error), str(error), error.kind) == (ExtractionError, f"the page is {kind}", kind)


def test_an_extraction_error_raised_in_a_worker_keeps_its_kind():
    outlet = load_registry()["baogialai"]
    cut = b"<html><head><title>Gia Lai</title></head><body><article><p>" + "Tỉnh Gia Lai ".encode() * 50
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as pool:
        future = pool.submit(extract_page, cut, "https://baogialai.com.vn/a-post1.html", outlet)
        with pytest.raises(ExtractionError) as raised:
            future.result()
    assert raised.value.kind == "truncated" and "cut short" in str(raised.value)


def test_pages_are_extracted_in_a_worker_process(tmp_path, mirror, manifest):
    db, pids = tmp_path / "told.db", tmp_path / "pids"
    expected = [a["url"] for a in manifest["outlets"]["gialai-gov"]["articles"]]
    process = crawl_marked(db, mirror, "gialai-gov", PRESSMON_TEST_TELL_AT=expected[0],
                           PRESSMON_TEST_PID_FILE=str(pids))
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr[-3000:]
    (pid, parent), = [tuple(map(int, line.split())) for line in pids.read_text().splitlines()]
    assert parent == process.pid and pid != process.pid, "read by a worker forked from the crawl"
    assert {r[0] for r in query(db, "select url from articles")} == set(expected)


def test_a_worker_killed_while_extracting_leaves_an_error_row_and_the_crawl_ends(tmp_path, mirror, manifest):
    db = tmp_path / "killed.db"
    expected = [a["url"] for a in manifest["outlets"]["gialai-gov"]["articles"]]
    kill_at = expected[len(expected) // 2]
    process = crawl_marked(db, mirror, "gialai-gov", PRESSMON_TEST_KILL_AT=kill_at)
    _, stderr = process.communicate(timeout=300)
    assert process.returncode == 0, stderr[-3000:]
    errors = dict(query(db, "select url, detail from crawl_errors where kind = 'pipeline_error'"))
    assert "while this page was being extracted" in errors[kill_at]
    assert all("worker process died" in detail for detail in errors.values()), errors
    # Other pages in the pool when it broke have their rows; every page is stored or recorded.
    stored = {r[0] for r in query(db, "select url from articles")}
    recorded = {r[0] for r in query(db, "select url from crawl_errors")}
    assert set(expected) <= stored | recorded and kill_at not in stored
    assert len(stored) >= len(expected) // 2
    assert "the pool was restarted (1 restarts this crawl)" in stderr
