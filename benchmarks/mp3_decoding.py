"""Whether libmpg123's own cheaper outputs (channels mixed to mono, synthesis at half or a quarter of the rate)
decode MP3 much faster than soundfile's full stereo decode, the baseline of issue 13's end-to-end target.

    .venv/bin/python benchmarks/mp3_decoding.py [--shared ../shared] [--recordings 8] [--repeats 2]

libsndfile (inside soundfile) decodes MP3 with mpg123 but always at the file's rate and channels; the system's
libmpg123 (Debian: libmpg123-0), called here through ctypes, can mix the channels before synthesis and
synthesise fewer sub-bands. If that were much cheaper it would be a way to count faster than soundfile reads.
Prints, for the first N forest recordings, the fastest of `--repeats` passes per way of decoding and its time
against soundfile's measured in the same run. Needs libmpg123 on the system; the project itself does not.
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MONO, STEREO, FLOAT32 = 1, 2, 0x200  # mpg123.h: MPG123_MONO, MPG123_STEREO, MPG123_ENC_FLOAT_32
# MPG123_ADD_FLAGS (the defaults kept, gapless among them), MPG123_DOWN_SAMPLE, MPG123_NEW_FORMAT, MPG123_OK
ADD_FLAGS, DOWN_SAMPLE, NEW_FORMAT, OK = 2, 4, -11, 0
QUIET, MONO_MIX = 0x20, 0x4  # MPG123_QUIET, MPG123_MONO_MIX


def load_mpg123() -> ctypes.CDLL:
    name = ctypes.util.find_library("mpg123")
    if name is None:
        sys.exit("error: libmpg123 not found on this system (Debian: apt-get install libmpg123-0)")
    lib = ctypes.CDLL(name)
    lib.mpg123_new.restype = ctypes.c_void_p
    lib.mpg123_new.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_int)]
    for f in ("mpg123_format_none", "mpg123_close", "mpg123_delete"):
        getattr(lib, f).argtypes = [ctypes.c_void_p]
    lib.mpg123_format.argtypes = [ctypes.c_void_p, ctypes.c_long, ctypes.c_int, ctypes.c_int]
    lib.mpg123_open.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    lib.mpg123_read.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_size_t, ctypes.POINTER(ctypes.c_size_t)]
    lib.mpg123_param.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_long, ctypes.c_double]
    lib.mpg123_init()
    return lib


def mpg123_decode(lib: ctypes.CDLL, path: Path, mono: bool, down_sample: int, file_rate: int) -> int:
    """Samples decoded (all channels) from `path` as float32, mono-mixed or not, at file_rate / 2**down_sample."""
    import numpy as np

    handle = lib.mpg123_new(None, ctypes.byref(ctypes.c_int()))
    try:
        lib.mpg123_param(handle, ADD_FLAGS, QUIET | (MONO_MIX if mono else 0), 0.0)
        lib.mpg123_param(handle, DOWN_SAMPLE, down_sample, 0.0)
        lib.mpg123_format_none(handle)
        if lib.mpg123_format(handle, file_rate >> down_sample, MONO if mono else STEREO, FLOAT32) != OK:
            sys.exit(f"error: {path}: libmpg123 cannot give this format")
        if lib.mpg123_open(handle, str(path).encode()) != OK:
            sys.exit(f"error: {path}: libmpg123 cannot open it")
        buffer, done, total = np.empty(1 << 18, np.float32), ctypes.c_size_t(), 0
        while lib.mpg123_read(handle, buffer.ctypes.data, buffer.nbytes, ctypes.byref(done)) in (OK, NEW_FORMAT):
            total += done.value // 4
        return total + done.value // 4
    finally:
        lib.mpg123_close(handle)
        lib.mpg123_delete(handle)


def main() -> None:
    import soundfile as sf

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shared", default=str(ROOT.parent / "shared"))
    p.add_argument("--recordings", type=int, default=8)
    p.add_argument("--repeats", type=int, default=2)
    args = p.parse_args()

    paths = sorted((Path(args.shared) / "forest").glob("recording_*.mp3"))[: args.recordings]
    if not paths:
        sys.exit(f"error: {args.shared}/forest: no recording_*.mp3")
    lib = load_mpg123()
    rate = sf.info(paths[0]).samplerate
    ways = {
        "soundfile, stereo, file rate": lambda p: sf.read(p, dtype="float32")[0].size,
        "mpg123, stereo, file rate": lambda p: mpg123_decode(lib, p, False, 0, rate),
        "mpg123, mono mix, file rate": lambda p: mpg123_decode(lib, p, True, 0, rate),
        "mpg123, mono mix, half rate": lambda p: mpg123_decode(lib, p, True, 1, rate),
        "mpg123, mono mix, quarter rate": lambda p: mpg123_decode(lib, p, True, 2, rate),
    }
    best = {name: float("inf") for name in ways}
    samples = {}
    for _ in range(args.repeats):  # interleaved, so a slower minute touches every way alike
        for name, decode in ways.items():
            start = time.perf_counter()
            samples[name] = sum(decode(path) for path in paths)
            best[name] = min(best[name], time.perf_counter() - start)
    baseline = best["soundfile, stereo, file rate"]
    print(f"{len(paths)} recordings at {rate} Hz, fastest of {args.repeats} passes each")
    for name in ways:
        print(f"  {name:32s} {best[name]:6.2f} s  {best[name] / baseline:5.2f}x soundfile  {samples[name]:>11,} samples")


if __name__ == "__main__":
    main()
