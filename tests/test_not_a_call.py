"""What is not a call: the silence floor in the network, the generated bank of non-call sounds, --negatives."""

import json

import numpy as np
import pytest
import soundfile as sf

from conftest import dominant_hz, sine
from data_pipeline.features.frontend import FrontendConfig, clip_features
from data_pipeline.synthetic.negatives import NEGATIVE_KINDS, negative_clips, synth_negative, write_negative_bank

FE = FrontendConfig()


def _windows(*waves):
    return np.asarray(clip_features(np.stack([w.astype(np.float32) for w in waves]), FE))


@pytest.fixture(scope="module")
def gated_detector(tmp_path_factory):
    """An untrained compact detector with the front end's silence gate, saved and loaded back."""
    import keras

    from model.detection.detector import Detector
    from model.learning.networks import build_model

    keras.utils.set_random_seed(0)
    net = build_model("compact", FE.input_shape, 2, frontend=FE)
    run = tmp_path_factory.mktemp("gated")
    Detector(net, FE, ["no_call", "call"]).save(run)
    return net, Detector.load(run)


def test_silence_and_dither_score_exactly_zero_and_sound_passes(gated_detector):
    net, loaded = gated_detector
    rng = np.random.default_rng(0)
    n = FE.clip_samples
    zeros = np.zeros(n)
    dither = rng.integers(-1, 2, n) / 32768  # 16-bit rounding noise, one step either way
    quiet_forest = 10 ** (-80 / 20) * rng.standard_normal(n)  # 5 dB quieter than the quietest shared window
    noise = 0.1 * rng.standard_normal(n)
    ungated = net.layers[-2].output  # the sigmoid before the gate
    import keras

    raw = keras.Model(net.input, ungated).predict_on_batch(_windows(zeros, dither, quiet_forest, noise)).ravel()
    scores = loaded.score(_windows(zeros, dither, quiet_forest, noise))
    assert raw[0] > 0 and raw[1] > 0  # the network alone gives silence a score...
    np.testing.assert_array_equal(scores[:2], [0.0, 0.0])  # ...the gate makes it exactly "no call"
    np.testing.assert_allclose(scores[2:], raw[2:], rtol=1e-6)  # anything louder than the floor is untouched
    assert loaded.frontend.silence_floor_dbfs == FE.silence_floor_dbfs == -90.0


