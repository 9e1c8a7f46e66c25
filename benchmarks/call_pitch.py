"""The pitch of the calls the project learns from, and what a detector makes of calls at other pitches.

    .venv/bin/python benchmarks/call_pitch.py [--shared ../shared] [--no-pitch-augment] [--out runs/call-pitch]

1. The harmonic spacing (the fundamental) of every sure call of ../shared/forest, measured on its body (from 1 s
   after its labelled start to 0.5 s before its end): the spectrum averaged over the body, its slow envelope
   taken away, and the autocorrelation of what is left at its highest over 60-400 Hz.
2. The detector of tests/test_end_to_end.py (the synthetic Kaggle layout of seed 7, trained for 15 epochs with
   the checkout's bank and train.py's pitch augmentation unless --no-pitch-augment; trained once under OUT/model,
   which a rerun reuses; one with other settings is refused: give it another OUT) scores 80 fresh synthetic call
   clips at 10-20 dB, as that test's clips are made (another seed), grouped by the fundamental of each clip's call
   (100-180 Hz, drawn by data_pipeline.synthetic.capuchinbird.synth_call).

The shared calls share one fundamental (part 1), so the cross-validated benchmarks cannot show what a change does
to calls at another pitch; part 2 and benchmarks/pitch_shift.py can. Run part 2 in a checkout with a bank kind
added, with another OUT, to see what that kind costs (docs/not-a-call.md, "Other animals, unheard"). Writes OUT/pitch.csv.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SPACING_HZ = (60.0, 400.0)
ENVELOPE_HZ = 120.0  # the running mean taken away: about one spacing, so the partials' ripple is what is left
CLIPS_SEED = 2024  # the end-to-end test scores seed 123's clips; these are others


def harmonic_spacing_hz(audio, sample_rate_hz: int) -> float:
    """The spacing of the harmonic stack in `audio` (Hz, to about 2 Hz), from its spectrum over 200-2500 Hz."""
    import numpy as np

    n = 1 << int(np.ceil(np.log2(0.5 * sample_rate_hz)))  # about half a second: bins of about 2 Hz
    frames = [audio[i : i + n] * np.hanning(n) for i in range(0, len(audio) - n + 1, n // 2)]
    if not frames:
        raise ValueError(f"{len(audio) / sample_rate_hz:.2f} s is too short to measure a spacing")
    spectrum = np.mean([np.abs(np.fft.rfft(f)) for f in frames], axis=0)
    hz = np.fft.rfftfreq(n, 1 / sample_rate_hz)
    band = (hz > 200) & (hz < 2500)
    width = 2 * round(ENVELOPE_HZ / hz[1] / 2) + 1
    ripple = spectrum[band] - np.convolve(spectrum[band], np.ones(width) / width, "same")
    autocorrelation = np.correlate(ripple, ripple, "full")[len(ripple) - 1 :]
    lag_hz = np.arange(len(autocorrelation)) * (hz[1] - hz[0])
    looked = (lag_hz >= SPACING_HZ[0]) & (lag_hz <= SPACING_HZ[1])
    return float(lag_hz[looked][np.argmax(autocorrelation[looked])])


def shared_call_spacings(shared: Path):
    """One row per sure call of ../shared/forest: recording, start, spacing_hz."""
    import pandas as pd

    from data_pipeline.audio.decoding import decode_audio
    from data_pipeline.labels.annotations import read_call_labels

    sr = 16000
    labels = read_call_labels(shared / "forest" / "calls.csv")
    rows = []
    for recording, calls in labels[labels["confidence"] == "sure"].groupby("recording"):
        audio = decode_audio(shared / "forest" / recording, sr)
        for start, end in zip(calls["start"], calls["end"]):
            body = audio[int((start + 1.0) * sr) : int((end - 0.5) * sr)]
            rows.append({"what": "shared forest call", "recording": recording, "start": start,
                         "spacing_hz": harmonic_spacing_hz(body, sr)})
    return pd.DataFrame(rows)


def detector_settings(pitch_augment: bool | None):
    """(front end, training settings) of the small detector: the end-to-end test's, with train.py's pitch augmentation
    or as --[no-]pitch-augment says."""
    from data_pipeline.features.frontend import FrontendConfig
    from model.learning.presets import get_preset, preset_augment
    from model.learning.training import TrainConfig, network_settings

    frontend = FrontendConfig(clip_s=2.5)  # as tests/test_end_to_end.py trains it
    network = network_settings(None, frontend, {}, shared_by_default=True)
    return frontend, TrainConfig(epochs=15, patience=4, verbose=0, network=network,
                                 augment=preset_augment(get_preset("capuchinbird"), frontend, pitch=pitch_augment))


def check_saved_detector(out: Path, pitch_augment: bool | None) -> None:
    """Refuse, in one line, a detector under OUT/model trained with other settings than this run's: a rerun reuses it,
    and would otherwise report another setting's figures under this one's name."""
    from forest_holdout import trained_with

    folder = out / "model"
    if (folder / "detector.json").exists() and not trained_with(folder, detector_settings(pitch_augment)[1]):
        raise ValueError(f"{folder}: that detector was trained with other settings (its test_metrics.json) than this "
                         "run asks for; give another --out, or delete that folder to train again")


def synthetic_call_scores(out: Path, pitch_augment: bool | None = None):
    """One row per fresh synthetic call clip: its call's spacing and the end-to-end detector's probability."""
    import numpy as np
    import pandas as pd

    from data_pipeline.labels.class_folders import clips_from_folders
    from data_pipeline.synthetic import capuchinbird
    from model.detection.detector import load_detector
    from model.detection.prediction import predict_files
    from model.learning.training import train

    if not (out / "model" / "detector.json").exists():  # else one of these settings (main checked)
        capuchinbird.write_demo_dataset(out / "data", seed=7, n_positive_sources=12, n_negative_sources=15,
                                        clips_per_source=5, n_recordings=4, recording_s=40.0)
        clips, classes = clips_from_folders(out / "data")
        frontend, config = detector_settings(pitch_augment)
        train(clips, classes, out / "model", config, frontend=frontend)

    spacings, make_call = [], capuchinbird.synth_call

    def measured_call(rng, sr, duration_s):  # synth_clips draws each call through this name
        call = make_call(rng, sr, duration_s)
        spacings.append(harmonic_spacing_hz(call[int(0.9 * sr) :], sr))  # after the onset: the stack alone
        return call

    capuchinbird.synth_call = measured_call
    try:
        clips = capuchinbird.synth_clips(np.random.default_rng(CLIPS_SEED), 80, 1, positive=True, snr_range=(10, 20))
    finally:
        capuchinbird.synth_call = make_call
    import soundfile as sf

    folder = out / "clips"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i, (name, samples) in enumerate(clips):
        paths.append(folder / f"{i:02d}-{name}")
        sf.write(paths[-1], samples, capuchinbird.CLIP_RATE_HZ)
    table, _ = predict_files(load_detector(out / "model"), paths)
    return pd.DataFrame({"what": "synthetic call clip", "recording": [p.name for p in paths],
                         "spacing_hz": spacings, "probability": table["probability"].to_numpy()})


def main() -> None:
    import pandas as pd

    from model.outputs import atomic_write_csv

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    p.add_argument("--pitch-augment", action=argparse.BooleanOptionalAction, default=None,
                   help="train the small detector with or without train.py's pitch augmentation (default: train.py's)")
    p.add_argument("--out", default="runs/call-pitch")
    args = p.parse_args()
    out = Path(args.out)
    check_saved_detector(out, args.pitch_augment)  # before a minute of measuring the shared calls

    real = shared_call_spacings(Path(args.shared))
    q = real["spacing_hz"].quantile([0, 0.1, 0.5, 0.9, 1]).round(0).tolist()
    print(f"shared forest: {len(real)} sure calls, spacing min {q[0]:g}, 10% {q[1]:g}, median {q[2]:g}, "
          f"90% {q[3]:g}, max {q[4]:g} Hz", flush=True)
    synthetic = synthetic_call_scores(out, args.pitch_augment)
    synthetic["spacing band"] = pd.cut(synthetic["spacing_hz"], [0, 125, 150, 175, 400])
    print(synthetic.groupby("spacing band", observed=True).agg(
        clips=("probability", "size"), missed=("probability", lambda s: int((s < 0.5).sum())),
        median_probability=("probability", "median")).round(3).to_string())
    atomic_write_csv(out / "pitch.csv", pd.concat([real, synthetic.drop(columns="spacing band")], ignore_index=True))
    print(f"per call: {out / 'pitch.csv'}")


if __name__ == "__main__":
    from model import cli

    cli.run(main)
