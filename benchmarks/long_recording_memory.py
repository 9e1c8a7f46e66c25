"""Peak memory of counting one long recording (2 hours by default) against one 3-minute recording.

    .venv/bin/python benchmarks/long_recording_memory.py --model RUN_DIR [--hours 2] [--shared ../shared] [--tmp /tmp]

Concatenates the 40 shared forest recordings (48 kHz stereo, 2 hours; repeated for more) into one
WAV (RF64 past 4 GB, as recorders write long files), then runs `count_calls.py` on it, and on a single
3-minute recording, each in a fresh process, and prints each process's peak resident memory
(ru_maxrss) and time. Memory must stay flat with length because audio is decoded and scored in
blocks. Targets: under 1.5 GB for 2 hours (issue 5); 12 hours within 10% of 3 minutes (issue 13).
"""

from __future__ import annotations

import argparse
import itertools
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def peak_rss_mb(cmd: list[str]) -> tuple[float, float]:
    """(peak RSS in MB, wall seconds) of `cmd` run in a fresh process."""
    code = ("import resource, subprocess, sys, time; t = time.time(); rc = subprocess.call(sys.argv[1:]); "
            "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024, time.time() - t); sys.exit(rc)")
    out = subprocess.run([sys.executable, "-c", code, *cmd], capture_output=True, text=True, check=True)
    rss, wall = out.stdout.split()[-2:]
    return float(rss), float(wall)


def main() -> None:
    import soundfile as sf

    from data_pipeline.audio.decoding import list_audio_files

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--shared", default=str(ROOT.parent / "shared"))
    p.add_argument("--tmp", default=tempfile.gettempdir())
    p.add_argument("--hours", type=float, default=2.0, help="length of the long recording (default: 2)")
    args = p.parse_args()

    recordings = list_audio_files(Path(args.shared) / "forest")
    work = Path(tempfile.mkdtemp(dir=args.tmp))
    long_wav = work / f"{args.hours:g}_hours.wav"
    frames = int(args.hours * 3600 * 48000)
    with sf.SoundFile(long_wav, "w", samplerate=48000, channels=2, subtype="PCM_16",
                      format="RF64" if args.hours > 3 else "WAV") as out:
        for r in itertools.cycle(recordings):
            for block in sf.blocks(r, blocksize=48000 * 30, dtype="float32", always_2d=True):
                out.write(block[: frames - out.frames])
            if out.frames >= frames:
                break
    hours = sf.info(long_wav).duration / 3600
    script = [sys.executable, str(ROOT / "count_calls.py"), "--model", args.model, "--export"]
    short_rss, short_s = peak_rss_mb(script + ["--input", str(recordings[0]), "--output", str(work / "short.csv")])
    long_rss, long_s = peak_rss_mb(script + ["--input", str(long_wav), "--output", str(work / "long.csv")])
    print(f"3-minute recording: peak RSS {short_rss:.0f} MB, {short_s:.1f} s (process start and model load included)")
    print(f"{hours:.2f}-hour recording ({long_wav.stat().st_size / 2**30:.2f} GB WAV): peak RSS {long_rss:.0f} MB, "
          f"{long_s:.1f} s; {long_rss / short_rss:.2f}x the 3-minute run's memory")
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {time.strftime('%Y-%m-%d %H:%M')}")
    long_wav.unlink()


if __name__ == "__main__":
    from model import cli

    cli.run(main)  # one-line errors; the MP3 decoder's chatter dropped
