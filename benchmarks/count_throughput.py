"""Counting throughput on the 40 shared forest recordings (2 hours of 48 kHz stereo MP3), end to end.

    .venv/bin/python benchmarks/count_throughput.py --model RUN_DIR [--shared ../shared] [--profile out.prof]

Times `model.detection.counting.count_calls` over every recording (decoding, resampling, spectrograms, the
network, merging), then, as baselines measured in the same run on the same machine, decoding alone
with each decoder. Prints x real time (audio seconds / wall seconds) and the ratios, plus the
counts' checksum so a speed change can be shown not to change a single count.
Target (issue 5): >= 300x real time on 2 CPU cores.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def main() -> None:
    from data_pipeline.audio.decoding import (
        audio_duration_s,
        decode_audio,
        list_audio_files,
        require_decoder,
    )
    from model.detection.counting import count_calls
    from model.detection.detector import Detector

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="trained run folder")
    p.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    p.add_argument("--baseline-files", type=int, default=5, help="recordings decoded by each decoder for the baselines")
    p.add_argument("--profile", help="write a cProfile of the counting run here")
    args = p.parse_args()

    recordings = list_audio_files(Path(args.shared) / "forest")
    audio_s = sum(audio_duration_s(r) for r in recordings)
    detector = Detector.load(args.model)
    count_calls(detector, recordings[:1], progress=False)  # warm-up: graph tracing, thread pools

    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    t0 = time.perf_counter()
    result = count_calls(detector, recordings, progress=False)
    wall = time.perf_counter() - t0
    if profiler:
        profiler.disable()
        profiler.dump_stats(args.profile)

    counts = ",".join(f"{r}:{c}" for r, c in zip(result.counts["recording"], result.counts["call_count"]))
    print(f"counting: {len(recordings)} recordings, {audio_s / 3600:.2f} h of audio in {wall:.1f} s "
          f"= {audio_s / wall:.0f}x real time; {result.counts['call_count'].sum()} calls; "
          f"counts checksum {hashlib.sha1(counts.encode()).hexdigest()[:10]}")
    for backend in ("soundfile", "tfio"):
        try:
            require_decoder(backend)
        except ValueError:
            print(f"decode + resample only, {backend:9s}: not installed here (make venv-tfio), not measured")
            continue
        subset = recordings[: args.baseline_files]
        t0 = time.perf_counter()
        for r in subset:
            decode_audio(r, detector.frontend.sample_rate_hz, backend)
        seconds = time.perf_counter() - t0
        speed = sum(audio_duration_s(r) for r in subset) / seconds
        print(f"decode + resample only, {backend:9s}: {seconds / len(subset):.2f} s per recording = {speed:.0f}x real time "
              f"(counting end to end is {audio_s / wall / speed:.2f}x this)")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M')}; counting settings {detector.counting}")


if __name__ == "__main__":
    from model import cli

    cli.run(main)  # one-line errors; the MP3 decoder's chatter dropped
