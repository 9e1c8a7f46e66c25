"""Robustness: counts on unheard forest recordings under realistic damage, and false calls on audio with no call.

    .venv/bin/python benchmarks/robustness.py [--negative-bank-per-kind 8] [--hard-negative-pool-per-kind 32]
        [--folds 5] [--fold F ...] [--frame-length 512 --frame-step 400 --fft-length 512] [--augment] [--no-pitch-augment]
        [--run-dir runs/robustness]

Models are cross-validated as in forest_crossval.py: the 40 shared recordings are dealt into folds
by background family, each fold's model trains on the other folds and counts only its own fold's
recordings, in every condition:

    clean           the recordings as they are
    silence         three stretches of 2-8 s of digital silence each, at least 1 s from every labelled call
    real_sounds     four excerpts of real non-call audio each (PhysioNet heart sounds, ESC-50 glass breaks
                    and backgrounds from ../shared), 0-10 dB above the recording's level, away from calls
    generated       four generated non-call sounds each (tones, sirens, engines, speech, ...; a seed no
                    training run uses), 0-10 dB above the recording's level, away from calls
    cheap_recorder  mono, 22.05 kHz, low-bitrate MP3
    noisier         pink noise added at the recording's own level (+3 dB background)
    over_calls      a generated non-call sound (the `generated` kinds, 1.5-4 s, another unseen seed) over every
                    labelled call, overlapping it by 1 s or more, 0-10 dB below the call stretch's level: a
                    tone or an engine sounding while the bird calls, which a listener still counts as a call

The sounds of `real_sounds` and `generated` stay clear of labelled calls, and those of `over_calls` add
to calls without removing any, so the labels stay true. Then every fold's model counts
audio with no call at all: the 301 heart recordings, the glass_break clips joined into one-minute
streams, two minutes of each generated kind (another unseen seed), two minutes of each kind the
generator makes but the bank leaves out (`unseen`: frogs, and since 2026-12-06 four other animals,
data_pipeline.synthetic.negatives.ANIMALS), and ten minutes each of digital silence and
16-bit dither. The real sounds (heart, glass) are never in any training set, and the
generated ones come from seeds the training bank never uses; the heart sounds in `real_sounds` and in
the no-call set are the same recordings (counted as no-call material and as added sounds).

Prints, per condition, count MAE, exact counts and event precision/recall/F1 over the 40 recordings;
per no-call material, false calls per hour (over all fold models). Writes robustness.csv and
false_calls.csv in the run folder (robustness-fold<F>.csv and false_calls-fold<F>.csv with --fold), and
each fold's window scores (fold<F>/window_scores.pkl, a dict of condition or "no_call:<material>" ->
model.detection.counting.RecordingScores list: counting settings can be tried on them without the network).
A rerun reuses each fold's model when its folder holds one trained on the same recordings with the same
training settings (forest_holdout.reusable_detector); a change to the code that trains it needs the folder
deleted.
"""

from __future__ import annotations

import argparse
import os
import pickle
import sys
import time
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SR = 16000
CONDITIONS = ("clean", "silence", "real_sounds", "generated", "cheap_recorder", "noisier", "over_calls")
DAMAGED = CONDITIONS[1:6]  # written together by make_conditions, from one random stream (their files stay the same)
TEST_SEED = 10_000  # generated test sounds: far from any training seed (+1: the no-call streams, +2: over_calls)
# The kinds placed in the `generated` condition: the bank's first ten sound kinds, fixed so that the damaged
# recordings (and the figures measured on them) stay the same when the bank gains kinds.
PLACED_KINDS = ("tone", "tone_bursts", "siren", "engine", "whistle", "speech", "heartbeat", "clicks", "rain", "wind")


def _calls_in(labels, recording: str) -> list[tuple[float, float]]:
    """(start, end) of the sure and faint calls labelled in `recording`, in time order."""
    calls = labels[(labels["recording"] == recording) & labels["confidence"].isin(["sure", "faint"])]
    return sorted(zip(calls["start"], calls["end"]))


