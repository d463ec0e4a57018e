"""The nightly log: one file beside the database (rotated) and stdout, with the crawl child's
lines relayed at the level Scrapy gave them."""

from __future__ import annotations

import logging
import logging.handlers
import re
import sys
from collections.abc import Iterable
from pathlib import Path

# Scrapy's LOG_FORMAT: "%(asctime)s [%(name)s] %(levelname)s: %(message)s".
_SCRAPY_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[(?P<name>[^\]]+)\] "
                          r"(?P<level>DEBUG|INFO|WARNING|ERROR|CRITICAL): (?P<message>.*)$")


def default_log_file(db_path) -> Path:
    return Path(f"{Path(db_path).resolve()}.nightly.log")


def setup_logging(log_file, level: int = logging.INFO) -> None:
    """Log to `log_file` (rotated at 10 MB, 5 kept) and stdout, once per process."""
    root = logging.getLogger("pressmon")
    for handler in list(root.handlers):
        root.removeHandler(handler)
        handler.close()
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    Path(log_file).parent.mkdir(parents=True, exist_ok=True)
    handlers = [logging.handlers.RotatingFileHandler(log_file, maxBytes=10_000_000, backupCount=5,
                                                     encoding="utf-8"),
                logging.StreamHandler(sys.stdout)]
    for handler in handlers:
        handler.setFormatter(fmt)
        root.addHandler(handler)
    root.setLevel(level)
    root.propagate = False


def relay(lines: Iterable[str], log: logging.Logger) -> None:
    """Log each line of the crawl child's output at its own level: a Scrapy log line at the
    level it names, any other line (a traceback, the stats, the closing table) at the level
    of the line before it."""
    level = logging.INFO
    for line in lines:
        line = line.rstrip("\n")
        if not line.strip():
            continue
        match = _SCRAPY_LINE.match(line)
        if match:
            level = logging.getLevelName(match["level"])
            log.log(level, "[%s] %s", match["name"], match["message"])
        else:
            log.log(level, "%s", line)