def test_a_zero_padded_tail_is_scored_on_what_it_holds(gated_detector):
    _, loaded = gated_detector
    n = FE.clip_samples
    tail = np.concatenate([0.1 * np.random.default_rng(1).standard_normal(n // 3), np.zeros(n - n // 3)])
    assert loaded.score(_windows(tail))[0] > 0  # a third of a window of sound is sound: the network decides


def test_with_a_pulse_panel_the_gate_reads_the_spectrogram_alone(tmp_path):
    import keras

    from model.detection.detector import Detector
    from model.learning.networks import build_model

    fe = FrontendConfig(pulse_frame_length=128)
    keras.utils.set_random_seed(0)
    net = build_model("compact", fe.input_shape, 2, frontend=fe)
    Detector(net, fe, ["no_call", "call"]).save(tmp_path)
    loaded = Detector.load(tmp_path)
    assert loaded.frontend == fe
    rng = np.random.default_rng(0)
    n = fe.clip_samples
    windows = np.asarray(clip_features(np.stack([np.zeros(n), rng.integers(-1, 2, n) / 32768,
                                                 0.1 * rng.standard_normal(n)]).astype(np.float32), fe))
    scores = loaded.score(windows)
    np.testing.assert_array_equal(scores[:2], [0.0, 0.0])  # silence and dither: below the floor
    assert scores[2] > 0
    np.testing.assert_allclose(scores, np.asarray(net.predict_on_batch(windows)).ravel(), rtol=1e-6)
    assert fe.silence_threshold() == FE.silence_threshold()  # the floor is measured on the spectrogram


def test_models_saved_before_the_floor_existed_keep_no_floor():
    config = FE.to_dict()
    del config["silence_floor_dbfs"]
    assert FrontendConfig.from_dict(config).silence_floor_dbfs is None
    assert FrontendConfig(median_subtraction=True).silence_floor_dbfs is None  # needs the level it removes
    assert FrontendConfig(silence_floor_dbfs=None).silence_threshold() is None


def test_the_bank_is_deterministic_and_holds_every_kind(tmp_path):
    backgrounds = [0.05 * np.random.default_rng(i).standard_normal(48000) for i in range(3)]
    a = write_negative_bank(tmp_path / "a", 16000, 3.0, seed=4, per_kind=2, backgrounds=backgrounds)
    b = write_negative_bank(tmp_path / "b", 16000, 3.0, seed=4, per_kind=2, backgrounds=backgrounds)
    assert a.groupby("kind").size().to_dict() == dict.fromkeys(NEGATIVE_KINDS, 4)
    assert a.groupby("kind")["mixed"].sum().to_dict() == dict.fromkeys(NEGATIVE_KINDS, 2)
    for fa, fb in zip(a["file"], b["file"]):
        np.testing.assert_array_equal(sf.read(fa)[0], sf.read(fb)[0])
    c = write_negative_bank(tmp_path / "c", 16000, 3.0, seed=5, per_kind=2, backgrounds=backgrounds)
    tone = lambda bank: sf.read(bank[bank["kind"] == "tone"]["file"].iloc[0])[0]  # noqa: E731
    assert not np.array_equal(tone(a), tone(c))  # another seed, other sounds
    assert not write_negative_bank(tmp_path / "d", 16000, 3.0, per_kind=1)["mixed"].any()  # no backgrounds: alone only


def test_the_bank_is_refused_at_a_rate_its_sounds_do_not_fit_before_training_writes_anything(tmp_path):
    import pandas as pd

    from model.learning.presets import get_preset
    from model.learning.training import TrainConfig, train

    said = "the generated non-call bank needs a sample rate of 3750 Hz or more"
    with pytest.raises(ValueError, match=said):  # was numpy's "high - low < 0", deep in the insects' chorus
        next(negative_clips(2000, 3.0, per_kind=1))
    assert sum(1 for _ in negative_clips(3750, 1.0, per_kind=1)) == len(NEGATIVE_KINDS)
    heart = get_preset("heart").frontend  # 2 kHz: the bank stays off unless asked for
    with pytest.raises(ValueError, match=f"{said}.* reads 2000 Hz"):
        train(pd.DataFrame(columns=["file", "start", "label", "group"]), ["normal", "abnormal"], tmp_path / "run",
              TrainConfig(negative_bank_per_kind=2), frontend=heart)
    assert not (tmp_path / "run").exists()


def _constant_net(logit: float):
    """A network that gives every window the same call probability, sigmoid(logit)."""
    import keras

    inputs = keras.Input(FE.input_shape)
    dense = keras.layers.Dense(1, activation="sigmoid", kernel_initializer="zeros",
                               bias_initializer=keras.initializers.Constant(logit))
    return keras.Model(inputs, dense(keras.layers.Flatten()(inputs)))


def test_mining_keeps_what_the_network_calls_and_writes_what_it_kept(tmp_path):
    from model.learning.hard_negatives import mine_hard_negatives

    backgrounds = [0.05 * np.random.default_rng(i).standard_normal(FE.clip_samples) for i in range(2)]
    x, mined, scored = mine_hard_negatives(_constant_net(3.0), FE, tmp_path / "all", seed=3, per_kind=1, threshold=0.5,
                                           backgrounds=backgrounds, chunk=5)  # a chunk boundary inside a kind
    assert len(mined) == len(x) == scored == 2 * len(NEGATIVE_KINDS)  # a network that calls everything: the whole pool
    assert mined.groupby("kind").size().to_dict() == dict.fromkeys(NEGATIVE_KINDS, 2)
    assert (mined["score"] >= 0.5).all() and mined["mixed"].sum() == len(NEGATIVE_KINDS)
    for row, features in zip(mined.itertuples(), x):  # each file is the clip whose features were returned
        audio, rate = sf.read(row.file, dtype="float32")
        assert rate == FE.sample_rate_hz and len(audio) == FE.clip_samples
        magnitude = np.exp(features)  # compared as magnitudes: 16-bit rounding moves the log of near-zero bins...
        tolerance = 0.01 * magnitude.max() + 1e-3  # ...and adds about 2e-4 of noise per bin
        np.testing.assert_allclose(np.exp(_windows(audio)[0]), magnitude, atol=tolerance)
    x, none, scored = mine_hard_negatives(_constant_net(-3.0), FE, tmp_path / "none", seed=3, per_kind=1, backgrounds=[],
                                          threshold=0.5)
    assert len(none) == len(x) == 0 and not (tmp_path / "none").exists()  # nothing called: nothing mined or written
    assert scored == len(NEGATIVE_KINDS) and x.shape[1:] == FE.input_shape  # no backgrounds: clips alone only
    # A near miss (call probability sigmoid(-1) = 0.27) is mined only below the threshold asked for.
    _, near, _ = mine_hard_negatives(_constant_net(-1.0), FE, tmp_path / "near", 3, 1, [], threshold=0.5)
    _, at_02, _ = mine_hard_negatives(_constant_net(-1.0), FE, tmp_path / "at02", 3, 1, [], threshold=0.2)
    assert len(near) == 0 and len(at_02) == len(NEGATIVE_KINDS) and (at_02["score"].round(2) == 0.27).all()


def test_each_kind_is_what_its_name_says():
    rng, sr, n = np.random.default_rng(0), 16000, 48000
    assert not synth_negative(rng, "silence", n, sr).any()
    dither = synth_negative(rng, "dither", n, sr)
    assert 0 < np.abs(dither).max() <= 1 / 32768
    background = np.ones(n)
    gap = synth_negative(rng, "silent_gap", n, sr, background)
    zero = np.flatnonzero(gap == 0)
    assert 0.3 * sr <= len(zero) <= 2.5 * sr and np.all(np.diff(zero) == 1)  # one stretch of silence...
    assert (gap != 0).sum() == n - len(zero)  # ...in untouched background
    tail = synth_negative(rng, "silent_tail", n, sr, background)
    assert tail[-1] == 0 and tail[0] == 1
    assert 150 <= dominant_hz(synth_negative(rng, "tone", n, sr), sr) <= 2400
    assert dominant_hz(synth_negative(rng, "heartbeat", n, sr), sr) <= 200
    assert dominant_hz(synth_negative(rng, "wind", n, sr), sr) <= 600
    assert 1400 <= dominant_hz(synth_negative(rng, "insects", n, sr), sr) <= 6500
    for _ in range(5):  # pulsed trills the front end sees, unlike most insect bands
        assert 100 <= dominant_hz(synth_negative(rng, "frogs", n, sr), sr) <= 2700
    energy = (synth_negative(rng, "impacts", n, sr) ** 2).reshape(-1, 160).sum(axis=1) + 1e-12  # per 10 ms
    assert np.diff(10 * np.log10(energy)).max() > 20  # a hit starts abruptly, out of quiet
    white = 0.05 * np.random.default_rng(1).standard_normal(n)  # power up to 8 kHz, 70% of it above 2.4 kHz
    hann = np.hanning(n)  # windowed: the clip's cut ends would spread a loud tone's power over the whole spectrum
    hz, white_power = np.fft.rfftfreq(n, 1 / sr), np.abs(np.fft.rfft(white * hann)) ** 2
    for _ in range(5):  # a low-rate recorder's: nothing above half its rate (2.4 kHz at most), the low band kept
        power = np.abs(np.fft.rfft(synth_negative(rng, "low_rate", n, sr, white) * hann)) ** 2
        above = power[hz > 2400].sum() / power.sum()
        assert above < 1e-4 and power[hz < 400].sum() > 0.8 * white_power[hz < 400].sum(), above
    for kind in NEGATIVE_KINDS:
        x = synth_negative(rng, kind, n, sr, background)
        assert x.shape == (n,) and np.isfinite(x).all(), kind


def test_other_animals_are_what_their_names_say_and_all_but_the_moo_never_in_the_bank():
    """The unseen animals (a blind test: robustness.py and placed_sounds.py play them to models never trained on
    them) and the moo the bank holds, each where its species group calls, between its calls silent, and the same
    from the same seed."""
    from data_pipeline.synthetic.negatives import ANIMALS, UNSEEN_KINDS

    assert set(ANIMALS) - {"cattle"} <= set(UNSEEN_KINDS) and "cattle" in NEGATIVE_KINDS
    assert not set(UNSEEN_KINDS) & set(NEGATIVE_KINDS)
    sr, n = 16000, 160000
    hz = np.fft.rfftfreq(n, 1 / sr)
    for seed in range(3):
        sound = {kind: synth_negative(np.random.default_rng(seed), kind, n, sr) for kind in ANIMALS}
        for kind, x in sound.items():
            assert np.array_equal(x, synth_negative(np.random.default_rng(seed), kind, n, sr)), kind
            assert np.isclose(np.sqrt(np.mean(x**2)), 1.0) and (x == 0).mean() > 0.05, kind  # sound, then silence
        power = {kind: np.abs(np.fft.rfft(x)) ** 2 for kind, x in sound.items()}
        below = {kind: p[hz < 2000].sum() / p.sum() for kind, p in power.items()}
        assert 800 <= dominant_hz(sound["songbird"], sr) <= 6000 and below["songbird"] < 0.5, seed  # high notes
        assert dominant_hz(sound["howler"], sr) <= 1700 and below["howler"] > 0.5, seed  # a low roar
        assert dominant_hz(sound["cattle"], sr) <= 1800 and below["cattle"] > 0.8, seed  # a low moo
        assert 250 <= dominant_hz(sound["parrot"], sr) <= 6000, seed
        lowest = hz[np.argmax(power["cattle"][hz > 60] > 0.01 * power["cattle"].max()) + np.count_nonzero(hz <= 60)]
        assert 60 <= lowest <= 260, (seed, lowest)  # its fundamental, 70-250 Hz


def test_a_harmonic_series_is_the_sum_of_its_sines():
    """Engines and speech build their harmonics by recurrence from one sine and cosine; each harmonic's own
    sine, as they were made before, must give the same sound."""
    from data_pipeline.synthetic.negatives import _harmonics, _sine

    sr, n = 16000, 48000
    f0 = 30 * (1 + 0.03 * np.sin(2 * np.pi * 0.3 * np.arange(n) / sr))  # the lowest engine: 79 harmonics
    weight = lambda k: 1 / k**0.7  # noqa: E731
    series = _harmonics(f0, 79, sr, weight)
    assert np.abs(series - sum(weight(k) * _sine(k * f0, n, sr) for k in range(1, 80))).max() < 1e-8  # float32 keeps 6e-8
    assert 30 * 79 * 0.97 < dominant_hz(_harmonics(f0, 79, sr, lambda k: float(k == 79)), sr) < 30 * 79 * 1.03


def test_a_frog_trill_is_what_its_parameters_say():
    """benchmarks/pulsed_sounds.py reads which trills a model calls from these parameters."""
    from data_pipeline.synthetic.negatives import frog_trill

    rng, sr, n = np.random.default_rng(1), 16000, 48000
    seen = 0
    while seen < 4:
        trill, params = frog_trill(rng, n, sr)
        if not params["continuous"]:
            continue
        seen += 1
        on = trill != 0  # the gate closes to exact zeros
        rises = np.count_nonzero(on[1:] & ~on[:-1])
        assert abs(rises / (n / sr) - params["pulses_per_s"]) <= 1.0, params
        assert abs(on.mean() - params["pulse_fraction"]) <= 0.05, params
        assert abs(dominant_hz(trill, sr) - params["dominant_hz"]) <= 250, params  # within its noise band


def test_the_robustness_benchmark_puts_a_sound_over_every_call_and_nowhere_else():
    """benchmarks/robustness.py's over_calls condition: each call overlapped by 1 s or more, at its stated level."""
    import sys

    from conftest import ROOT
    from data_pipeline.synthetic.capuchinbird import rms

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from robustness import sounds_over_calls

    sr, rng = 16000, np.random.default_rng(3)
    audio = 0.001 * np.random.default_rng(0).standard_normal(60 * sr)  # quiet enough that nothing clips
    calls = [(0.2, 4.0), (10.0, 14.5), (20.0, 20.6), (57.0, 59.9)]  # at the start, inside, shorter than 1 s, at the end
    tone = sine(1000, 60, sr, 0.02)
    for start, end in calls:
        audio[int(start * sr) : int(end * sr)] += tone[int(start * sr) : int(end * sr)]
    mixed, placed = sounds_over_calls(audio, sr, calls, rng)
    assert len(placed) == len(calls) and mixed.shape == audio.shape
    for (start, end), (kind, a, b, below_db) in zip(calls, placed):
        assert 1.5 - 1e-3 <= b - a <= 4.0 + 1e-3 and 0 <= a and b <= 60.0
        assert min(b, end) - max(a, start) >= min(1.0, end - start) - 1e-3, (kind, a, b, start, end)
        added = (mixed - audio)[int(round(a * sr)) : int(round(b * sr))]
        level_db = 20 * np.log10(rms(added) / rms(audio[int(start * sr) : int(end * sr)]))
        assert 0 <= below_db <= 10 and abs(level_db + below_db) < 0.05, (kind, level_db, below_db)
    outside = np.ones(len(audio), bool)
    for _, a, b, _ in placed:
        outside[int(round(a * sr)) : int(round(b * sr))] = False
    np.testing.assert_array_equal(mixed[outside], np.clip(audio, -1, 1)[outside])  # nothing added anywhere else
    again, placed_again = sounds_over_calls(audio, sr, calls, np.random.default_rng(3))
    assert placed_again == placed and np.array_equal(again, mixed)  # the benchmark's files repeat


def test_negatives_add_windows_of_no_call_audio(tmp_path, write_audio):
    from data_pipeline.training_data.clips import training_clips

    rec = write_audio("rec.wav", sine(300, 12.0, 8000), 8000)
    csv = tmp_path / "calls.csv"
    csv.write_text("recording,start,end\nrec.wav,4,9\n")
    folder = tmp_path / "rain"
    folder.mkdir()
    sf.write(folder / "rain1.wav", 0.1 * np.random.default_rng(0).standard_normal(8000 * 7), 8000)
    sf.write(folder / "rain2.wav", 0.1 * np.random.default_rng(1).standard_normal(8000 * 2), 8000)
    clips, classes, _ = training_clips(None, [rec], csv, 3.0, negatives=[folder])
    extra = clips[clips["group"].str.startswith("negatives:")]
    assert sorted(extra["start"].round(2)) == [0.0, 0.0, 3.0, 4.0]  # 7 s: 0, 3 and the window ending at 7; 2 s: one
    assert set(extra["label"]) == {"not_capuchinbird"} and extra["group"].nunique() == 2
    with pytest.raises(FileNotFoundError, match="--negatives: no such file or folder: .*missing"):
        training_clips(None, [rec], csv, 3.0, negatives=[tmp_path / "missing"])
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match="--negatives: no audio files"):
        training_clips(None, [rec], csv, 3.0, negatives=[tmp_path / "empty"])


@pytest.mark.slow
@pytest.mark.parametrize("shared", [True, False], ids=["shared network", "window network"])
def test_a_detector_shown_a_tone_as_negative_ignores_it(tmp_path, shared):
    """Tiny synthetic data: calls against forest backgrounds; a steady 1 kHz tone only as a negative
    (the --negatives path); the trained detector leaves a tone alone and still finds calls. Both networks:
    the shared one (the capuchinbird default) sees each frame beside its neighbours only."""
    from data_pipeline.synthetic.capuchinbird import synth_background, synth_call
    from data_pipeline.training_data.clips import training_clips
    from model.detection.shared_trunk import shareable
    from model.learning.training import TrainConfig, network_settings, train

    rng, sr = np.random.default_rng(0), 16000
    data = tmp_path / "data"
    for label in ("negative", "positive"):  # a folder per class, alphabetical: the second is the call
        (data / label).mkdir(parents=True)
    for i in range(40):
        bg = 0.05 * synth_background(rng, sr, 3.0)
        sf.write(data / "negative" / f"bg{i // 4}-{i % 4}.wav", bg, sr)
        sf.write(data / "positive" / f"call{i // 4}-{i % 4}.wav", bg + 0.05 * synth_call(rng, sr, 3.0), sr)
    tones = tmp_path / "tones"
    tones.mkdir()
    for i, f in enumerate((700, 1000, 1300, 1600)):
        sf.write(tones / f"tone{i}.wav", 0.3 * sine(f, 12.0, sr), sr)
    clips, classes, _ = training_clips(data, None, None, 3.0, negatives=[tones])
    assert classes == ["negative", "positive"]
    network = network_settings(None, FE, {}, shared_by_default=shared)
    detector = train(clips, classes, tmp_path / "run",
                     TrainConfig(epochs=12, patience=4, verbose=0, negative_bank_per_kind=0, network=network))
    assert shareable(detector.model, detector.frontend, 10) is shared  # the network asked for
    test_tone = _windows(0.3 * sine(1150, 3.0, sr))
    test_call = _windows(0.05 * synth_background(rng, sr, 3.0) + 0.05 * synth_call(rng, sr, 3.0))
    assert detector.score(test_tone)[0] < 0.5
    assert detector.score(test_call)[0] >= 0.5
    assert json.loads((tmp_path / "run" / "test_metrics.json").read_text())["clips_per_label"]["negative"] >= 40 + 16


def _mine(net, run, rounds, threshold, early_stopping=None, patience=0, **epochs):
    """(mined rows, history) of `_fit_on_hard_negatives` after a one-epoch history, on 8 random clips (for training
    and validation alike), a pool of one clip per kind; `early_stopping` or a fresh one of `patience`."""
    import keras

    from model.learning.training import TrainConfig, _compile, _fit_on_hard_negatives
    from model.learning.training_state import EpochOrder

    config = TrainConfig(hard_negative_pool_per_kind=1, hard_negative_rounds=rounds, hard_negative_threshold=threshold,
                         verbose=0, **({"hard_negative_epochs": 1} | epochs))
    _compile(net, config, 2, 1e-3)
    rng = np.random.default_rng(0)
    data = (rng.standard_normal((8, *FE.input_shape)).astype(np.float32), np.array([0, 1] * 4, np.float32))
    order = EpochOrder()
    early_stopping = early_stopping or keras.callbacks.EarlyStopping(patience=patience, restore_best_weights=True)
    callbacks = [early_stopping, order.callback(), keras.callbacks.CSVLogger(str(run / "history.csv"))]
    return _fit_on_hard_negatives(net, data, data, callbacks, {"loss": [1.0]}, [], FE, run, config, order, "key")


def test_each_mining_round_scores_fresh_pools_with_the_network_the_round_before_left(tmp_path):
    table, history = _mine(_constant_net(3.0), tmp_path / "all", rounds=2, threshold=0.0)  # every clip mined, each round
    assert table.groupby(["round", "split"]).size().to_dict() == {(r, s): len(NEGATIVE_KINDS) for r in (1, 2)
                                                                  for s in ("train", "val")}
    assert len(history["loss"]) == 3  # one epoch before, one per round
    first, second = (table[(table["round"] == r) & (table["split"] == "train")] for r in (1, 2))
    assert len(set(first["score"].round(6))) == 1 and not np.allclose(second["score"], first["score"])  # refit between
    tone = lambda t: sf.read(t[t["kind"] == "tone"]["file"].iloc[0])[0]  # noqa: E731
    assert not np.array_equal(tone(first), tone(second))  # a fresh pool: other sounds
    assert all((tmp_path / "all" / "mined_negatives" / f"round{r}" / "train").is_dir() for r in (1, 2))

    table, history = _mine(_constant_net(-3.0), tmp_path / "none", rounds=3, threshold=0.5)  # nothing called
    assert len(table) == 0 and history == {"loss": [1.0]}  # one round scored, nothing mined, no fit, no more rounds

    # A run asked for 1 epoch gets 1 per round too, not hard_negative_epochs (3; patient enough to run them all).
    _, history = _mine(_constant_net(3.0), tmp_path / "short", rounds=2, threshold=0.0, patience=10, epochs=1,
                       hard_negative_epochs=3)
    assert len(history["loss"]) == 3


def test_a_mining_round_s_early_stopping_judges_its_own_epochs_where_keras_keeps_the_last_best(tmp_path, monkeypatch):
    """Keras 3.12.4 (the newest for Python 3.10) resets early stopping at a fit's start, all but its best value: a mining
    round, validated on harder clips than the fit before, then never beat that value, stopped after `patience` epochs
    and kept its first. Here a best of 0 (below any loss) is left from before, under Keras 3.12.4's reset."""
    import keras

    def keras_3_12_reset(self, logs=None):
        self.wait, self.stopped_epoch, self.best_weights, self.best_epoch = 0, 0, None, 0

    monkeypatch.setattr(keras.callbacks.EarlyStopping, "on_train_begin", keras_3_12_reset)
    early_stopping = keras.callbacks.EarlyStopping(patience=1, restore_best_weights=True)
    early_stopping.best = 0.0  # what the fit before left
    _, history = _mine(_constant_net(3.0), tmp_path, rounds=1, threshold=0.0, early_stopping=early_stopping,
                       hard_negative_epochs=4)
    assert early_stopping.best == pytest.approx(min(history["val_loss"]))  # this round's best, not the one before
    assert early_stopping.best_epoch == 1 + int(np.argmin(history["val_loss"]))  # and its weights


def test_each_generated_no_call_stream_of_the_robustness_benchmark_has_a_seed_of_its_own():
    """A kind added to the bank adds a stream and changes no other (the unseen frogs, drawn after every bank
    kind from one generator, came out anew each time a kind was added)."""
    import sys

    from conftest import ROOT

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from robustness import no_call_stream

    frogs = no_call_stream("frogs", 4.0)
    tone = no_call_stream("tone", 4.0)  # a kind drawn before it
    assert len(frogs) >= 4 * 16000 and np.array_equal(no_call_stream("frogs", 4.0), frogs)
    assert not np.array_equal(tone[: len(frogs)], frogs[: len(tone)])