def _free_stretches(duration_s: float, calls: list[tuple[float, float]], margin_s: float = 1.0) -> list[tuple[float, float]]:
    """Stretches of a recording at least `margin_s` away from every labelled call."""
    free, t = [], 0.5
    for start, end in sorted(calls):
        if start - margin_s > t:
            free.append((t, start - margin_s))
        t = max(t, end + margin_s)
    if duration_s - 0.5 > t:
        free.append((t, duration_s - 0.5))
    return free


def _place(rng, free: list[tuple[float, float]], length_s: float) -> float | None:
    fits = [(a, b) for a, b in free if b - a >= length_s]
    if not fits:
        return None
    a, b = fits[int(rng.integers(len(fits)))]
    return float(rng.uniform(a, b - length_s))


def sounds_over_calls(audio, sr: int, calls: list[tuple[float, float]], rng):
    """`audio` with one generated non-call sound (a kind of PLACED_KINDS) over each call (start, end in seconds):
    1.5-4 s long, overlapping the call by min(1 s, its length) or more, 0-10 dB below the RMS of the call's
    stretch. Returns (mixed audio, [(kind, start_s, end_s, dB below the call)])."""
    import numpy as np

    from data_pipeline.synthetic.capuchinbird import rms
    from data_pipeline.synthetic.negatives import synth_negative

    mixed, placed = audio.copy(), []
    duration = len(audio) / sr
    for start, end in calls:
        kind = PLACED_KINDS[int(rng.integers(len(PLACED_KINDS)))]
        length = float(rng.uniform(1.5, 4.0))
        overlap = min(1.0, end - start, length)
        first = max(0.0, start - length + overlap)
        last = min(duration - length, end - overlap)
        if last < first:
            continue
        at = float(rng.uniform(first, last))
        i0 = int(round(at * sr))
        sound = synth_negative(rng, kind, min(int(round(length * sr)), len(audio) - i0), sr)
        below_db = float(rng.uniform(0, 10))
        if rms(sound) < 1e-6:
            continue
        call_level = rms(audio[int(start * sr) : int(end * sr)])
        mixed[i0 : i0 + len(sound)] += sound / rms(sound) * call_level * 10 ** (-below_db / 20)
        placed.append((kind, at, at + len(sound) / sr, below_db))
    return np.clip(mixed, -1, 1), placed


def make_over_calls(shared: Path, out: Path, labels) -> list[Path]:
    """Write the `over_calls` version of the 40 recordings once (16 kHz mono FLAC), with its own random stream,
    so the other conditions' files stay as they were; over_calls.csv lists every placed sound."""
    import numpy as np
    import pandas as pd
    import soundfile as sf

    from data_pipeline.audio.decoding import decode_audio, list_audio_files
    from model.outputs import atomic_write_csv

    folder = out / "conditions" / "over_calls"
    recordings = list_audio_files(shared / "forest")
    paths = [folder / (r.stem + ".flac") for r in recordings]
    if (folder / "over_calls.csv").exists():
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    rng, rows = np.random.default_rng(TEST_SEED + 2), []
    for rec, path in zip(recordings, paths):
        mixed, placed = sounds_over_calls(decode_audio(rec, SR), SR, _calls_in(labels, rec.name), rng)
        sf.write(path, mixed, SR, subtype="PCM_16")
        rows += [{"recording": rec.name, "kind": k, "start": round(a, 2), "end": round(b, 2), "db_below_call": round(d, 1)}
                 for k, a, b, d in placed]
    atomic_write_csv(folder / "over_calls.csv", pd.DataFrame(rows, columns=["recording", "kind", "start", "end",
                                                                           "db_below_call"]))
    return paths


