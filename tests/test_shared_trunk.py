"""Counting with shared convolutions (model.detection.shared_trunk) gives each window the score it gets alone."""

import json
import os

import keras
import numpy as np
import pytest

from data_pipeline.features.frontend import FrontendConfig
from data_pipeline.features.windows import iter_windows
from model.detection.detector import Detector
from model.detection.shared_trunk import SharedTrunk, centre_frames, shareable
from model.learning.networks import build_model, shared_trunk_network


def shared_detector(fe: FrontendConfig, hop_s: float, classes=("no call", "call"), seed: int = 0) -> Detector:
    """A detector whose network shares its trunk at `hop_s`, with random weights scaled up so its scores
    spread over 0..1 (an untrained network scores everything near 0.5, where differences hide)."""
    keras.utils.set_random_seed(seed)
    net = build_model("compact", fe.input_shape, len(classes), frontend=fe, **shared_trunk_network(fe, hop_s))
    head = next(layer for layer in net.layers if layer.name in ("call_probability", "class_probabilities"))
    kernel, bias = head.get_weights()
    head.set_weights([kernel * 40, bias])
    return Detector(net, fe, list(classes))


def loud_and_silent_stretches(seconds: float, fe: FrontendConfig) -> np.ndarray:
    """Noise whose level jumps every second, tones, and 4 s of digital silence (the gate's side)."""
    rng = np.random.default_rng(1)
    n = int(seconds * fe.sample_rate_hz)
    t = np.arange(n) / fe.sample_rate_hz
    level = np.repeat(10 ** rng.uniform(-3, -0.5, int(seconds) + 1), fe.sample_rate_hz)[:n]
    audio = level * rng.standard_normal(n) + 0.2 * np.sin(2 * np.pi * 900 * t) * (np.sin(2 * np.pi * 0.3 * t) > 0)
    audio[int(5 * fe.sample_rate_hz): int(9 * fe.sample_rate_hz)] = 0
    return audio.astype(np.float32)




