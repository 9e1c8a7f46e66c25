"""The pitch-glide gate: a moo, a roar or a siren is not a Capuchinbird, which holds the pitch of its stack
(data_pipeline.features.harmonicity, CountingConfig.max_pitch_glide_oct_s). Counting's block-by-block measure and its
parts: tests/test_pulse_gate.py, with the other gates' measures."""

import numpy as np
import pytest
from conftest import sure_and_faint_call

SR = 16000


def stack(seconds, f0_hz, rate=SR, seed=0):
    """Every harmonic of a fundamental f0_hz(t) (Hz, t in seconds) from 375 to 2000 Hz, faint noise under."""
    t = np.arange(int(seconds * rate)) / rate
    f0 = np.broadcast_to(np.asarray(f0_hz(t), float), t.shape)
    phase = 2 * np.pi * np.cumsum(f0) / rate
    partials = sum(np.where(k * f0 < 2000, np.sin(k * phase + k), 0.0) / np.sqrt(k) for k in range(2, 26))
    return (0.05 * partials + np.random.default_rng(seed).normal(0, 0.002, len(t))).astype(np.float32)


def steady(seconds, f0=131.0):
    return stack(seconds, lambda t: f0 + 0 * t)


def moo(seconds, low=100.0, high=200.0):
    """A cow's moo as negatives.py outlines it: the fundamental arching from `low` up to `high` and back."""
    return stack(seconds, lambda t: low + (high - low) * np.sin(np.pi * t / seconds))


def test_a_steady_stack_holds_its_pitch_and_a_moo_glides_at_any_pitch_or_rate():
    from data_pipeline.features.harmonicity import stretch_pitch_glide

    assert stretch_pitch_glide(steady(4), SR) < 0.02
    assert stretch_pitch_glide(steady(4, 183.0), SR) < 0.02  # a call 1.4 times higher holds its pitch as well
    assert stretch_pitch_glide(stack(4, lambda t: 131.0 - 2.0 * t), SR) < 0.05  # the forest calls' drift
    assert stretch_pitch_glide(np.concatenate([steady(2), steady(2)]) * 2, 32000) < 0.05  # 32 kHz: frames scale
    for seconds, low, high in [(2.0, 100.0, 200.0), (3.0, 80.0, 160.0), (1.5, 120.0, 240.0)]:
        assert stretch_pitch_glide(moo(seconds, low, high), SR) > 0.4, (seconds, low, high)
    assert np.isnan(stretch_pitch_glide(np.zeros(4 * SR, np.float32), SR))  # no stack: not measured
    noise = np.random.default_rng(1).normal(0, 0.05, 4 * SR).astype(np.float32)
    assert np.isnan(stretch_pitch_glide(noise, SR))


def test_each_piece_reads_the_spacing_not_twice_it():
    """The ripple of a stack repeats at twice its spacing nearly as strongly as at once: the frames' spacing is the
    true one, or a steady stack would seem to jump an octave from frame to frame."""
    from data_pipeline.features.harmonicity import frame_stack

    harmonicity, spacing = frame_stack(steady(2), SR)
    held = harmonicity >= 0.5
    assert held.mean() > 0.9
    np.testing.assert_allclose(spacing[held], 131.0, atol=3.0)


def test_windows_are_measured_around_their_centres_where_they_score_high():
    from data_pipeline.features.harmonicity import piece_stack, window_stack

    audio = np.concatenate([steady(3), moo(3)])
    starts = np.arange(0, 3 * SR + 1, SR // 4)  # 3 s windows every 0.25 s
    scores = np.r_[0.9, 0.1, np.full(len(starts) - 2, 0.5)]
    harmonicity, glide = window_stack(audio, starts, 3 * SR, scores, SR)
    assert np.isnan(glide[1]) and np.isnan(harmonicity[1])
    alone = [piece_stack(audio[s + SR: s + 2 * SR], [0], SR, SR)[1][0] for s in starts]  # each centre second
    np.testing.assert_allclose(glide[[0, *range(2, len(starts))]], np.array(alone)[[0, *range(2, len(starts))]])
    assert glide[0] < 0.05 and glide[8] > 0.4  # the steady stack's centre, then the moo's rising side (3 to 4 s)
    assert glide[-1] < 0.05  # the moo's top, where its pitch turns: a call is read over all its windows


def test_a_call_whose_stack_glides_is_dropped():
    from model.detection.events import CountingConfig, merge_windows

    starts = np.arange(40) * 0.25
    scores = np.zeros(40)
    scores[4:16] = scores[24:36] = 0.9  # two calls of 3 s
    glide = np.full(40, np.nan)
    glide[4:16], glide[24:36] = 0.04, 0.6
    glide[[4, 5, 24, 25, 26]] = [0.7, np.nan, 0.05, 0.05, np.nan]  # one odd window each does not decide

    def calls(glide, **settings):
        found = merge_windows(starts, scores, 3.0, CountingConfig(min_call_s=1.0, **settings), 12.0, None, None, glide)
        return found["start"].round(3).tolist()

    assert calls(glide) == [2.375]  # the second call's stack glides: dropped
    assert calls(glide, max_pitch_glide_oct_s=0.0) == [2.375, 7.375]  # 0: no gate
    assert calls(glide, max_pitch_glide_oct_s=0.6) == [2.375, 7.375]  # at the gate: kept
    assert calls(None) == [2.375, 7.375]  # scores saved before the gate
    assert calls(np.full(40, np.nan)) == [2.375, 7.375]  # nothing measured: nothing dropped
    outside = glide.copy()
    outside[scores < 0.5] = 0.9  # windows under the threshold are not the call's
    assert calls(outside) == [2.375]


def test_training_raises_the_gate_above_the_most_gliding_sure_call_it_learnt_from(tmp_path):
    from data_pipeline.features.frontend import FrontendConfig
    from model.detection.events import GLIDE_MARGIN_OCT_S, CountingConfig
    from model.learning.training import _sure_call_stacks

    table, labels = sure_and_faint_call(tmp_path, steady(4), moo(2.0), SR)  # a faint sweep
    fe = FrontendConfig()
    _, most = _sure_call_stacks(table, labels, "call", fe)
    assert most < 0.02  # the faint sweep is no call a count needs: not looked at
    assert CountingConfig().for_labelled_calls(None, most_gliding=most).max_pitch_glide_oct_s == 0.25  # never lowered
    labels["confidence"] = "sure"  # a species whose calls sweep keeps them
    _, most = _sure_call_stacks(table, labels, "call", fe)
    assert most > 0.4
    raised = CountingConfig().for_labelled_calls(None, most_gliding=most).max_pitch_glide_oct_s
    assert raised == round(most + GLIDE_MARGIN_OCT_S, 3)
    assert CountingConfig(max_pitch_glide_oct_s=0.0).for_labelled_calls(None, most_gliding=most).max_pitch_glide_oct_s == 0
    assert _sure_call_stacks(table.assign(split="test"), labels, "call", fe) == (None, None)


def test_a_glide_limit_below_zero_is_one_line():
    from model.detection.events import CountingConfig

    with pytest.raises(ValueError, match="max_pitch_glide_oct_s must be 0 .no gate. or more octaves a second, got -1"):
        CountingConfig(max_pitch_glide_oct_s=-1)
