"""The harmonic gate: a crash, a knock or a hum is not a call (data_pipeline.features.harmonicity,
CountingConfig.min_harmonicity). Counting's block-by-block measure and its parts: tests/test_pulse_gate.py, with the
pulse spread's."""

import numpy as np
from conftest import sine, sure_and_faint_call

SR = 16000


def moo(seconds, f0=125.0, rate=SR, seed=0):
    """A Capuchinbird-like stack: every harmonic of f0 from 375 to 2000 Hz, the pitch gliding 5%, faint noise under."""
    t = np.arange(int(seconds * rate)) / rate
    phase = 2 * np.pi * f0 * (t + 0.05 * t ** 2 / (2 * seconds))
    stack = sum(np.sin(k * phase + k) / np.sqrt(k) for k in range(3, 17))
    return (0.05 * stack + np.random.default_rng(seed).normal(0, 0.002, len(t))).astype(np.float32)


def crashes(seconds, rate=SR, seed=0):
    """Glass-like strikes every 0.4 s: a noise burst and five partials at random frequencies, each dying away."""
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * rate))
    for at in range(0, len(out), int(0.4 * rate)):
        n = min(len(out) - at, int(0.4 * rate))
        t = np.arange(n) / rate
        ring = sum(np.sin(2 * np.pi * f * t) * np.exp(-t / rng.uniform(0.05, 0.3)) for f in rng.uniform(400, 2400, 5))
        out[at: at + n] += 0.05 * ring + rng.normal(0, 0.1, n) * np.exp(-t / 0.01)
    return out.astype(np.float32)


def test_a_harmonic_stack_measures_high_and_noise_crashes_tones_and_silence_do_not():
    from data_pipeline.features.harmonicity import stretch_harmonicity

    noise = np.random.default_rng(1).normal(0, 0.05, 4 * SR).astype(np.float32)
    values = {name: stretch_harmonicity(x, rate) for name, x, rate in [
        ("moo", moo(4), SR), ("moo on 200 Hz", moo(4, 200.0), SR), ("noise", noise, SR), ("crashes", crashes(4), SR),
        ("tone", 0.1 * sine(800.0, 4, SR), SR), ("moo at 32 kHz", moo(4, rate=32000), 32000)]}
    assert values["moo"] > 0.6 and values["moo on 200 Hz"] > 0.6 and values["moo at 32 kHz"] > 0.6, values
    assert max(values["noise"], values["crashes"], values["tone"]) < 0.3, values  # below the default gate
    assert np.isnan(stretch_harmonicity(np.zeros(4 * SR, np.float32), SR))  # no energy: not measured
    assert np.isnan(stretch_harmonicity(moo(4, rate=2000), 2000))  # a 2 kHz rate leaves no band to measure


def test_windows_are_measured_around_their_centres_where_they_score_high_as_each_piece_alone():
    from data_pipeline.features.harmonicity import piece_harmonicity, window_harmonicities

    audio = np.concatenate([moo(3), crashes(3)])
    starts = np.arange(0, 3 * SR + 1, SR // 4)  # 3 s windows every 0.25 s
    scores = np.r_[0.9, 0.1, 0.19, np.full(len(starts) - 3, 0.5)]
    values = window_harmonicities(audio, starts, 3 * SR, scores, SR)
    assert np.isnan(values[[1, 2]]).all() and np.isfinite(values[0]) and np.isfinite(values[3:]).all()
    alone = [piece_harmonicity(audio[s + SR: s + 2 * SR], [0], SR, SR)[0] for s in starts]  # each centre second
    np.testing.assert_allclose(values[[0, *range(3, len(starts))]], np.array(alone)[[0, *range(3, len(starts))]],
                               rtol=1e-5)
    assert values[0] > 0.6 and values[-1] < 0.3  # the stack's centre, then the crashes'


def test_a_call_with_no_harmonic_window_is_dropped_and_one_harmonic_window_keeps_a_call():
    from model.detection.events import CountingConfig, merge_windows

    starts = np.arange(40) * 0.25
    scores = np.zeros(40)
    scores[4:16] = scores[24:36] = 0.9  # two calls of 3 s
    harmonic = np.full(40, np.nan)
    harmonic[4:16], harmonic[24:36] = 0.2, 0.25
    harmonic[10] = 0.7  # the first call's stack, between its onset and its tail

    def calls(harmonic, **settings):
        found = merge_windows(starts, scores, 3.0, CountingConfig(min_call_s=1.0, **settings), 12.0, None, harmonic)
        return found["start"].round(3).tolist()

    assert calls(harmonic) == [2.375]  # the second call holds no stack and is dropped
    assert calls(harmonic, min_harmonicity=0.0) == [2.375, 7.375]  # 0: no gate
    assert calls(harmonic, min_harmonicity=0.25) == [2.375, 7.375]  # at the gate: kept
    assert calls(None) == [2.375, 7.375]  # scores saved before the gate
    assert calls(np.full(40, np.nan)) == [2.375, 7.375]  # nothing measured: nothing dropped
    below = harmonic.copy()
    below[scores < 0.5] = 0.9  # windows under the threshold are not the call's
    below[:4] = 0.9
    assert calls(below) == [2.375]


def test_training_lowers_the_gate_below_the_least_harmonic_sure_call_it_learnt_from(tmp_path):
    from data_pipeline.features.frontend import FrontendConfig
    from model.detection.events import HARMONIC_MARGIN, CountingConfig
    from model.learning.training import _sure_call_stacks

    table, labels = sure_and_faint_call(tmp_path, moo(4), crashes(4), SR)  # a faint knock
    fe = FrontendConfig()
    least = _sure_call_stacks(table, labels, "call", fe)[0]
    assert least > 0.6  # the faint knock is no call a count needs: not looked at
    assert CountingConfig().for_labelled_calls(None, None, least).min_harmonicity == 0.3  # never raised
    labels["confidence"] = "sure"  # a species whose calls are knocks keeps them
    least = _sure_call_stacks(table, labels, "call", fe)[0]
    assert least < 0.3
    assert CountingConfig().for_labelled_calls(None, None, least).min_harmonicity == max(0.0, round(least - HARMONIC_MARGIN, 3))
    assert CountingConfig(min_harmonicity=0.0).for_labelled_calls(None, None, least).min_harmonicity == 0.0
    assert CountingConfig().for_labelled_calls(None, None, float("nan")).min_harmonicity == 0.3
    assert _sure_call_stacks(table.assign(split="test"), labels, "call", fe)[0] is None


def test_a_setting_out_of_range_is_one_line():
    import pytest

    from model.detection.events import CountingConfig

    with pytest.raises(ValueError, match="min_harmonicity is 0 .no gate. up to below 1, got 1.5"):
        CountingConfig(min_harmonicity=1.5)
