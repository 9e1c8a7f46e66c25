"""Training throughput: one epoch over 1,000 clips, features computed once and cached.

    .venv/bin/python benchmarks/train_throughput.py [--clips 1000] [--arch compact seed]

For each network, with its own front end: the spectrograms are computed once (as training does),
one epoch runs to trace the graph, then the next epoch is timed. The seed (blog post) network is
measured beside the compact one in the same run, so the ratio holds even when the machine drifts.
Target (issue 5): the compact network trains one epoch over 1,000 3 s clips in under 30 s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    import keras
    import numpy as np

    from data_pipeline.features.frontend import spectrogram
    from data_pipeline.training_data.datasets import feature_dataset
    from model.learning.networks import build_model
    from model.learning.training import default_frontend

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--clips", type=int, default=1000)
    p.add_argument("--arch", nargs="+", default=["compact", "seed"])
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--mixed-precision", action="store_true", help="float16 compute, as train.py --mixed-precision")
    p.add_argument("--jit", action="store_true", help="XLA, as train.py --jit")
    args = p.parse_args()

    rng = np.random.default_rng(0)
    timings = {}
    for arch in args.arch:
        fe = default_frontend(arch)
        waves = (0.1 * rng.standard_normal((args.clips, fe.clip_samples))).astype(np.float32)
        labels = (np.arange(args.clips) % 2).astype(np.float32)
        t0 = time.perf_counter()
        features = np.concatenate([spectrogram(w, fe).numpy() for w in np.array_split(waves, 20)])  # once
        features_s = time.perf_counter() - t0
        ds = feature_dataset(features, labels, fe, args.batch_size, shuffle=True)
        keras.utils.set_random_seed(0)
        keras.mixed_precision.set_global_policy("mixed_float16" if args.mixed_precision else "float32")
        net = build_model(arch, fe.input_shape)
        keras.mixed_precision.set_global_policy("float32")
        net.compile(optimizer="adam", loss="binary_crossentropy", jit_compile=args.jit)
        net.fit(ds, epochs=1, verbose=0)  # trace the graph
        t0 = time.perf_counter()
        net.fit(ds, epochs=1, verbose=0)
        timings[arch] = time.perf_counter() - t0
        print(f"{arch:8s}: input {fe.input_shape}, {net.count_params():,} parameters; features for {args.clips} clips "
              f"{features_s:.1f} s once; one epoch {timings[arch]:.1f} s ({args.clips / timings[arch]:.0f} clips/s)")
    if "compact" in timings and "seed" in timings:
        print(f"seed / compact epoch time: {timings['seed'] / timings['compact']:.1f}x")
    import tensorflow as tf

    gpus = len(tf.config.list_physical_devices("GPU"))
    print(f"options: mixed precision {args.mixed_precision}, XLA {args.jit}; GPUs visible: {gpus}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, keras {keras.__version__} "
          f"({keras.backend.backend()}), {time.strftime('%Y-%m-%d %H:%M')}")


if __name__ == "__main__":
    from model import cli

    cli.run(main)  # one-line errors; the MP3 decoder's chatter dropped
