"""Heavy computation in C, on C threads, with the GIL released."""

from __future__ import annotations

import os
from typing import Any, Callable

from .._core.errors import InvalidArgumentError
from .backend import ffi, lib
from .callback import check_progress, f64_input, fail, pending, progress_entry

__all__ = ["compute_heavy"]

_MAX_THREADS = int(lib.PYFFI_COMPUTE_MAX_THREADS)


def compute_heavy(
    data: Any, *, threads: int | None = None, progress: Callable[[int, int], object] | None = None
) -> float:
    """The sum of ``tan(cos(sin(x)))`` over float64 ``data``, computed in C.

    ``data`` is a float64 buffer (numpy, ``array('d')``: read in place, no
    copy) or a sequence of numbers (copied once). The GIL is released for the
    whole computation, which runs on ``threads`` C threads (default
    ``os.cpu_count()``, at most 256). The result is the same for every thread
    count: blocks of the data are summed separately and added in order.

    ``progress(done, total)``, if given, is called from the C threads (one at
    a time, ``done`` increasing, at most about 100 times); if it raises, the
    computation stops and the exception comes out of ``compute_heavy``.

    >>> round(pyffi.compute_heavy([0.0, 1.0], threads=1), 6)
    2.343765
    """
    if threads is None:
        threads = os.cpu_count() or 1
    elif not isinstance(threads, int) or isinstance(threads, bool):
        raise TypeError(
            f"compute_heavy() argument 'threads' must be int, not {type(threads).__name__}"
        )
    if not 1 <= threads <= _MAX_THREADS:
        raise InvalidArgumentError(
            f"compute_heavy() argument 'threads' must be in 1..{_MAX_THREADS}, not {threads}",
            int(lib.PYFFI_INVALID_ARGUMENT),
        )
    check_progress("compute_heavy", progress)
    xs, n = f64_input("compute_heavy", "data", data)
    state = pending(progress, "compute_heavy") if progress is not None else None
    try:
        if state is None:
            result = lib.pyffi_compute_heavy(xs, n, threads, ffi.NULL, ffi.NULL)
        else:
            result = lib.pyffi_compute_heavy(xs, n, threads, progress_entry, ffi.new_handle(state))
    finally:
        ffi.release(xs)
    if result.status:
        fail(result.status, state)
    value: float = result.value
    return value
