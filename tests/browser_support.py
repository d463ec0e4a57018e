"""What the browser tests need besides the browser: Debian's chromium, `pressmon serve` in a
process of its own on a free loopback port, and small readers of what a page shows.

Playwright's own browser download does not work on these machines, so the tests launch the
chromium that apt installs (`.ci/run` installs it when missing).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import sys
import time
import unicodedata
import urllib.error
import urllib.request
from pathlib import Path

from conftest import ROOT

# Where Debian and Ubuntu put the browser binary (the `chromium` on PATH is a shell wrapper
# that Playwright can launch too, but the binary is what the wrapper runs).
CHROMIUM_PATHS = ("/usr/lib/chromium/chromium", "/usr/lib/chromium-browser/chromium-browser")


def find_chromium() -> str | None:
    for path in CHROMIUM_PATHS:
        if Path(path).is_file():
            return path
    return shutil.which("chromium") or shutil.which("chromium-browser")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Server:
    """`pressmon serve` on 127.0.0.1 as a user starts it; stopped by `stop()`."""

    def __init__(self, db: Path, *extra: str, log: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self._log_file = open(log, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "pressmon.pipeline.cli", "serve", "--db", str(db), "--port", str(self.port), *extra],
            cwd=ROOT, stdout=self._log_file, stderr=subprocess.STDOUT)

    def wait_until_answering(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"pressmon serve exited with {self.process.returncode}: {self.output()[-2000:]}")
            try:
                urllib.request.urlopen(self.url + "/-/versions.json", timeout=2).close()
                return
            except urllib.error.HTTPError:
                return  # any HTTP answer (a redirect to the login page, a 403) means it is up
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"pressmon serve did not answer in {timeout} s: {self.output()[-2000:]}")

    def output(self) -> str:
        self._log_file.flush()
        return self.log.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log_file.close()


def folded(text: str) -> str:
    """Lower case without diacritics (đ as d): what a search without diacritics matches."""
    text = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return unicodedata.normalize("NFC", "".join(c for c in text if unicodedata.category(c) != "Mn"))


# Datasette's English chrome (0.65's templates and table.js) and the plugins' (login, errors,
# dashboards). None of them may show on a staff page; words that Vietnamese pages legitimately
# use (CSV, Excel, XLSX, SQL in a description) are not listed.
ENGLISH_CHROME = (
    "Powered by", "This data as", "rows where", "sorted by", "Custom SQL query",
    "Menu", "Next page", "Error 404", "Error 403", "Error 500", "Log in", "Log out", "Logged in as",
    "Search:", "Apply", "Suggested facets", "View and edit SQL", "Edit SQL", "Advanced export",
    "Export CSV", "download file", "stream all rows", "expand labels", "descending",
    "Queries took", "Data license", "Data source", "Show all columns", "Sort ascending",
    "Sort descending", "Facet by this", "Links from other tables", "Not found", "Forbidden",
    "Permission denied", "Interrupted", "Username", "Password", "Invalid username",
    "This instance does not have", "Query parameters", "Run SQL", "Format SQL", "Hide",
    "Show", "home",
    # vega-embed's menu on each chart (the dashboard)
    "Click to view", "Save as", "View Source", "View Compiled", "Open in Vega Editor",
)
