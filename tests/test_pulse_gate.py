"""The pulse gate: a trill is not a call (data_pipeline.features.pulsing, CountingConfig.max_pulse_spread_db)."""

import numpy as np
import pandas as pd
from conftest import sine

SR = 16000


def harmonic_stack(seconds, f0=250.0, rate=SR):
    """Harmonics of f0 from 600 to 1800 Hz holding their level, faint noise under. Harmonics closer than the
    8 ms sub-frames' 125 Hz bins beat inside them and measure as pulsing (a steady stack on 150 Hz: 5.7 dB, on
    100 Hz: 15.5, as a pulse train of 100 a second is), though Capuchinbird calls on 100-180 Hz measured 2.5-4.4."""
    t = np.arange(int(seconds * rate)) / rate
    stack = sum(np.sin(2 * np.pi * k * f0 * t + k) for k in range(int(600 // f0), int(1800 // f0) + 1))
    noise = np.random.default_rng(0).normal(0, 0.002, len(t))
    return (0.05 * stack + noise).astype(np.float32)


def trill(seconds, pulses_per_s=60.0, rate=SR):
    """A frog-like trill: a 1 kHz tone switched on and off `pulses_per_s` times a second."""
    t = np.arange(int(seconds * rate)) / rate
    return (sine(1000.0, seconds, rate) * (np.sin(2 * np.pi * pulses_per_s * t) > 0)).astype(np.float32)


def measuring():
    from data_pipeline.features.frontend import FrontendConfig
    from data_pipeline.features.pulsing import pulse_frontend

    return pulse_frontend(FrontendConfig())


def test_a_trill_pulses_and_a_harmonic_stack_or_silence_does_not():
    from data_pipeline.features.pulsing import stretch_pulse_spread_db

    m = measuring()
    stack, fast, slow = (stretch_pulse_spread_db(x, m) for x in (harmonic_stack(4), trill(4, 60), trill(4, 25)))
    silence = stretch_pulse_spread_db(np.zeros(4 * SR, np.float32), m)
    assert stack < 1.0 and silence < 0.1
    assert fast > 15.0 and slow > 15.0  # far above the gate's 6 dB, at pulse rates the front end's frames blur


def test_front_ends_that_cannot_show_pulsing_measure_nothing():
    from data_pipeline.features.frontend import FrontendConfig
    from data_pipeline.features.pulsing import pulse_frontend
    from model.learning.presets import get_preset

    assert pulse_frontend(get_preset("glass_break").frontend) is None  # mel bands
    assert pulse_frontend(get_preset("whale").frontend) is None  # 50-250 Hz, median subtraction
    assert pulse_frontend(FrontendConfig(max_freq_hz=300.0)) is None  # no bin in 400-2400 Hz
    assert measuring().pulse_frame_length == 128  # 8 ms at 16 kHz


def test_windows_are_measured_around_their_centres_where_they_score_high():
    from data_pipeline.features.pulsing import pulse_spread_db, window_pulse_spreads

    audio = np.concatenate([harmonic_stack(3), trill(3)])
    starts = np.arange(0, 3 * SR + 1, SR // 2)  # 3 s windows every 0.5 s
    scores = np.array([0.9, 0.1, 0.19, 0.2, 0.5, 0.3, 0.95])
    spreads = window_pulse_spreads(audio, starts, 3 * SR, scores, measuring())
    assert np.isnan(spreads[[1, 2]]).all() and np.isfinite(spreads[[0, 3, 4, 5, 6]]).all()
    centres = np.stack([audio[s + SR: s + 2 * SR] for s in starts[[0, 3, 6]]])  # the middle second of each window
    np.testing.assert_allclose(spreads[[0, 3, 6]], pulse_spread_db(centres, measuring()), rtol=1e-4)
    assert spreads[0] < 1.0 < 15.0 < spreads[6]  # the stack's centre, then the trill's
    assert np.isnan(window_pulse_spreads(audio, starts, 3 * SR, scores, None)).all()  # nothing to measure with


def test_a_call_that_pulses_more_than_the_gate_is_dropped_and_the_others_kept():
    from model.detection.events import CountingConfig, merge_windows

    starts = np.arange(40) * 0.25
    scores = np.zeros(40)
    scores[4:16] = scores[24:36] = 0.9  # two calls of 3 s
    spreads = np.full(40, np.nan)
    spreads[4:16], spreads[24:36] = 3.5, 9.0
    spreads[5] = 30.0  # one window pulsing (a click over the call): the median decides, not one window

    def calls(spreads, **settings):
        found = merge_windows(starts, scores, 3.0, CountingConfig(min_call_s=1.0, **settings), 12.0, spreads)
        return found["start"].round(3).tolist()

    assert calls(spreads) == [2.375]  # the second call pulses (9 dB) and is dropped
    assert calls(spreads, max_pulse_spread_db=0.0) == [2.375, 7.375]  # 0: no gate
    assert calls(spreads, max_pulse_spread_db=9.0) == [2.375, 7.375]  # at the gate: kept
    assert calls(None) == [2.375, 7.375]  # scores without spreads (saved before the gate)
    assert calls(np.full(40, np.nan)) == [2.375, 7.375]  # nothing measured: nothing dropped


def test_training_raises_the_gate_above_the_most_pulsing_call_it_learnt_from(tmp_path):
    import soundfile as sf

    from data_pipeline.features.frontend import FrontendConfig
    from model.detection.events import PULSE_MARGIN_DB, CountingConfig
    from model.learning.training import _most_pulsing_call_db

    quiet = np.zeros(SR, np.float32)
    sf.write(tmp_path / "moo.wav", np.concatenate([quiet, harmonic_stack(4), quiet]), SR)
    sf.write(tmp_path / "frog.wav", np.concatenate([quiet, trill(4), quiet]), SR)
    sf.write(tmp_path / "clip.wav", trill(3, 25), SR)
    labels = pd.DataFrame({"recording": ["moo.wav", "frog.wav"], "start": [1.0, 1.0], "end": [5.0, 5.0],
                           "confidence": ["sure", "sure"]})
    row = lambda name, label, split: (str(tmp_path / name), 0.0, label, name, split)  # noqa: E731
    table = pd.DataFrame([row("moo.wav", "call", "train"), row("frog.wav", "call", "test"), row("clip.wav", "call", "test")],
                         columns=["file", "start", "label", "group", "split"])
    fe = FrontendConfig()
    moo = _most_pulsing_call_db(table, labels, "call", fe)
    assert moo < 1.0  # the frog's call is in a test recording and the clip a test clip: neither is looked at
    assert CountingConfig().for_labelled_calls(None, moo).max_pulse_spread_db == 6.0  # never lowered
    table["split"] = "train"
    most = _most_pulsing_call_db(table, labels, "call", fe)
    assert most > 15.0  # a species that trills keeps its calls
    assert CountingConfig().for_labelled_calls(None, most).max_pulse_spread_db == round(most + PULSE_MARGIN_DB, 2)
    assert CountingConfig(max_pulse_spread_db=0.0).for_labelled_calls(None, most).max_pulse_spread_db == 0.0
    assert CountingConfig().for_labelled_calls(None, float("nan")).max_pulse_spread_db == 6.0
    table = table[table["file"].str.endswith("clip.wav")]  # a folder of call clips, no labels: each clip measured
    assert _most_pulsing_call_db(table, None, "call", fe) > 15.0
    assert _most_pulsing_call_db(table.assign(label="other"), None, "call", fe) is None


def test_counting_measures_each_window_scored_high_and_resumes_with_the_measures(tmp_path, untrained_model):
    """The gates' measures (pulse spread, harmonicity, pitch glide): block by block as over the whole recording, kept
    in the count's parts, and a part saved before a measure existed is scored again."""
    import soundfile as sf

    from data_pipeline.audio.decoding import decode_audio
    from data_pipeline.features.harmonicity import window_stack
    from data_pipeline.features.pulsing import MEASURED_FROM_SCORE, pulse_frontend, window_pulse_spreads
    from model.detection.detector import load_detector
    from model.detection.score_parts import count_resumably, load_part, part_path, scoring_fingerprint

    path = tmp_path / "r.wav"
    sf.write(path, np.concatenate([harmonic_stack(5), trill(5), np.zeros(SR, np.float32), harmonic_stack(4)]), SR)
    detector = load_detector(untrained_model)
    result, _ = count_resumably(detector, [path], tmp_path / "parts", progress=False)
    rec = result.scores[0]
    high = rec.scores >= MEASURED_FROM_SCORE
    assert high.any() and np.isfinite(rec.pulse_spreads[high]).all() and np.isnan(rec.pulse_spreads[~high]).all()
    assert np.isfinite(rec.harmonicities[high]).any() and np.isnan(rec.harmonicities[~high]).all()
    assert np.isfinite(rec.pitch_glides[high]).any() and np.isnan(rec.pitch_glides[~high]).all()
    fe = detector.frontend
    starts = np.round(rec.starts_s * fe.sample_rate_hz).astype(int)
    audio = decode_audio(path, fe.sample_rate_hz)
    expected = window_pulse_spreads(audio, starts, fe.clip_samples, rec.scores, pulse_frontend(fe))
    np.testing.assert_allclose(rec.pulse_spreads, expected, rtol=1e-4, atol=1e-4)  # block by block = all at once
    harmonicities, glides = window_stack(audio, starts, fe.clip_samples, rec.scores, fe.sample_rate_hz)
    np.testing.assert_allclose(rec.harmonicities, harmonicities, rtol=1e-5)
    np.testing.assert_allclose(rec.pitch_glides, glides, rtol=1e-5, atol=1e-6)
    fingerprint = scoring_fingerprint(detector, detector.counting.hop_s)
    saved = load_part(tmp_path / "parts", path, fingerprint)
    np.testing.assert_array_equal(saved.pulse_spreads, rec.pulse_spreads)
    np.testing.assert_array_equal(saved.harmonicities, rec.harmonicities)
    np.testing.assert_array_equal(saved.pitch_glides, rec.pitch_glides)
    with np.load(part_path(tmp_path / "parts", path)) as part:  # a part saved before the pitch-glide gate
        older = {k: part[k] for k in part.files if k != "pitch_glides"}
    np.savez(part_path(tmp_path / "parts", path), **older)
    assert load_part(tmp_path / "parts", path, fingerprint) is None
