"""`<db>.lock`: one nightly cycle or `pressmon crawl` per database at a time.

The lock file holds the PID, start time and command of the holder under an `fcntl.flock` on
an open descriptor, which the kernel drops when the holder dies, even by SIGKILL. The cycle's
crawl child inherits the descriptor (`pass_fds`), so the lock is held as long as any part of
the cycle lives, and the child's own `CycleLock` finds that descriptor and goes on under its
parent's lock instead of refusing. A lock file that still names a holder when the lock is free
is the trace of a cycle or crawl that did not finish (`CycleLock.previous`).
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
        super().__init__(f"another pressmon crawl or nightly cycle is running on this database "
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


# Descriptors this process opened for a lock: a second CycleLock here must be refused by
# them, not take them for a parent's lock handed down to it.
_opened_here: set[int] = set()


def _inherited_descriptor(path: Path) -> int | None:
    """A descriptor on `path` that this process was handed by its parent, or None."""
    try:
        wanted = os.stat(path)
        candidates = [int(name) for name in os.listdir("/dev/fd")]
    except OSError:
        return None
    for fd in candidates:
        if fd in _opened_here:
            continue
        try:
            found = os.fstat(fd)
        except OSError:  # the listing's own descriptor, closed by now
            continue
        if (found.st_dev, found.st_ino) == (wanted.st_dev, wanted.st_ino):
            return fd
    return None


class CycleLock:
    """`<db>.lock`: one cycle or crawl per database at a time, released by the kernel on any
    death.

    The file is never deleted (deleting a flock'ed file lets a second process lock a new
    inode under the same name); an empty file means the last holder released it cleanly.
    """

    def __init__(self, db_path: str | os.PathLike[str], command: str = "cycle"):
        self.path = lock_path_for(db_path)
        self.command = command
        self.fd: int | None = None
        self.previous: dict | None = None  # holder left by a cycle or crawl that did not finish
        self.started_at: str | None = None
        # True when held through the parent's descriptor: the parent writes and releases it.
        self.inherited = False

    def acquire(self) -> CycleLock:
        inherited = _inherited_descriptor(self.path)
        if inherited is not None:
            try:
                # Succeeds when the parent's open file holds the lock (flock belongs to it).
                fcntl.flock(inherited, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pass  # some other process holds it: take the ordinary path and be refused
            else:
                holder = _read_holder(inherited)
                self.fd, self.inherited, self.started_at = inherited, True, holder.get("started_at")
                return self
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
        os.write(fd, json.dumps({"pid": os.getpid(), "started_at": self.started_at,
                                 "command": self.command}).encode("utf-8"))
        os.fsync(fd)
        self.fd = fd
        _opened_here.add(fd)
        return self

    def release(self) -> None:
        if self.fd is None:
            return
        if self.inherited:
            self.fd, self.inherited = None, False
            return
        _opened_here.discard(self.fd)
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
