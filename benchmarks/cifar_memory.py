"""Peak memory and wall time of every solution notebook on CIFAR-10 shapes, one core, one BLAS thread.

Builds a synthetic archive in the exact format of ``cifar-10-python.tar.gz`` (the folder
``cifar-10-batches-py`` with ``data_batch_1`` .. ``data_batch_5``, ``test_batch`` and ``batches.meta``:
pickled dicts with bytes keys, ``b"data"`` uint8 (10000, 3072) rows of 1024 red, green, blue values and
``b"labels"`` a list of ints), whose images are random but depend on their class (a smooth template per
class plus noise), so training learns something. It is cached in ``--workdir`` and reused.

Each solution notebook (``solutions/<a>/<a>.ipynb``) then runs in a fresh kernel with the dataset
setting ``cifar10``, pinned to CPU 0 (the affinity the kernel inherits) with one BLAS thread. The product
checks the archive against the real CIFAR-10 md5 and this archive is not the real one, so the
benchmark executes one extra cell first, in that kernel only, that sets ``cs231kit.data.CIFAR10_MD5`` to
the synthetic archive's digest; the product itself has no way around its check. Reported per notebook:
wall time (kernel start to last cell) and the kernel's peak RSS (``VmHWM`` of ``/proc/<pid>/status``), as
a table and as JSON (``--json``); ``--cells N`` also lists the N cells that raised the peak most.

    MPLBACKEND=Agg .venv/bin/python benchmarks/cifar_memory.py [--assignments loss,features] [--cells 5]
"""

import argparse
import hashlib
import io
import json
import os
import pickle
import tarfile
import tempfile
import time
from pathlib import Path

import nbformat
import numpy as np
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[1]
ASSIGNMENTS = ("loss", "gradcheck", "optimizers", "features", "regularization")
MEMBER_DIR = "cifar-10-batches-py"
ARCHIVE = "cifar-10-python.tar.gz"
CLASS_NAMES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")
BATCH_SIZE = 10_000
ONE_THREAD = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
GB = 1e9  # decimal gigabytes: the stricter reading of the 1.0 GB goal


def class_templates(rng, num_classes=len(CLASS_NAMES)):
    """One smooth colour template per class: random 4x4x3 blocks upsampled to 32x32x3, in [-1, 1]."""
    coarse = rng.uniform(-1, 1, size=(num_classes, 4, 4, 3))
    return coarse.repeat(8, axis=1).repeat(8, axis=2).astype(np.float32)


def synthetic_batch(rng, templates, size=BATCH_SIZE):
    """A batch dict as CIFAR-10 pickles it: ``b"data"`` uint8 (size, 3072) channel-major, ``b"labels"``."""
    labels = rng.integers(len(templates), size=size)
    noise = rng.standard_normal((size, 32, 32, 3), dtype=np.float32)
    images = np.clip(128 + 60 * templates[labels] + 50 * noise, 0, 255).astype(np.uint8)
    rows = images.transpose(0, 3, 1, 2).reshape(size, -1)  # 1024 red, then green, then blue values
    return {b"batch_label": b"synthetic", b"labels": labels.tolist(), b"data": np.ascontiguousarray(rows)}


def _add_member(tar, name, obj):
    """Add ``obj`` pickled (protocol 2, as the Python 2 original) as ``cifar-10-batches-py/<name>``."""
    payload = pickle.dumps(obj, protocol=2)
    info = tarfile.TarInfo(f"{MEMBER_DIR}/{name}")
    info.size = len(payload)
    tar.addfile(info, io.BytesIO(payload))


def write_synthetic_archive(path, seed=0):
    """Write a synthetic CIFAR-10 python archive to ``path`` (atomically); return its md5."""
    rng = np.random.default_rng(seed)
    templates = class_templates(rng)
    part = path.with_name(path.name + ".part")
    with tarfile.open(part, "w:gz", compresslevel=1) as tar:
        for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
            _add_member(tar, name, synthetic_batch(rng, templates))
        _add_member(tar, "batches.meta", {b"label_names": [n.encode() for n in CLASS_NAMES],
                                          b"num_cases_per_batch": BATCH_SIZE, b"num_vis": 3072})
    os.replace(part, path)