def make_conditions(shared: Path, out: Path, labels) -> dict[str, list[Path]]:
    """Write every damaged version of the 40 recordings once (16 kHz mono FLAC; the cheap recorder as MP3)."""
    import numpy as np
    import soundfile as sf

    from data_pipeline.audio.decoding import decode_audio, list_audio_files
    from data_pipeline.synthetic.capuchinbird import pink_noise, rms
    from data_pipeline.synthetic.negatives import synth_negative

    recordings = list_audio_files(shared / "forest")
    paths = {"clean": recordings}
    done = out / "conditions" / ".complete"
    names = {c: [out / "conditions" / c / (r.stem + (".mp3" if c == "cheap_recorder" else ".flac")) for r in recordings]
             for c in DAMAGED}
    paths.update(names, over_calls=make_over_calls(shared, out, labels))
    if done.exists():
        return paths
    rng = np.random.default_rng(TEST_SEED)
    hearts = sorted((shared / "heart").glob("*.wav"))
    glass = sorted((shared / "glass_break" / "audio").glob("*.wav"))
    for c in DAMAGED:
        (out / "conditions" / c).mkdir(parents=True, exist_ok=True)
    for i, rec in enumerate(recordings):
        audio = decode_audio(rec, SR)
        duration = len(audio) / SR
        free = _free_stretches(duration, _calls_in(labels, rec.name))
        level = rms(audio)

        silent = audio.copy()
        for _ in range(3):
            start = _place(rng, free, length := rng.uniform(2, 8))
            if start is not None:
                silent[int(start * SR) : int((start + length) * SR)] = 0.0
        sf.write(names["silence"][i], silent, SR, subtype="PCM_16")

        for condition in ("real_sounds", "generated"):
            mixed = audio.copy()
            for _ in range(4):
                if condition == "real_sounds":
                    source = hearts[int(rng.integers(len(hearts)))] if rng.random() < 0.6 else None
                    if source is not None:
                        sound = decode_audio(source, SR)
                        length = min(len(sound), int(rng.uniform(4, 10) * SR))
                        sound = sound[:length]
                    else:  # two to five glass clips in a row
                        sound = np.concatenate([decode_audio(glass[int(rng.integers(len(glass)))], SR)
                                                for _ in range(int(rng.integers(2, 6)))])
                else:
                    kind = PLACED_KINDS[int(rng.integers(len(PLACED_KINDS)))]
                    sound = synth_negative(rng, kind, int(rng.uniform(3, 8) * SR), SR)
                start = _place(rng, free, len(sound) / SR)
                if start is None or rms(sound) < 1e-6:
                    continue
                i0 = int(start * SR)
                mixed[i0 : i0 + len(sound)] += sound / rms(sound) * level * 10 ** (rng.uniform(0, 10) / 20)
            sf.write(names[condition][i], np.clip(mixed, -1, 1), SR, subtype="PCM_16")

        cheap = decode_audio(rec, 22050)
        sf.write(names["cheap_recorder"][i], cheap, 22050, format="MP3", compression_level=0.9)
        noisy = audio + pink_noise(rng, len(audio), SR) * level
        sf.write(names["noisier"][i], np.clip(noisy, -1, 1), SR, subtype="PCM_16")
        print(f"conditions: {rec.name} done", flush=True)
    done.write_text("")
    return paths


def no_call_stream(kind: str, seconds: float):
    """At least `seconds` of one generated kind: sounds of 3-10 s at -40 to -10 dBFS, one after another, drawn
    from a seed of the kind's own (the same stream whatever other kinds exist)."""
    import numpy as np

    from data_pipeline.synthetic.negatives import synth_negative

    rng, parts = np.random.default_rng([TEST_SEED + 1, zlib.crc32(kind.encode())]), []
    while sum(map(len, parts)) < seconds * SR:
        parts.append(synth_negative(rng, kind, int(rng.uniform(3, 10) * SR), SR) * 10 ** (rng.uniform(-40, -10) / 20))
    return np.clip(np.concatenate(parts), -1, 1)


NO_CALL_MATERIALS = ("heart", "glass_break", "generated", "unseen", "silence", "dither")  # make_no_call's keys


