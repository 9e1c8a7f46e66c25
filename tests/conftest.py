"""Shared fixtures: small signals with known answers, written to temporary audio files."""

import os
import sys
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# TensorFlow splits an operation over as many threads as the machine has cores, and another count sums in another
# order: the small detectors the tests train then score otherwise (the end-to-end module's: its faintest call 0.81
# with two threads, 0.33 with one; with four, one call found ending 3.4 s early). Two, as on CI's two cores, wherever
# the suite runs (here the same scores as TensorFlow's own choice); the scripts the tests start inherit it.
os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "2")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"


# The longest test files, longest first: `make test` (pytest -n 3 --dist loadfile --no-loadscope-reorder)
# hands files to its workers in collection order, so starting these first keeps one long file from
# running alone at the end.
LONGEST_FIRST = ["test_heart_sounds.py", "test_glass_break.py", "test_other_datasets.py", "test_forest_regression.py",
                 "test_end_to_end.py", "test_sweep.py", "test_cluster_counting.py", "test_distributed_training.py",
                 "test_distributed_sweep.py", "test_training_resume.py", "test_resume.py"]


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config):
    """The tests are done: skip the garbage collector's passes over what they left (pytest's own search for
    unraisable exceptions, then the interpreter's at exit), as the scripts do (model.cli.skip_collection_at_exit).
    A worker process holds every network its tests built; those passes kept `make test` waiting seconds after
    its last test."""
    from model.cli import skip_collection_at_exit

    skip_collection_at_exit()


def sine(freq_hz: float, seconds: float, rate: int, amplitude: float = 0.5) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq_hz * t)).astype(np.float32)


def dominant_hz(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[np.argmax(spectrum)])


def sure_and_faint_call(folder: Path, sure_audio: np.ndarray, faint_audio: np.ndarray, rate: int):
    """Two one-call recordings, as training reads them when it sets a gate from the calls it learnt from: sure.wav
    (training; its call labelled sure) and faint.wav (validation; labelled faint), each call with 1 s of quiet either
    side. (clip table, labels)."""
    import pandas as pd
    import soundfile as sf

    quiet = np.zeros(rate, np.float32)
    rows, labels = [], []
    for name, audio, split, confidence in [("sure.wav", sure_audio, "train", "sure"),
                                           ("faint.wav", faint_audio, "val", "faint")]:
        sf.write(folder / name, np.concatenate([quiet, audio, quiet]), rate)
        rows.append((str(folder / name), 0.0, "call", name, split))
        labels.append((name, 1.0, 1.0 + len(audio) / rate, confidence))
    return (pd.DataFrame(rows, columns=["file", "start", "label", "group", "split"]),
            pd.DataFrame(labels, columns=["recording", "start", "end", "confidence"]))


@pytest.fixture
def write_audio(tmp_path):
    """write_audio(name, samples, rate) -> path; format from the extension."""
    import soundfile as sf

    def write(name, samples, rate, **kwargs):
        path = tmp_path / name
        sf.write(path, samples, rate, **kwargs)
        return path

    return write


@pytest.fixture
def decoded_paths(monkeypatch):
    """The paths data_pipeline.training_data.clips decodes from now on, in order (as Paths): for tests that
    each file is decoded once."""
    import data_pipeline.training_data.clips as clips_module

    paths, decode = [], clips_module.decode_audio

    def recording(path, *args, **kwargs):
        paths.append(Path(path))
        return decode(path, *args, **kwargs)

    monkeypatch.setattr(clips_module, "decode_audio", recording)
    return paths


def cross_validate_preset(data_dir, preset_name, tmp_path, folds, hop_s=None, **train_settings):
    """Cross-validate a preset on a dataset folder as `train.py --preset NAME --folds K` does; (summary, classes)."""
    from data_pipeline.training_data.clips import training_clips
    from model.learning.crossval import cross_validate
    from model.learning.presets import bank_per_kind, get_preset, preset_counting
    from model.learning.training import TrainConfig

    preset = get_preset(preset_name)
    hop_s = hop_s or preset.window_hop_s
    clips, classes, _ = training_clips(data_dir, None, None, preset.frontend.clip_s, hop_s)
    config = TrainConfig(network=preset.network, verbose=0, negative_bank_per_kind=bank_per_kind(preset), **train_settings)
    counting = preset_counting(preset)
    summary = cross_validate(clips, classes, tmp_path, folds, config, preset.frontend,
                             counting and counting.overridden(hop_s=hop_s), preset.pooling)
    return summary, classes


