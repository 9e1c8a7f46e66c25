"""The harmonic gate's measure on labelled calls and on audio with no call, and the gate on saved window scores.

    .venv/bin/python benchmarks/harmonic_gate.py [--data runs/robustness/data] [--noise-db 7 10]
        [--runs RUN_DIR... [--min-call-s 1.5 2.0]] [--gates 0 0.25 0.3 0.35] [--shared ../shared] [--out runs/harmonic-gate]

Needs no model. Every sure call of ../shared/forest is measured as the gate measures a call
(`data_pipeline.features.harmonicity.stretch_harmonicity`: the highest of the 1 s pieces every 0.25 s along its
labelled span) in the recordings as they are, in each condition of a robustness run's DATA/conditions, and with pink
noise added --noise-db above each recording's own level (3 dB is the robustness `noisier` condition; --write-noisy
writes those versions, to count them with a model). The no-call
audio (DATA/no_call: glass-break streams, generated sounds, silence, dither; ../shared/heart) is measured in 1 s pieces
every 0.25 s: a call found there is dropped by the gate when none of its pieces reaches the gate, so the highest piece
of a material is the highest figure any false call in it could read. Prints, per group, the calls' lowest figures
and, per material, its highest piece and the share of its 2 s stretches that could pass each of --gates; writes
OUT/calls.csv and OUT/no_call.csv.

With --runs (fold models of `robustness.py` or `learning_curve.py`, as `pulse_gate.py` takes them; without --data,
only this): each fold's saved window scores are measured again from the audio and merged into calls with the fold's
own counting settings, min_harmonicity at each of --gates (0: none); prints the true and false calls kept at each,
and each call's figure (the highest over its windows at or above the threshold) by group; writes OUT/harmonic_gate.csv.
With --min-call-s as well, the true and false calls kept at each of those minimum call lengths instead, with each
fold's own gate (runs saved before the gate: 0.3), and no CSV: what a shorter minimum adds once the gate is in place.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SR = 16000
HOP_S = 0.25


def noisier(audio, db: float, recording: str):
    """`audio` with pink noise added so the background is `db` above the recording's own level (its RMS); the noise
    drawn from the recording's name, so every run and every --noise-db list gives the same file."""
    import zlib

    import numpy as np

    from data_pipeline.synthetic.capuchinbird import pink_noise, rms

    rng = np.random.default_rng([31, zlib.crc32(recording.encode())])
    return np.clip(audio + pink_noise(rng, len(audio), SR) * rms(audio) * np.sqrt(10 ** (db / 10) - 1), -1, 1)


def labelled_calls_measured(shared: Path, data: Path | None, noise_db: list[float], write_noisy: Path | None):
    import pandas as pd
    import soundfile as sf

    from data_pipeline.audio.decoding import decode_audio
    from data_pipeline.features.harmonicity import stretch_harmonicity
    from data_pipeline.labels.annotations import read_call_labels

    labels = read_call_labels(shared / "forest" / "calls.csv")
    sure = labels[labels["confidence"] == "sure"]
    conditions = sorted(p for p in (data / "conditions").iterdir() if p.is_dir()) if data else []
    rows = []
    for path in sorted((shared / "forest").glob("*.mp3")):
        recording, calls = path.name, sure[sure["recording"] == path.name]
        if not len(calls) and not write_noisy:
            continue
        clean = decode_audio(path, SR)
        versions = {"clean": clean, **{f"+{db:g} dB pink noise": noisier(clean, db, recording) for db in noise_db}}
        if write_noisy:
            for db in noise_db:
                folder = write_noisy / f"noise+{db:g}dB"
                folder.mkdir(parents=True, exist_ok=True)
                sf.write(folder / f"{path.stem}.flac", versions[f"+{db:g} dB pink noise"], SR, subtype="PCM_16")
        for folder in conditions:
            found = sorted(folder.glob(Path(recording).stem + ".*"))
            if found:
                versions[folder.name] = decode_audio(found[0], SR)
        for version, audio in versions.items():
            rows += [(version, recording, c.start, c.end, stretch_harmonicity(audio[int(c.start * SR): int(c.end * SR)], SR))
                     for c in calls.itertuples()]
        print(f"calls: {recording} measured", flush=True)
    return pd.DataFrame(rows, columns=["version", "recording", "start", "end", "harmonicity"])


def no_call_measured(shared: Path, data: Path | None):
    import numpy as np
    import pandas as pd

    from data_pipeline.audio.decoding import decode_audio
    from data_pipeline.features.harmonicity import piece_harmonicity

    files = [("heart", f) for f in sorted((shared / "heart").glob("*.wav"))]
    if data:
        files += [(f.stem.rstrip("_0123456789"), f) for f in sorted((data / "no_call").glob("*.flac"))]
    rows = []
    for material, path in files:
        audio = decode_audio(path, SR)
        first = np.arange(0, max(1, len(audio) - SR + 1), int(HOP_S * SR))
        rows += [(material, path.name, s / SR, v) for s, v in zip(first, piece_harmonicity(audio, first, SR, SR))]
    print(f"no-call audio: {len(files)} files measured", flush=True)
    return pd.DataFrame(rows, columns=["material", "file", "start", "harmonicity"])