def archive_md5(path):
    """Hex md5 of the file at ``path``."""
    digest = hashlib.md5()
    with open(path, "rb") as file:
        for chunk in iter(lambda: file.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def kernel_status_bytes(pid, field):
    """A ``/proc/<pid>/status`` memory field (``VmHWM``, ``VmRSS``) in bytes."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


class PeakTracker:
    """Records the kernel's high-water mark after each cell (an ``on_cell_executed`` hook of nbclient)."""

    def __init__(self):
        self.client = None
        self.peak = 0
        self.raises = []  # (bytes the cell added to the peak, cell index, first source line)

    def __call__(self, cell, cell_index, **_):
        peak = kernel_status_bytes(self.client.km.provisioner.process.pid, "VmHWM")
        if peak > self.peak:
            first_line = next((line for line in cell.source.splitlines() if line.strip()), "")
            self.raises.append((peak - self.peak, cell_index, cell.get("id", ""), first_line[:70]))
            self.peak = peak


def digest_patch_cell(md5):
    """The benchmark's first cell: accept the synthetic archive's digest, in this kernel only."""
    return nbformat.v4.new_code_cell(f"import cs231kit.data\ncs231kit.data.CIFAR10_MD5 = {md5!r}")


def run_notebook(assignment, md5, data_dir):
    """Execute ``solutions/<a>/<a>.ipynb`` on the synthetic CIFAR-10; return its measurements."""
    path = REPO / "solutions" / assignment / f"{assignment}.ipynb"
    notebook = nbformat.read(str(path), as_version=4)
    notebook.cells.insert(0, digest_patch_cell(md5))
    tracker = PeakTracker()
    environment = {"CS231KIT_DATASET": "cifar10", "CS231KIT_DATA": str(data_dir), "CS231KIT_PROGRESS": "0",
                   "MPLBACKEND": "Agg", **ONE_THREAD}
    os.environ.update(environment)  # the kernel inherits this process's environment and CPU affinity
    client = NotebookClient(notebook, timeout=None, kernel_name="python3", on_cell_executed=tracker,
                            resources={"metadata": {"path": str(path.parent)}})
    tracker.client = client
    start = time.perf_counter()
    client.execute()
    return {"assignment": assignment, "seconds": round(time.perf_counter() - start, 1),
            "peak_rss_gb": round(tracker.peak / GB, 3),
            "cells_raising_peak": sorted(tracker.raises, reverse=True)}


def prepared_archive(workdir):
    """The synthetic archive in ``workdir`` (built on first use) and its md5."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / ARCHIVE
    if not path.exists():
        print(f"writing a synthetic CIFAR-10 archive to {path} ...", flush=True)
        write_synthetic_archive(path)
    return path, archive_md5(path)


def print_table(results, num_cells, limit_gb):
    """The per-notebook table, and the cells that raised each peak most when ``num_cells`` > 0."""
    print(f"{'notebook':<15} {'wall s':>8} {'peak RSS GB':>13}  within {limit_gb} GB")
    for result in results:
        ok = "yes" if result["peak_rss_gb"] <= limit_gb else "NO"
        print(f"{result['assignment']:<15} {result['seconds']:>8.1f} {result['peak_rss_gb']:>13.3f}  {ok}")
        for added, index, cell_id, line in result["cells_raising_peak"][:num_cells]:
            print(f"{'':<6}+{added / 2**20:7.0f} MiB  cell {index:3d} [{cell_id}] {line}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignments", default=",".join(ASSIGNMENTS), help="comma-separated subset")
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "cs231kit-cifar-memory",
                        help="where the synthetic archive is cached")
    parser.add_argument("--cells", type=int, default=0, help="list the N cells that raised the peak most")
    parser.add_argument("--json", type=Path, help="also write the results here as JSON")
    parser.add_argument("--limit", type=float, default=1.0, help="peak RSS goal in GB (1e9 bytes)")
    args = parser.parse_args(argv)
    assignments = [a.strip() for a in args.assignments.split(",") if a.strip()]
    unknown = set(assignments) - set(ASSIGNMENTS)
    if unknown:
        parser.error(f"unknown assignments: {', '.join(sorted(unknown))}")
    _, md5 = prepared_archive(args.workdir)
    os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})  # one core, inherited by every kernel
    results = []
    for assignment in assignments:
        print(f"running {assignment} ...", flush=True)
        results.append(run_notebook(assignment, md5, args.workdir))
    print_table(results, args.cells, args.limit)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