@pytest.fixture(scope="module")
def untrained_model(tmp_path_factory):
    """A run folder holding a detector with untrained weights: for tests of what is read and written,
    not of what is found."""
    from model.detection.detector import Detector
    from model.learning.networks import build_model
    from model.learning.training import default_frontend

    frontend = default_frontend("compact")
    folder = tmp_path_factory.mktemp("untrained")
    net = build_model("compact", frontend.input_shape, 2, frontend=frontend)
    Detector(net, frontend, ["no call", "call"]).save(folder)
    return folder


def run_script(script, *args, cwd, timeout=600):
    """Run a top-level script as a user would; the CompletedProcess (text stdout and stderr)."""
    import subprocess

    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run([sys.executable, str(ROOT / script), *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def chirp_recordings(folder, n, seconds, rate=16000):
    """n recordings of noise with three chirps each at random times (seeded): something for a network,
    even an untrained one, to score differently window by window."""
    import soundfile as sf

    folder.mkdir()
    rng = np.random.default_rng(7)
    for i in range(n):
        x = 0.05 * rng.standard_normal(int(seconds * rate))
        for start in rng.uniform(0, seconds - 4, 3):
            t = np.arange(int(3 * rate)) / rate
            a = int(start * rate)
            x[a: a + len(t)] += 0.3 * np.sin(2 * np.pi * (800 + 300 * t) * t)
        sf.write(folder / f"site_{i:02d}.wav", x.astype(np.float32), rate)


def output_bytes(folder):
    """Every file count_calls.py wrote under `folder` but the parts, by name: the bytes a user would compare."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(Path(folder).rglob("*"))
            if p.is_file() and "_parts" not in p.as_posix()}


def two_class_clips(folder, per_class, seed):
    """folder/negative and folder/positive: 3 s forest-like backgrounds, and the same with a synthetic call,
    named in groups of four (bg<k>-<i>.wav, call<k>-<i>.wav) so group splits keep each four together."""
    import soundfile as sf

    from data_pipeline.synthetic.capuchinbird import synth_background, synth_call

    rng, sr = np.random.default_rng(seed), 16000
    for label in ("negative", "positive"):
        (folder / label).mkdir(parents=True)
    for i in range(per_class):
        bg = 0.05 * synth_background(rng, sr, 3.0)
        sf.write(folder / "negative" / f"bg{i // 4}-{i % 4}.wav", bg, sr)
        sf.write(folder / "positive" / f"call{i // 4}-{i % 4}.wav", bg + 0.05 * synth_call(rng, sr, 3.0), sr)
    return folder


def free_ports(n):
    """n distinct TCP ports on 127.0.0.1 that nothing listens on (held together while chosen)."""
    import socket

    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def designed_count(folder, detector_dir, windows: dict[str, list[tuple[float, float, float]]], seconds=60.0, rate=16000):
    """A count as count_calls.py leaves it (OUTPUT_events.csv, OUTPUT_parts/) over quiet noise recordings,
    with window scores designed here: for each recording, (from s, to s, score) stretches on a floor of
    0.01. Known answers for the review without a trained network. detector_dir: a run folder, or several (a count
    that averaged them). Returns (recordings, output CSV path)."""
    import soundfile as sf

    from model.detection.counting import RecordingScores, events_from_scores
    from model.detection.detector import load_detector
    from model.detection.score_parts import save_part, scoring_fingerprint
    from model.outputs import atomic_write_csv

    detector = load_detector(detector_dir)
    fe, hop = detector.frontend, detector.counting.hop_s
    fingerprint = scoring_fingerprint(detector, hop)
    output = Path(folder) / "counts.csv"
    recordings, scored = [], []
    for i, (name, stretches) in enumerate(sorted(windows.items())):
        path = Path(folder) / name
        noise = np.random.default_rng(i).normal(0, 0.01, int(seconds * rate)).astype(np.float32)
        sf.write(path, noise, rate)
        starts = np.arange(0, seconds - fe.clip_s + 1e-9, hop)
        centres = starts + fe.clip_s / 2
        scores = np.full(len(starts), 0.01)
        for a, b, score in stretches:
            scores[(centres >= a) & (centres < b)] = score
        rec = RecordingScores(name, starts, scores, seconds)
        save_part(Path(folder) / "counts_parts", path, rec, fingerprint)
        recordings.append(path)
        scored.append(rec)
    atomic_write_csv(Path(folder) / "counts_events.csv", events_from_scores(scored, fe.clip_s, detector.counting).events)
    return recordings, output