def make_no_call(shared: Path, out: Path) -> dict[str, list[Path]]:
    """No-call material: heart recordings as they are; everything else written under out/no_call/ once, and
    again when a file is missing. Each generated kind's stream is drawn from a seed of its own (from its name),
    so a kind added to the bank adds a stream and leaves every other the same, the unseen frogs included: until
    2026-12-05 one generator drew them all in turn, and the streams after a new kind came out anew."""
    import numpy as np
    import soundfile as sf

    from data_pipeline.audio.decoding import decode_audio
    from data_pipeline.synthetic.negatives import NEGATIVE_KINDS, SILENCE_KINDS, UNSEEN_KINDS

    folder = out / "no_call"
    material = {"heart": sorted((shared / "heart").glob("*.wav"))}
    glass = sorted((shared / "glass_break" / "audio").glob("*.wav"))
    kinds = [k for k in NEGATIVE_KINDS if k not in SILENCE_KINDS]
    stream = {kind: folder / f"generated_{kind}.flac" for kind in kinds + list(UNSEEN_KINDS)}  # drawn in this order
    material["glass_break"] = [folder / f"glass_{i:02d}.flac" for i in range(-(-len(glass) // 60))]
    material["generated"] = [stream[k] for k in kinds]
    material["unseen"] = [stream[k] for k in UNSEEN_KINDS]
    material["silence"] = [folder / "silence.flac"]
    material["dither"] = [folder / "dither.flac"]
    if all(path.exists() for paths in material.values() for path in paths if folder in path.parents):
        return material
    folder.mkdir(parents=True, exist_ok=True)
    for i, path in enumerate(material["glass_break"]):
        sf.write(path, np.concatenate([decode_audio(g, SR) for g in glass[i * 60 : (i + 1) * 60]]), SR, subtype="PCM_16")
    for kind, path in stream.items():
        sf.write(path, no_call_stream(kind, 120.0), SR, subtype="PCM_16")
    sf.write(material["silence"][0], np.zeros(600 * SR), SR, subtype="PCM_16")
    sf.write(material["dither"][0], np.random.default_rng(TEST_SEED + 1).integers(-1, 2, 600 * SR) / 32768, SR,
             subtype="PCM_16")
    return material


def main() -> None:
    import pandas as pd
    from forest_holdout import (
        add_augment_arguments,
        add_fold_argument,
        add_stft_arguments,
        background_folds,
        folds_to_run,
        forest_augment,
        forest_clips,
        forest_network,
        reusable_detector,
        with_stft,
    )

    from data_pipeline.audio.decoding import audio_duration_s
    from data_pipeline.labels.annotations import read_call_labels
    from data_pipeline.labels.class_folders import KAGGLE_CLASSES
    from model.detection.counting import count_calls
    from model.learning.networks import is_shared_trunk
    from model.learning.training import (
        TrainConfig,
        add_mining_arguments,
        add_network_arguments,
        default_frontend,
        mining_settings,
        train,
    )
    from model.outputs import atomic_write_csv
    from model.reporting.evaluation import evaluate, summarise

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    p.add_argument("--run-dir", default="runs/robustness")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--negative-bank-per-kind", type=int, default=TrainConfig.negative_bank_per_kind)
    add_mining_arguments(p)
    p.add_argument("--silence-floor-dbfs", default="default", help="a number, 'none', or 'default' (the front end's)")
    add_augment_arguments(p)
    add_stft_arguments(p)
    add_network_arguments(p)
    add_fold_argument(p, "robustness-fold<F>.csv and false_calls-fold<F>.csv")
    args = p.parse_args()
    folds, subset = folds_to_run(args)

    shared, out = Path(args.shared), Path(args.run_dir)
    labels = read_call_labels(shared / "forest" / "calls.csv")
    t0 = time.time()
    conditions = make_conditions(shared, out / "data", labels)
    no_call = make_no_call(shared, out / "data")
    print(f"data ready in {time.time() - t0:.0f} s", flush=True)

    frontend = default_frontend("compact")
    if args.silence_floor_dbfs != "default":
        from dataclasses import replace

        floor = None if args.silence_floor_dbfs == "none" else float(args.silence_floor_dbfs)
        frontend = replace(frontend, silence_floor_dbfs=floor)
    frontend, stft = with_stft(frontend, args)
    config = TrainConfig(seed=args.seed, split_fractions=(0.8, 0.2, 0.0), verbose=0,
                         negative_bank_per_kind=args.negative_bank_per_kind,
                         network=forest_network(args, frontend, {}), augment=forest_augment(args, frontend),
                         **mining_settings(args))
    pitch = bool(config.augment and config.augment.pitch_probability)
    recordings = conditions["clean"]
    fold_of = background_folds(recordings, args.folds, args.seed)
    per_condition = {c: [] for c in CONDITIONS}
    false_events = []
    hours = {m: sum(audio_duration_s(f) for f in files) / 3600 * len(folds) for m, files in no_call.items()}
    rounds = args.hard_negative_rounds
    run = out / (f"bank{args.negative_bank_per_kind}-mine{args.hard_negative_pool_per_kind}-floor{args.silence_floor_dbfs}"
                 f"-mineat{args.hard_negative_threshold:g}" + (f"-rounds{rounds}" if rounds != 1 else "")
                 + (f"-seed{args.seed}" if args.seed else "") + ("-augment" if args.augment else "")
                 + ("-pitch" if pitch else "")
                 + stft + ("-shared" if is_shared_trunk(config.network) else ""))
    for fold in folds:
        held = [i for i, f in enumerate(fold_of) if f == fold]
        rest = [r for i, r in enumerate(recordings) if i not in held]
        names = {r.name for r in rest}
        clips = forest_clips(rest, labels[labels["recording"].isin(names)], frontend.clip_s)
        folder = run / f"fold{fold}"
        detector = reusable_detector(rest, folder, frontend, config) or train(clips, list(KAGGLE_CLASSES), folder, config,
                                                            frontend=frontend, labels=labels)
        window_scores = {}  # for trying counting settings later without the network
        for condition in CONDITIONS:
            files = [conditions[condition][i] for i in held]
            result = count_calls(detector, files, progress=False)
            window_scores[condition] = result.scores
            events = result.events.assign(recording=result.events["recording"].map(lambda n: Path(n).stem + ".mp3"))
            per_rec, _ = evaluate(events, labels, [recordings[i].name for i in held])
            per_condition[condition].append(per_rec.assign(fold=fold))
        for material, files in no_call.items():
            result = count_calls(detector, files, progress=False)
            window_scores[f"no_call:{material}"] = result.scores  # "generated" and "silence" are conditions too
            false_events.append(result.events.assign(material=material, fold=fold))
        with open(folder / "window_scores.pkl", "wb") as f:
            pickle.dump(window_scores, f)
        print(f"fold {fold} done, {(time.time() - t0) / 60:.1f} min", flush=True)

    false_events = pd.concat(false_events, ignore_index=True)
    false_calls = false_events["material"].value_counts()
    rows = []
    for condition in CONDITIONS:
        table = pd.concat(per_condition[condition], ignore_index=True)
        s = summarise(table)
        rows.append({"material": condition, "count_mae": round(s["count_mae"], 3),
                     "exact": f"{int(round(s['exact_count_fraction'] * len(table)))}/{len(table)}",
                     "precision": round(s["precision"], 3), "recall": round(s["recall"], 3), "f1": round(s["f1"], 3)})
        mistakes = table[(table["fp"] + table["fn"] + table["count_error"].abs()) > 0]
        if len(mistakes):
            print(f"{condition} mistakes:\n{mistakes.to_string(index=False)}")
    for material in no_call:
        rows.append({"material": f"no call: {material}", "hours": round(hours[material], 2),
                     "false_calls": int(false_calls.get(material, 0)),
                     "false_calls_per_hour": round(false_calls.get(material, 0) / hours[material], 2)})
    report = pd.DataFrame(rows)
    atomic_write_csv(run / f"robustness{subset}.csv", report)
    atomic_write_csv(run / f"false_calls{subset}.csv", false_events)  # which sounds fooled which fold
    print(report.astype(object).fillna("").to_string(index=False))
    print(f"bank per kind {args.negative_bank_per_kind}, mining pool per kind {args.hard_negative_pool_per_kind} "
          f"at >= {args.hard_negative_threshold}, {args.hard_negative_rounds} round(s), seed {args.seed}, "
          f"augment {args.augment}, pitch {pitch}, silence floor {frontend.silence_floor_dbfs}, "
          f"frames {frontend.frame_length}/{frontend.frame_step}/{frontend.fft_length} samples, folds {folds}; "
          f"{(time.time() - t0) / 60:.1f} min; {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}")


if __name__ == "__main__":
    from model import cli

    cli.run(main)  # one-line errors; the MP3 decoder's chatter dropped
