"""Counting in one process against counting on Dask worker processes, from the command line.

    .venv/bin/python benchmarks/count_scaling.py [--model RUN_DIR] [--workers 1 2] [--shared ../shared]

Runs `count_calls.py --fresh` as a user would (process start included) over the 40 shared forest
recordings: in one process (the default), then with `--workers N` for each N. Each mode also counts the
first recording alone, so start-up (imports, the local cluster, model loads) is told apart from the
per-recording cost. Prints wall seconds, x real time and the ratio to one process measured in the
same run, the Dask path's cost per recording beyond one process's, and whether every output matches.
Counting speed does not depend on what the network learnt, so without --model an untrained compact
network is used.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _untrained_model(folder: Path) -> Path:
    from model.detection.detector import Detector
    from model.learning.networks import build_model
    from model.learning.training import default_frontend

    frontend = default_frontend("compact")
    Detector(build_model("compact", frontend.input_shape, 2, frontend=frontend), frontend, ["no call", "call"]).save(folder)
    return folder


def _count(inputs: list[Path], model: Path, output: Path, extra: list[str]) -> float:
    """Wall seconds of one count_calls.py run; stops the benchmark if the run fails."""
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, str(ROOT / "count_calls.py"), "--input", *map(str, inputs), "--model",
                           str(model), "--output", str(output), "--fresh", "--export", *extra],
                          capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        sys.exit(f"count_calls.py {' '.join(extra)} failed:\n{proc.stderr}")
    return wall


def main() -> None:
    from data_pipeline.audio.decoding import audio_duration_s, list_audio_files

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", help="trained run folder (default: an untrained compact network)")
    p.add_argument("--shared", default=str(ROOT.parent / "shared"))
    p.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = p.parse_args()

    recordings = list_audio_files(Path(args.shared) / "forest")
    audio_s = sum(audio_duration_s(r) for r in recordings)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = Path(args.model) if args.model else _untrained_model(tmp / "model")
        modes = [("one process", [])] + [(f"--workers {n}", ["--workers", str(n)]) for n in args.workers]
        rows = []
        for name, extra in modes:
            out = tmp / name.replace(" ", "_").replace("-", "")
            one = _count(recordings[:1], model, out / "one.csv", extra)
            whole = _count(recordings, model, out / "all.csv", extra)
            rows.append((name, one, whole, (out / "all.csv").read_bytes() + (out / "all_events.csv").read_bytes()))
    base_one, base_whole, base_bytes = rows[0][1:]
    print(f"{len(recordings)} recordings, {audio_s / 3600:.2f} h of audio; count_calls.py end to end, process start included")
    for name, one, whole, outputs in rows:
        per_rec = ((whole - one) - (base_whole - base_one)) / (len(recordings) - 1)
        print(f"{name:12s} {whole:6.1f} s = {audio_s / whole:4.0f}x real time, {base_whole / whole:.2f}x the speed of "
              f"one process; first recording alone {one:5.1f} s; beyond one process: {per_rec:+.2f} s per recording; "
              f"outputs {'identical' if outputs == base_bytes else 'DIFFERENT'}")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M')}")


if __name__ == "__main__":
    from model import cli

    cli.run(main)  # one-line errors; the MP3 decoder's chatter dropped