def highest(values) -> float:
    import numpy as np

    values = np.asarray(values, float)
    return float(np.nanmax(values)) if np.isfinite(values).any() else float("nan")


def gates_on_runs(runs: list[Path], shared: Path, gates: list[float], out: Path, min_calls: list[float] | None = None):
    """The runs' calls at each of `gates`; with `min_calls`, instead at each of those minimum call lengths, each fold's
    own gate (0.3 for runs saved before it)."""
    import numpy as np
    from pulse_gate import calls_under_gates, report

    from data_pipeline.features.harmonicity import window_harmonicities

    def measure(rec, audio, frontend, config):
        starts = np.round(rec.starts_s * frontend.sample_rate_hz).astype(int)
        return replace(rec, harmonicities=window_harmonicities(audio, starts, frontend.clip_samples, rec.scores,
                                                               frontend.sample_rate_hz))

    value = lambda rec, inside: highest(rec.harmonicities[inside])  # noqa: E731
    if min_calls:
        _, kept = calls_under_gates(runs, shared, "min_call_s", min_calls, measure, value)
        return report([], kept, None, "harmonicity", " s", "min_call_s")
    rows, kept = calls_under_gates(runs, shared, "min_harmonicity", gates, measure, value)
    report(rows, kept, out / "harmonic_gate.csv", "harmonicity", "")


def main() -> None:
    import numpy as np

    from model.outputs import atomic_write_csv

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", help="a robustness run's data folder (conditions/, no_call/)")
    p.add_argument("--noise-db", type=float, nargs="*", default=[3.0, 7.0, 10.0])
    p.add_argument("--write-noisy", metavar="DIR", help="also write each forest recording with each --noise-db to "
                   "DIR/noise+<dB>dB/, to count with a model (count_calls.py --labels ../shared/forest/calls.csv)")
    p.add_argument("--runs", nargs="*", default=[])
    p.add_argument("--gates", type=float, nargs="+", default=[0.0, 0.25, 0.3, 0.35], help="min_harmonicity; 0: none")
    p.add_argument("--min-call-s", type=float, nargs="+", help="with --runs alone: the calls at each of these minimum "
                   "call lengths instead, each fold's own gate (0.3 where it saved none)")
    p.add_argument("--shared", default=str(ROOT.parent / "shared"))
    p.add_argument("--out", default="runs/harmonic-gate")
    args = p.parse_args()
    shared, data, out = Path(args.shared), Path(args.data) if args.data else None, Path(args.out)
    if data and not (data / "conditions").is_dir():
        raise FileNotFoundError(f"{data}: no conditions/ folder here; give a robustness run's data folder")
    if any(db <= 0 for db in args.noise_db):
        raise ValueError(f"--noise-db: noise is added above the recording's level, so more than 0 dB; got {args.noise_db}")

    if args.runs and not data:  # the gate on the runs' saved scores alone
        return gates_on_runs(list(map(Path, args.runs)), shared, args.gates, out, args.min_call_s)
    if args.min_call_s:
        p.error("--min-call-s goes with --runs alone")
    calls = labelled_calls_measured(shared, data, args.noise_db, Path(args.write_noisy) if args.write_noisy else None)
    atomic_write_csv(out / "calls.csv", calls)
    print("\nsure calls, each the highest of its pieces: the lowest four, and how many fall below each gate")
    for version, group in calls.groupby("version", sort=False):
        values = np.sort(group["harmonicity"].to_numpy())
        below = ", ".join(f"{g:g}: {int((values < g).sum())}" for g in args.gates if g)
        print(f"  {version:28s} {len(values)} calls, lowest {np.round(values[:4], 3).tolist()}; below {below}")

    pieces = no_call_measured(shared, data)
    atomic_write_csv(out / "no_call.csv", pieces)
    print("\nno-call audio in 1 s pieces: the highest, and the share of 2 s stretches whose highest piece reaches each gate")
    for material, group in pieces.groupby("material"):
        values = group.groupby("file")["harmonicity"].apply(lambda v: v.to_numpy()).tolist()
        span = int(2.0 / HOP_S) + 1
        stretches = np.concatenate([np.lib.stride_tricks.sliding_window_view(v, min(span, len(v))) for v in values])
        finite = np.isfinite(stretches).any(axis=1)
        tops = np.nanmax(np.where(np.isfinite(stretches), stretches, -1), axis=1)[finite]
        share = ", ".join(f"{g:g}: {np.mean(tops >= g):.4f}" for g in args.gates if g) if finite.any() else "-"
        print(f"  {material:24s} {len(group) * HOP_S / 3600:5.2f} h, highest {highest(group['harmonicity']):.3f}; "
              f"stretches passing {share}")

    if args.runs:
        gates_on_runs(list(map(Path, args.runs)), shared, args.gates, out)

if __name__ == "__main__":
    from model import cli

    cli.run(main)
