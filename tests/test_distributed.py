"""pyffi beyond one process: a directory of CSV files read in parallel on a dask cluster.

The workers are processes, so what ``pyffi.csv.read_columns`` returns (Vectors and
lists of str) travels back pickled. The manual's "Beyond one machine" page (docs/beyond.md) shows
the same code.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from dask import distributed
from support import UNDER_VALGRIND

import pyffi

pytestmark = pytest.mark.skipif(UNDER_VALGRIND, reason="worker processes are not valgrind's")


def write_files(directory: Path, n_files: int) -> list[Path]:
    rng = random.Random(7)
    paths = []
    for k in range(n_files):
        lines = ["id,price,name"]
        for i in range(rng.randrange(1, 400)):
            name = rng.choice(["ann", "bob", "古明地", 'say "hi"', "a,b"])
            quoted = '"' + name.replace('"', '""') + '"'
            lines.append(f"{k * 1000 + i},{rng.uniform(-1e6, 1e6)!r},{quoted}")
        path = directory / f"part-{k:03}.csv"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        paths.append(path)
    return paths


def concat(parts: list[dict[str, pyffi.Vector | list[str]]]) -> dict[str, object]:
    """One column per name: numeric Vectors joined with numpy, str lists chained."""
    out: dict[str, object] = {}
    for name, first in parts[0].items():
        if isinstance(first, pyffi.Vector):
            out[name] = np.concatenate([np.asarray(part[name]) for part in parts])
        else:
            out[name] = [s for part in parts for s in part[name]]  # type: ignore[union-attr]
    return out


def test_read_columns_of_a_directory_on_a_local_cluster(tmp_path: Path) -> None:
    paths = sorted(write_files(tmp_path, 12))
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    )
    with cluster, distributed.Client(cluster) as client:
        futures = client.map(pyffi.csv.read_columns, [str(p) for p in paths])
        parts = client.gather(futures)
        # the work ran in the worker processes, not here
        assert len(client.scheduler_info()["workers"]) == 2
    assert all(isinstance(part["id"], pyffi.Vector) for part in parts)
    together = concat(parts)

    one_by_one = concat([pyffi.csv.read_columns(p) for p in paths])
    assert list(together) == ["id", "price", "name"]
    assert together["id"].dtype == np.int64 and together["price"].dtype == np.float64
    np.testing.assert_array_equal(together["id"], one_by_one["id"])
    np.testing.assert_array_equal(together["price"], one_by_one["price"])
    assert together["name"] == one_by_one["name"]
    assert len(together["name"]) == sum(len(p.read_text().splitlines()) - 1 for p in paths)
