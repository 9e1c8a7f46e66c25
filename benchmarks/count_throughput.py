"""Counting throughput on the 40 shared forest recordings (2 hours of 48 kHz stereo MP3), end to end.

    .venv/bin/python benchmarks/count_throughput.py --model RUN_DIR [RUN_DIR...] [--shared ../shared] [--profile out.prof]
        [--end-to-end | --end-to-end-only [--rounds N]] [--default-threads]

Times `model.detection.counting.count_calls` over every recording (decoding, resampling, spectrograms, the
network, merging), then, as baselines measured in the same run on the same machine, decoding alone
with each decoder. Prints x real time (audio seconds / wall seconds) and the ratios, plus the
counts' checksum so a speed change can be shown not to change a single count.
Targets: >= 300x real time on 2 CPU cores (issue 5); >= 1000x, within 1.3x of decoding alone, and end to end
(--end-to-end) >= 600x and within 1.5x of soundfile reading the files (issue 13). --end-to-end-only times just
that pair, N rounds, from a parent that never loads TensorFlow, as from a user's shell (after the counting in this
process, the parent holds TensorFlow, its threads and memory while count_calls.py runs).
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
    from model.detection.counting import count_calls, counting_threads
    from model.detection.detector import load_detector

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, nargs="+", help="trained run folder (several: their scores averaged)")
    p.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    p.add_argument("--baseline-files", type=int, default=5, help="recordings decoded by each decoder for the baselines")
    p.add_argument("--profile", help="write a cProfile of the counting run here")
    p.add_argument("--end-to-end", action="store_true",
                   help="also time count_calls.py from the command line (process start included) against reading the "
                        "same files with soundfile alone in a fresh process")
    p.add_argument("--end-to-end-only", action="store_true",
                   help="only the end-to-end pair (count_calls.py, soundfile), --rounds times; no counting in this process")
    p.add_argument("--rounds", type=int, default=1, help="with --end-to-end-only: how many times to time the pair")
    p.add_argument("--decode-ahead", type=int, default=1, help="recordings decoded ahead while one is scored (count_calls)")
    p.add_argument("--default-threads", action="store_true",
                   help="leave TensorFlow's threads as it sets them, instead of choosing as count_calls.py does "
                        "(model.detection.counting.counting_threads)")
    args = p.parse_args()

    recordings = list_audio_files(Path(args.shared) / "forest")
    audio_s = sum(audio_duration_s(r) for r in recordings)
    if args.end_to_end_only:
        for _ in range(args.rounds):
            end_to_end(args.model, recordings, audio_s)
        print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}, "
              f"{time.strftime('%Y-%m-%d %H:%M')}")
        return
    threads = None if args.default_threads else counting_threads(args.model)
    detector = load_detector(args.model)
    count_calls(detector, recordings[:1], progress=False)  # warm-up: graph tracing, thread pools

    profiler = None
    if args.profile:
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    t0 = time.perf_counter()
    result = count_calls(detector, recordings, progress=False, decode_ahead=args.decode_ahead)
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
    if args.end_to_end:
        end_to_end(args.model, recordings, audio_s)
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}, "
          f"{time.strftime('%Y-%m-%d %H:%M')}; counting settings {detector.counting}; TensorFlow threads per "
          f"operation: {threads or 'its default'}")


# The fastest plain reading: float32 blocks of 2**20 frames (a whole 3-minute MP3 as float64 in one read took 2-4x as
# long per file in a fresh process, 49.6-72.3 s for the 40 recordings).
READ_IN_BLOCKS = """import soundfile, sys
for name in sys.argv[1:]:
    with soundfile.SoundFile(name) as f:
        while len(f.read(1 << 20, dtype="float32")):
            pass
"""


def end_to_end(models: list[str], recordings: list[Path], audio_s: float) -> None:
    """count_calls.py as a user runs it, against soundfile reading the same files, each in a fresh process."""
    import subprocess
    import tempfile

    root = Path(__file__).resolve().parents[1]
    with tempfile.TemporaryDirectory() as tmp:
        commands = {
            "count_calls.py": [sys.executable, str(root / "count_calls.py"), "--input", str(recordings[0].parent),
                               "--model", *models, "--output", str(Path(tmp) / "submission.csv")],
            "soundfile.read": [sys.executable, "-c", READ_IN_BLOCKS, *map(str, recordings)],
        }
        seconds = {}
        for name, cmd in commands.items():
            t0 = time.perf_counter()
            subprocess.run(cmd, check=True, capture_output=True)
            seconds[name] = time.perf_counter() - t0
    print(f"end to end, process start included: count_calls.py {seconds['count_calls.py']:.1f} s = "
          f"{audio_s / seconds['count_calls.py']:.0f}x real time; soundfile alone {seconds['soundfile.read']:.1f} s "
          f"(count_calls.py takes {seconds['count_calls.py'] / seconds['soundfile.read']:.2f}x as long)")


if __name__ == "__main__":
    from model import cli

    cli.run(main)  # one-line errors; the MP3 decoder's chatter dropped