@pytest.mark.parametrize("seconds, hop_s, batch", [(17.3, 0.25, 5), (17.3, 0.25, 64), (2.0, 0.25, 64), (13.0, 0.5, 3)])
def test_shared_trunk_scores_equal_each_window_scored_alone(seconds, hop_s, batch):
    fe = FrontendConfig()
    detector = shared_detector(fe, hop_s)
    audio = loud_and_silent_stretches(seconds, fe)
    blocks = np.array_split(audio, max(1, len(audio) // 23000))  # uneven blocks, none aligned to windows
    batches = list(iter_windows(iter(blocks), fe, hop_s, max_windows_per_batch=batch))
    hop_frames = batches[0].hop_frames
    assert shareable(detector.model, fe, hop_frames)
    shared = np.concatenate([detector.window_probabilities(b) for b in batches])
    alone = np.concatenate([detector.probabilities(b.spectrograms) for b in batches])  # the network as trained
    assert detector._trunks[hop_frames] is not None  # the shared path was taken
    np.testing.assert_allclose(shared, alone, atol=2e-5)
    scores = alone[:, 1]
    assert scores.std() > 0.1 or len(scores) < 3  # the scores spread: a real comparison
    if seconds > 10:
        starts = np.concatenate([b.starts_s for b in batches])
        silent = (starts >= 5) & (starts + fe.clip_s <= 9)
        assert silent.any() and (scores[silent] == 0).all()  # the silence gate, shared too
        assert (scores[~silent] > 0).all()


def test_more_classes_share_the_trunk_too():
    fe = FrontendConfig()
    detector = shared_detector(fe, 0.25, classes=("a", "b", "c"))
    batch = next(iter_windows(iter([loud_and_silent_stretches(6.0, fe)]), fe, 0.25))
    np.testing.assert_allclose(detector.window_probabilities(batch), detector.probabilities(batch.spectrograms), atol=2e-5)
    assert detector._trunks[batch.hop_frames] is not None


def test_the_default_network_and_other_hops_are_scored_window_by_window():
    fe = FrontendConfig()
    default = build_model("compact", fe.input_shape, frontend=fe)
    assert not shareable(default, fe, 10)  # it standardises whole windows
    shared = shared_detector(fe, 0.25).model
    assert shareable(shared, fe, 10) and not shareable(shared, fe, 20)  # pools of 10 frames: a 0.5 s hop does not fit
    detector = Detector(shared, fe, ["no call", "call"])
    batch = next(iter_windows(iter([loud_and_silent_stretches(6.0, fe)]), fe, 0.5))
    np.testing.assert_allclose(detector.window_probabilities(batch), detector.probabilities(batch.spectrograms))
    assert detector._trunks[batch.hop_frames] is None


def test_sliding_standardisation_keeps_gain_invariance_and_a_saved_model_still_shares(tmp_path):
    fe = FrontendConfig()
    detector = shared_detector(fe, 0.25)
    x = np.random.default_rng(0).standard_normal((2, *fe.input_shape)).astype(np.float32)
    np.testing.assert_allclose(detector.model(x), detector.model(x + 3.0), atol=1e-4)  # a gain: log levels + constant
    detector.save(tmp_path)
    loaded = Detector.load(tmp_path)
    batch = next(iter_windows(iter([loud_and_silent_stretches(12.0, fe)]), fe, 0.25))
    np.testing.assert_allclose(loaded.window_probabilities(batch), detector.probabilities(batch.spectrograms), atol=2e-5)
    assert isinstance(loaded._trunks[batch.hop_frames], SharedTrunk)


def test_the_score_reaches_only_the_frames_its_settings_allow():
    settings = shared_trunk_network(FrontendConfig(), 0.25)
    assert settings["time_pools"] == (2, 5, 1, 1)  # 10 frames a hop
    first, last = centre_frames(119, settings["time_pools"], keep=2, left=5)
    assert (first, last) == (27, 92)  # by hand: 3-wide convolutions and pools, back from steps 5 and 6
    assert settings["context_frames"] == min(first, 118 - last) == 26
    with pytest.raises(ValueError, match="reach past the window's edges"):
        shared_trunk_network(FrontendConfig(clip_s=1.0), 0.25)
    with pytest.raises(ValueError, match="centre_fraction 1"):  # a classification preset pools its whole window
        shared_trunk_network(FrontendConfig(), 0.25, centre_fraction=1.0)


def test_counting_decodes_ahead_with_the_same_scores_and_failures(write_audio, tmp_path):
    from model.detection.counting import count_calls

    fe = FrontendConfig()
    detector = shared_detector(fe, 0.25)
    paths = [write_audio(f"r{i}.wav", loud_and_silent_stretches(6.0 + i, fe), fe.sample_rate_hz) for i in range(4)]
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF....WAVEnot audio")
    paths.insert(2, broken)
    results = [count_calls(detector, paths, progress=False, decode_ahead=ahead) for ahead in (0, 1, 2, 5)]
    for result in results:
        assert [r.recording for r in result.scores] == ["r0.wav", "r1.wav", "r2.wav", "r3.wav"]
        assert len(result.failures) == 1 and "broken.wav" in result.failures[0]
        for mine, first in zip(result.scores, results[0].scores):
            np.testing.assert_array_equal(mine.scores, first.scores)
    assert len(results[0].scores[3].scores) == len(np.arange(0, 9.0 - 3.0 + 1e-9, 0.25))  # r3: 9 s, every window scored


def test_counting_runs_a_shared_network_on_one_thread_and_leaves_others_alone(tmp_path):
    """count_calls.py gives TensorFlow one thread per operation for a network that shares its trunk at the
    hop it counts with (the decoder needs the other core), and its own choice otherwise."""
    import subprocess
    import sys

    from conftest import ROOT

    from model.detection.counting import counting_threads
    from model.detection.detector import shares_when_counted

    fe = FrontendConfig()
    shared_detector(fe, 0.25).save(tmp_path / "shared")
    Detector(build_model("compact", fe.input_shape, 2, frontend=fe), fe, ["no call", "call"]).save(tmp_path / "window")
    for name in ("shared", "window"):  # read from the files, as `shareable` decides on the loaded network
        net = Detector.load(tmp_path / name).model
        for hop_s in (0.25, 0.5):
            assert shares_when_counted(tmp_path / name, hop_s) is shareable(net, fe, int(hop_s * 40)), (name, hop_s)
    assert shares_when_counted(tmp_path / "shared") and shares_when_counted(tmp_path / "shared" / "model.keras")
    assert not shares_when_counted(tmp_path / "shared", 0.5) and not shares_when_counted(tmp_path / "window")
    assert not shares_when_counted(tmp_path / "nothing")
    # Neither of these touches TensorFlow's settings, so they can run in this process.
    assert counting_threads(tmp_path / "window") is None and counting_threads(tmp_path / "shared", hop_s=0.5) is None
    code = ("import sys; from model.detection.counting import counting_threads; import tensorflow as tf; "
            "print(counting_threads(sys.argv[1], None), tf.config.threading.get_intra_op_parallelism_threads())")
    done = subprocess.run([sys.executable, "-c", code, str(tmp_path / "shared")], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    assert done.stdout.split() == ["1", "1"], done.stderr[-2000:]


@pytest.mark.slow  # trains networks
def test_train_py_shares_the_trunk_by_default_and_not_when_told(tmp_path):
    from conftest import run_script, two_class_clips

    data = two_class_clips(tmp_path / "data", 16, seed=0)
    quick = ["--epochs", "2", "--negative-bank-per-kind", "0", "--hard-negative-pool-per-kind", "0"]
    # The preset's pitch augmentation comes with either network, and goes with --no-pitch-augment.
    for flags, shares, pitch in [([], True, 0.5), (["--no-shared-trunk"], False, 0.5),
                                 (["--shared-trunk", "--no-pitch-augment"], True, None)]:
        run = tmp_path / ("run" + "".join(flags))
        done = run_script("train.py", "--data-dir", data, "--run-dir", run, *flags, *quick, cwd=tmp_path)
        assert done.returncode == 0, done.stderr[-2000:]
        detector = Detector.load(run)
        assert shareable(detector.model, detector.frontend, 10) is shares, flags  # the 0.25 s counting hop, 25 ms frames
        assert detector.counting.min_call_s == (1.5 if shares else 2.25), flags  # its calls come out shorter
        augment = json.loads((run / "test_metrics.json").read_text())["train_config"]["augment"]
        assert (augment and augment["pitch_probability"]) == pitch, flags
    refused = run_script("train.py", "--data-dir", data, "--arch", "seed", "--shared-trunk", *quick, cwd=tmp_path)
    assert refused.returncode == 2 and "--shared-trunk is a setting of the compact network" in refused.stderr
    heart = run_script("train.py", "--data-dir", data, "--preset", "heart", "--shared-trunk", *quick, cwd=tmp_path)
    assert heart.returncode != 0 and "need a score from the middle of each window" in heart.stderr
    assert "Traceback" not in heart.stderr and len(heart.stderr.strip().splitlines()) == 1, heart.stderr
    assert not (tmp_path / "runs").exists()  # both refused before anything was written
