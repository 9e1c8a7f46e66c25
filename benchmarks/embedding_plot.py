"""How long the t-SNE picture every training run draws (embedding.png) takes, by points and threads.

    .venv/bin/python benchmarks/embedding_plot.py [--points 2000 1000] [--busy]

Times scikit-learn's t-SNE, as model.reporting.diagnostics.plot_embedding runs it, on 64 features of two
seeded clusters, with its default threads and with one. --busy runs it beside a process that keeps one
core working, as a fold's training beside the test suite's other worker or another run does: OpenMP's
threads spin while they wait, which is what costs there.
"""

from __future__ import annotations

import argparse
import multiprocessing
import time


def _spin(stop) -> None:
    while not stop.is_set():
        sum(i * i for i in range(10_000))


def main() -> None:
    import numpy as np
    from sklearn.manifold import TSNE
    from threadpoolctl import threadpool_limits

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--points", type=int, nargs="+", default=[2000, 1000])
    p.add_argument("--busy", action="store_true", help="beside a process keeping one core busy")
    args = p.parse_args()

    stop = multiprocessing.Event()
    neighbour = multiprocessing.Process(target=_spin, args=(stop,), daemon=True)
    if args.busy:
        neighbour.start()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(max(args.points), 64)).astype(np.float32)
    x[::2] += 1.0
    try:
        for n in args.points:
            for threads in (None, 1):
                start = time.perf_counter()
                with threadpool_limits(threads):
                    TSNE(n_components=2, perplexity=30.0, init="pca", random_state=0).fit_transform(x[:n])
                print(f"{n} points, {'default threads' if threads is None else 'one thread'}: "
                      f"{time.perf_counter() - start:.2f} s", flush=True)
    finally:
        stop.set()


if __name__ == "__main__":
    main()
