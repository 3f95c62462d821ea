"""Python's cycle collector paused while an import builds its rows.

An import makes hundreds of thousands of small lists and dicts (a row, its values) that hold
no cycles and are freed by their reference counts. Each 700 new ones trigger a collection,
and the older generations' collections then walk every row made so far: measured, a third of
the validation's time. Pausing it for one batch of rows at a time costs nothing (the rows are
not garbage), and it runs again between batches for the rest of the process.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_pausing = 0  # the batches, of any thread, in progress
_resume = False  # whether the collector was on when the first of them began


@contextmanager
def paused() -> Iterator[None]:
    """The collector off for the block, back on when the last paused block of any thread
    ends (if it was on when the first began)."""
    global _pausing, _resume
    with _lock:
        if _pausing == 0:
            _resume = gc.isenabled()
            gc.disable()
        _pausing += 1
    try:
        yield
    finally:
        with _lock:
            _pausing -= 1
            if _pausing == 0 and _resume:
                gc.enable()
