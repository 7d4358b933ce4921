"""How many items a list or tuple really holds.

``len()`` calls ``__len__``, which a subclass may override to say anything; the
C side must get the number of items the object holds (what ``PyList_GET_SIZE``
says), never a number a Python method made up: one too large makes C read past
the array, zero would empty a list on write-back.

>>> from pyffi._core.sequences import real_len
>>> class Liar(list):
...     def __len__(self): return 1000
>>> real_len(Liar([1, 2])), len(Liar([1, 2]))
(2, 1000)
"""

from __future__ import annotations

from typing import Any

__all__ = ["real_len"]


def real_len(seq: Any) -> int:
    """The number of items of a list or tuple (subclasses included), as C sees them."""
    if isinstance(seq, list):
        return list.__len__(seq)
    if isinstance(seq, tuple):
        return tuple.__len__(seq)
    return len(seq)
