"""`<db>.lock`: one nightly cycle per database at a time.

The lock file holds the PID and start time of the running cycle under an `fcntl.flock` on an
open descriptor, which the kernel drops when the holder dies, even by SIGKILL. The crawl child
inherits the descriptor, so the lock is held as long as any part of the cycle lives. A lock
file that still names a holder when the lock is free is the trace of a cycle that did not
finish (`CycleLock.previous`).
"""

from __future__ import annotations

import fcntl
import json
import os
from pathlib import Path

from pressmon.crawlers.dates import now


class AlreadyRunning(RuntimeError):
    """Another cycle holds the lock of this database."""

    def __init__(self, lock_path: Path, pid: int | None, started_at: str | None):
        self.lock_path, self.pid, self.started_at = lock_path, pid, started_at
        super().__init__(f"another pressmon cycle is running on this database "
                         f"(PID {pid if pid is not None else '?'}, since {started_at or '?'}; lock {lock_path})")


def lock_path_for(db_path: str | os.PathLike[str]) -> Path:
    return Path(f"{Path(db_path).resolve()}.lock")


def _read_holder(fd: int) -> dict:
    os.lseek(fd, 0, os.SEEK_SET)
    raw = b""
    while chunk := os.read(fd, 4096):
        raw += chunk
    try:
        holder = json.loads(raw.decode("utf-8")) if raw.strip() else {}
    except ValueError:
        holder = {"raw": raw.decode("utf-8", "replace")[:200]}
    return holder if isinstance(holder, dict) else {}


class CycleLock:
    """`<db>.lock`: one cycle per database at a time, released by the kernel on any death.

    The file is never deleted (deleting a flock'ed file lets a second process lock a new
    inode under the same name); an empty file means the last holder released it cleanly.
    """

    def __init__(self, db_path: str | os.PathLike[str]):
        self.path = lock_path_for(db_path)
        self.fd: int | None = None
        self.previous: dict | None = None  # holder left by a cycle that did not finish
        self.started_at: str | None = None

    def acquire(self) -> CycleLock:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)  # not inherited unless passed
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise AlreadyRunning(self.path, holder.get("pid"), holder.get("started_at")) from None
        except BaseException:
            os.close(fd)
            raise
        left = _read_holder(fd)
        self.previous = left or None
        self.started_at = now()
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, json.dumps({"pid": os.getpid(), "started_at": self.started_at}).encode("utf-8"))
        os.fsync(fd)
        self.fd = fd
        return self

    def release(self) -> None:
        if self.fd is None:
            return
        try:
            os.ftruncate(self.fd, 0)
            fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> CycleLock:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()
