"""Forked worker processes, as every pool of pressmon's starts them.

The pools (the crawl's language workers, `pressmon classify --workers`) fork after the parent
has loaded and warmed the model, so the workers share it copy-on-write and load nothing.
"""

from __future__ import annotations

import ctypes
import multiprocessing
import os
import signal
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor

PR_SET_PDEATHSIG = 1  # linux/prctl.h


def forked_pool(workers: int, initializer: Callable | None = None, initargs: tuple = (),
                niceness: int = 0) -> ProcessPoolExecutor:
    """A pool of `workers` processes forked from this one; each runs `initializer(*initargs)`
    (inherited at fork, never pickled) after `_start_worker`."""
    return ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"), initializer=_start_worker,
                               initargs=(os.getpid(), niceness, initializer, initargs))


def _start_worker(parent_pid: int, niceness: int, initializer: Callable | None, initargs: tuple) -> None:
    if sys.platform == "linux":
        # Die with the parent: an orphan would keep what the parent held (the nightly lock's
        # flock is shared through the inherited open file) and work for no one.
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        if os.getppid() != parent_pid:  # the parent died before prctl took effect
            os._exit(1)
    # Ctrl-C reaches the whole process group; the parent decides how to stop its pool.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if niceness:
        os.nice(niceness)
    if initializer is not None:
        initializer(*initargs)
