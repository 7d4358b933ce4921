"""The chapters: the seeds' examples in C (numbers, text, arrays, structs, callbacks,
compute), over the api/abi backend (:mod:`.backend`).

``import pyffi`` imports none of them: ``pyffi.add`` and the other chapter names
are loaded on first use, and only then is the chapters' C library opened.
"""
