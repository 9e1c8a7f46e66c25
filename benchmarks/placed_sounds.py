"""Generated sounds of one kind placed in the forest recordings a model never heard, counted by that model.

    .venv/bin/python benchmarks/placed_sounds.py MODEL... --kind ringing [--per-recording 8] [--min-call-s S]
        [--out runs/placed-sounds]

For trying a sound kind on the backgrounds it would be met in before spending a full robustness run on it.
Each MODEL is a run folder trained on some of ../shared/forest (a robustness or learning-curve fold); it
counts the recordings its split.csv does not name, each with `--per-recording` sounds of `--kind`, 3-8 s
long, 0-10 dB above the recording's level and at least 1 s from every labelled call, as robustness.py
places its `generated` condition's ten kinds. A recording's placed version depends only on the kind and
the recording's name, so every model that counts it hears the same file (written once under
OUT/<kind>-<per recording>/). Prints count MAE, event F1 and false calls per model and over all; writes
placed_sounds.csv there, and false_calls.csv (model, recording, start, end, score: each false call, to hear in the
placed file beside it).
"""

from __future__ import annotations

import argparse
import os
import sys
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

PLACE_SEED = 20_000  # far from training seeds and from robustness.py's TEST_SEED streams


def placed_folder(out: Path, kind: str, per_recording: int) -> Path:
    """Where the placed versions of one setting live: a rerun with another setting never reuses them."""
    return out / f"{kind}-{per_recording}"


def placed_version(recording: Path, kind: str, per_recording: int, labels, out: Path) -> Path:
    """`recording` with `per_recording` sounds of `kind` placed away from its calls, written once as 16 kHz FLAC
    under `placed_folder(out, kind, per_recording)`."""
    import numpy as np
    from robustness import SR, _calls_in, _free_stretches, _place

    from data_pipeline.audio.decoding import decode_audio
    from data_pipeline.synthetic.capuchinbird import rms
    from data_pipeline.synthetic.negatives import synth_negative
    from model.outputs import atomic_write_flac

    path = placed_folder(out, kind, per_recording) / f"{recording.stem}.flac"
    if path.exists():
        return path
    audio = decode_audio(recording, SR)
    free, level = _free_stretches(len(audio) / SR, _calls_in(labels, recording.name)), rms(audio)
    rng = np.random.default_rng([PLACE_SEED, zlib.crc32(kind.encode()), zlib.crc32(recording.name.encode())])
    mixed = audio.copy()
    for _ in range(per_recording):
        sound = synth_negative(rng, kind, int(rng.uniform(3, 8) * SR), SR)
        start = _place(rng, free, len(sound) / SR)
        if start is not None and rms(sound) > 1e-6:
            i0 = int(start * SR)
            mixed[i0 : i0 + len(sound)] += sound / rms(sound) * level * 10 ** (rng.uniform(0, 10) / 20)
    return atomic_write_flac(path, mixed, SR)


def main() -> None:
    import pandas as pd
    from forest_holdout import unheard_recordings

    from data_pipeline.audio.decoding import list_audio_files
    from data_pipeline.labels.annotations import read_call_labels
    from data_pipeline.synthetic.negatives import NEGATIVE_KINDS, SILENCE_KINDS, UNSEEN_KINDS
    from model.detection.counting import count_calls
    from model.detection.detector import Detector
    from model.outputs import atomic_write_csv
    from model.reporting.evaluation import evaluate, false_calls, format_summary

    kinds = [k for k in NEGATIVE_KINDS + UNSEEN_KINDS if k not in SILENCE_KINDS and k != "low_rate"]
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+", help="run folders trained on some of the shared forest recordings")
    p.add_argument("--kind", required=True, choices=kinds)
    p.add_argument("--per-recording", type=int, default=8)
    p.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    p.add_argument("--min-call-s", type=float,
                   help="the minimum call of every model (default: each one's saved; models saved before a default "
                        "changed, counted as they would be today)")
    p.add_argument("--out", default="runs/placed-sounds")
    args = p.parse_args()
    if args.per_recording < 1:
        raise ValueError(f"--per-recording must be at least 1, got {args.per_recording}")
    if args.min_call_s is not None and args.min_call_s < 0:
        raise ValueError(f"--min-call-s must be 0 or more, got {args.min_call_s}")

    forest = Path(args.shared) / "forest"
    recordings = list_audio_files(forest)
    labels = read_call_labels(forest / "calls.csv")
    out = placed_folder(Path(args.out), args.kind, args.per_recording)
    placed_labels = labels.assign(recording=labels["recording"].map(lambda r: f"{Path(r).stem}.flac"))
    rows, all_rows, all_false = [], [], []
    for model in args.models:
        unheard = unheard_recordings(model, recordings)
        paths = [placed_version(r, args.kind, args.per_recording, labels, Path(args.out)) for r in unheard]
        detector = Detector.load(model)
        detector.counting = detector.counting.overridden(min_call_s=args.min_call_s)
        result = count_calls(detector, paths, progress=False)
        per_rec, summary = evaluate(result.events, placed_labels, [p.name for p in paths])
        all_rows.append(per_rec.assign(model=str(model)))
        all_false.append(false_calls(result.events, placed_labels).assign(model=str(model)))
        rows.append({"model": str(model), "recordings": len(paths), "false_calls": int(per_rec["fp"].sum()),
                     "count_mae": round(summary["count_mae"], 3), "f1": round(summary["f1"], 3)})
        print(f"{model}: {format_summary(summary)}", flush=True)
    table = pd.concat(all_rows, ignore_index=True)
    atomic_write_csv(out / "placed_sounds.csv", table)
    atomic_write_csv(out / "false_calls.csv", pd.concat(all_false, ignore_index=True)[
        ["model", "recording", "start", "end", "score"]])
    print(pd.DataFrame(rows).to_string(index=False))
    print(f"{args.kind}, {args.per_recording} per recording: {int(table['fp'].sum())} false calls, "
          f"{int(table['fn'].sum())} calls missed, {len(table)} recordings; {out / 'placed_sounds.csv'}")


if __name__ == "__main__":
    from model import cli

    cli.run(main)
