"""The benchmarks (robustness, learning curve, review loop) reuse a fold's trained model on a rerun: only when
everything it was trained with matches, or their figures would silently be another setting's."""

import json
import shutil
import sys
from dataclasses import asdict
from pathlib import Path

import pandas as pd
import pytest
from conftest import ROOT

sys.path.insert(0, str(ROOT / "benchmarks"))


def test_a_fold_model_is_reused_only_for_the_same_recordings_and_training_settings(tmp_path, untrained_model):
    from forest_holdout import reusable_detector

    from data_pipeline.features.augment import AugmentConfig
    from model.learning.training import TrainConfig

    folder = tmp_path / "fold0"
    shutil.copytree(untrained_model, folder)
    chosen = [Path("forest/recording_04.mp3"), Path("forest/recording_06.mp3")]
    pd.DataFrame({"file": [str(p) for p in chosen] + ["generated/tone_0.wav"]}).to_csv(folder / "split.csv", index=False)
    trained_with = TrainConfig(seed=3, negative_bank_per_kind=0, verbose=1)
    (folder / "test_metrics.json").write_text(json.dumps({"train_config": asdict(trained_with)}))

    assert reusable_detector(chosen, folder, None, TrainConfig(seed=3, negative_bank_per_kind=0, verbose=0)) is not None
    assert reusable_detector(chosen, folder) is not None  # nothing to compare: the recordings decide
    for other in (TrainConfig(seed=4, negative_bank_per_kind=0), TrainConfig(seed=3, negative_bank_per_kind=0,
                                                                            augment=AugmentConfig()),
                  TrainConfig(seed=3, negative_bank_per_kind=0, epochs=trained_with.epochs + 1)):
        assert reusable_detector(chosen, folder, None, other) is None, other
    assert reusable_detector(chosen[:1], folder, None, TrainConfig(seed=3, negative_bank_per_kind=0)) is None


def test_placed_sounds_stay_clear_of_the_calls_and_are_the_same_for_every_model(tmp_path):
    """benchmarks/placed_sounds.py: every model that counts a recording hears the same placed version, and the
    calls stay as labelled (nothing placed within 1 s of one), or its false calls would be the labels' fault."""
    import numpy as np
    import soundfile as sf
    from placed_sounds import placed_version

    sr = 16000
    recording = tmp_path / "recording_07.wav"
    background = 0.01 * np.random.default_rng(0).standard_normal(40 * sr)
    sf.write(recording, background, sr, subtype="FLOAT")
    labels = pd.DataFrame({"recording": ["recording_07.wav"], "start": [10.0], "end": [14.0], "confidence": ["sure"]})

    first = placed_version(recording, "tone", 8, labels, tmp_path / "a")
    second = placed_version(recording, "tone", 8, labels, tmp_path / "b")
    assert first.read_bytes() == second.read_bytes()
    added = np.abs(sf.read(first)[0] - background)
    quantisation = 1 / 32768  # written as 16-bit FLAC
    assert added[9 * sr : 15 * sr].max() <= quantisation  # the call and 1 s either side untouched
    assert (added > 100 * quantisation).mean() > 0.2  # tones placed elsewhere, above the background
    assert placed_version(recording, "siren", 8, labels, tmp_path / "a") != first  # another setting, another file
    assert placed_version(recording, "tone", 2, labels, tmp_path / "a") != first


def test_pitch_shift_plays_a_recording_faster_so_every_frequency_rises_and_it_shortens(tmp_path):
    """benchmarks/pitch_shift.py: a 1 kHz tone played at 1.25 and 0.8 times its speed lies at 1250 and 800 Hz
    and lasts 1/1.25 and 1/0.8 as long; the same file is written once and reused."""
    import numpy as np
    import soundfile as sf
    from pitch_shift import SR, shifted_version

    source = tmp_path / "recording_99.wav"
    sf.write(source, np.sin(2 * np.pi * 1000 * np.arange(4 * 48000) / 48000) * 0.5, 48000)
    for factor in (1.25, 0.8):
        path = shifted_version(source, factor, tmp_path / "out")
        audio, rate = sf.read(path)
        assert rate == SR and abs(len(audio) / SR - 4 / factor) < 0.01
        peak_hz = np.argmax(np.abs(np.fft.rfft(audio))) * SR / len(audio)
        assert abs(peak_hz - 1000 * factor) < 2, (factor, peak_hz)
        stamp = path.stat().st_mtime_ns
        assert shifted_version(source, factor, tmp_path / "out") == path and path.stat().st_mtime_ns == stamp


def test_call_pitch_measures_the_spacing_of_a_harmonic_stack():
    """benchmarks/call_pitch.py: the spacing it reports for the shared calls (133 Hz) is the fundamental of a stack,
    whatever the rate and the strongest partial."""
    import numpy as np
    from call_pitch import harmonic_spacing_hz

    for f0, sr in ((110.0, 16000), (133.0, 16000), (170.0, 44100)):
        t = np.arange(2 * sr) / sr
        stack = sum(np.exp(-((k * f0 - 900) / 400) ** 2) * np.sin(2 * np.pi * k * f0 * t) for k in range(2, 16))
        stack += 0.05 * np.random.default_rng(0).standard_normal(len(t))
        assert abs(harmonic_spacing_hz(stack, sr) - f0) < 3, (f0, sr)


def test_call_pitch_refuses_a_saved_detector_of_other_settings(tmp_path, untrained_model):
    """benchmarks/call_pitch.py reuses the detector under OUT/model: one trained with other settings (here without
    pitch augmentation, asked with it) is refused in one line before anything runs, not reported as this setting's."""
    from call_pitch import check_saved_detector, detector_settings

    check_saved_detector(tmp_path / "none", None)  # nothing saved: it will train
    folder = tmp_path / "out" / "model"
    shutil.copytree(untrained_model, folder)
    _, with_pitch = detector_settings(None)  # train.py's default: pitch augmentation on
    assert with_pitch.augment is not None and with_pitch.augment.pitch_probability > 0
    (folder / "test_metrics.json").write_text(json.dumps({"train_config": {**asdict(with_pitch), "verbose": 2}}))

    check_saved_detector(tmp_path / "out", None)
    check_saved_detector(tmp_path / "out", True)  # the same setting, said explicitly
    with pytest.raises(ValueError, match=r"out/model: that detector was trained with other settings") as refused:
        check_saved_detector(tmp_path / "out", False)
    assert "\n" not in str(refused.value)
