"""How much faster is the features notebook's batch HOG than scikit-image called image by image?

Runs the reference solution's HOG (the solution cells of ``solutions/features/features.ipynb``,
executed here without a kernel) on a batch of CIFAR-sized images, and ``skimage.feature.hog`` with
the same parameters on the same grey images in a Python loop, in the same process, and reports
the time per image of both, their ratio, the largest difference of the features, and the peak
memory of each (tracemalloc, in a separate untimed run). The grey conversion is timed for the
batch version only, which favours scikit-image.

    MPLBACKEND=Agg .venv/bin/python benchmarks/hog_speed.py [--images 2000] [--chunk 500] [--repeats 3]
"""

import argparse
import json
import time
import tracemalloc
from pathlib import Path

import numpy as np
from skimage.feature import hog

from cs231kit.data import load_dataset
from cs231kit.features import extract_features
from cs231kit.grading.cells import solution_text

SOURCE = Path(__file__).resolve().parents[1] / "solutions" / "features" / "features.ipynb"
HOG_STAGES = ("rgb_to_gray", "image_gradients", "gradient_magnitude_orientation", "cell_histograms",
              "block_normalize", "hog_features")
HOG_ARGS = dict(orientations=9, pixels_per_cell=(8, 8), cells_per_block=(2, 2), block_norm="L2-Hys")


def load_reference_hog():
    """The notebook's solution of the HOG stages, executed in a fresh namespace; returns hog_features."""
    cells = {c["id"]: c for c in json.loads(SOURCE.read_text())["cells"]}
    namespace = {"np": np, "LUMA_WEIGHTS": (0.299, 0.587, 0.114)}
    for stage in HOG_STAGES:
        exec(compile(solution_text("".join(cells[stage]["source"])), f"<{stage}>", "exec"), namespace)
    return namespace["hog_features"], namespace["rgb_to_gray"]


def best_time(fn, repeats):
    """The fastest of ``repeats`` runs of ``fn()`` in seconds, and its last result."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def peak_memory(fn):
    """Peak bytes allocated (tracemalloc) while ``fn()`` runs."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=2000, help="batch size (CIFAR-sized training images)")
    parser.add_argument("--chunk", type=int, default=500, help="chunk size of the extract_features run")
    parser.add_argument("--repeats", type=int, default=3, help="timed runs of each; the fastest counts")
    args = parser.parse_args()

    hog_features, rgb_to_gray = load_reference_hog()
    images = load_dataset("offline").X_train[:args.images]
    gray = rgb_to_gray(images)
    runs = {
        "batch (one call)": lambda: hog_features(images),
        f"extract_features, chunks of {args.chunk}": lambda: extract_features(
            images, hog_features, chunk_size=args.chunk, dtype=np.float64, progress=False),
        "scikit-image in a loop": lambda: np.stack([hog(g, **HOG_ARGS) for g in gray]),
    }
    results = {name: best_time(run, args.repeats) for name, run in runs.items()}
    loop_time, loop_features = results["scikit-image in a loop"]
    print(f"HOG of {len(images)} images of {images.shape[1:]} (offline dataset), best of {args.repeats} runs")
    print(f"{'':>32}  {'us/image':>9}  {'speed-up':>8}  {'peak MB':>8}  {'max |diff|':>10}")
    for name, (seconds, features) in results.items():
        difference = np.abs(features - loop_features).max()
        print(f"{name:>32}  {1e6 * seconds / len(images):9.1f}  {loop_time / seconds:7.1f}x  "
              f"{peak_memory(runs[name]) / 1e6:8.1f}  {difference:10.2e}")


if __name__ == "__main__":
    main()
