"""Run a fast, bounded read handler on the event loop instead of the thread pool.

FastAPI runs every plain ``def`` handler in a worker thread; on a small machine the two
thread hand-offs per request cost more than an index read (measured in bench/api.py).
Handlers marked ``@inline`` read metadata through read sessions, which on SQLite never
wait for the write lock (db/engine.py), so they block the loop only for the read
itself. Anything that may write, wait, stream or take long (logins, playback, exports,
verify runs, audit scans) stays a plain ``def`` in the pool.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any, ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")


def inline(handler: Callable[P, R]) -> Callable[P, Coroutine[Any, Any, R]]:
    """``handler`` as a coroutine function; FastAPI reads its signature and annotations
    through ``__wrapped__``."""

    @functools.wraps(handler)
    async def run(*args: P.args, **kwargs: P.kwargs) -> R:
        return handler(*args, **kwargs)

    return run
