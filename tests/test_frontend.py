import numpy as np
import pytest
from conftest import sine

from data_pipeline.features.frontend import (
    SEED_FRONTEND,
    FrontendConfig,
    clip_features,
    pad_or_crop,
    spectrogram,
)
from data_pipeline.features.windows import hop_samples, iter_windows, n_windows, window_starts


def test_pad_or_crop_pads_with_zeros_and_crops_at_offset():
    x = np.arange(10, dtype=np.float32)
    np.testing.assert_array_equal(pad_or_crop(x, 4), [0, 1, 2, 3])
    np.testing.assert_array_equal(pad_or_crop(x, 4, offset=8), [8, 9, 0, 0])
    np.testing.assert_array_equal(pad_or_crop(x[:2], 5), [0, 1, 0, 0, 0])


def test_default_spectrogram_shape_band_and_peak():
    fe = FrontendConfig()
    assert fe.input_shape == (119, 81)  # 1 + (48000 - 512) // 400 frames; 0-2500 Hz at 31.25 Hz per bin
    spec = spectrogram(sine(1000, 3.0, 16000), fe).numpy()
    assert spec.shape == fe.input_shape
    assert np.argmax(spec.mean(axis=0)) == 32  # 1000 Hz / 31.25 Hz


def test_band_edges_and_seed_shape():
    fe = FrontendConfig(min_freq_hz=500, max_freq_hz=1000)
    lo, hi = fe.bin_range
    assert (lo, hi) == (16, 33)
    assert SEED_FRONTEND.input_shape == (1678, 257)  # 1 + (54000 - 320) // 32 frames, 512-point FFT


def test_config_round_trips_and_rejects_nonsense():
    fe = FrontendConfig(clip_s=2.0, scale="magnitude")
    assert FrontendConfig.from_dict(fe.to_dict()) == fe
    with pytest.raises(ValueError, match="Nyquist"):
        FrontendConfig(max_freq_hz=9000)
    with pytest.raises(ValueError, match="unknown front-end settings"):
        FrontendConfig.from_dict({**fe.to_dict(), "n_mel": 64})


def test_mel_bands_cover_the_band_and_find_the_tone():
    fe = FrontendConfig(mel_bins=40, min_freq_hz=100, max_freq_hz=4000)
    assert fe.input_shape == (119, 40) and fe.band_hz == (100, 4000)
    low, high = (spectrogram(sine(f, 3.0, 16000), fe).numpy().mean(axis=0).argmax() for f in (300, 3000))
    assert 0 < low < high < 39  # mel order kept, both tones inside the band


def test_a_mel_setting_first_used_inside_a_traced_function_still_works_eagerly():
    # The mel matrix is made once per setting and kept: made while tracing, it must not be a graph tensor.
    import tensorflow as tf

    fe = FrontendConfig(mel_bins=23, min_freq_hz=150, max_freq_hz=3500)  # a setting no other test uses
    audio = sine(1000, 3.0, 16000)
    traced = tf.function(lambda x: spectrogram(x, fe))(audio).numpy()
    np.testing.assert_allclose(spectrogram(audio, fe).numpy(), traced, atol=1e-5)


def test_median_subtraction_removes_a_steady_tone_and_keeps_a_click():
    fe = FrontendConfig(median_subtraction=True)
    audio = sine(1000, 3.0, 16000)
    audio[24000:24400] += 0.5 * np.random.default_rng(0).standard_normal(400).astype(np.float32)  # 25 ms click at 1.5 s
    plain = spectrogram(audio, fe).numpy()
    cleaned = clip_features(audio, fe).numpy()
    tone_bin, click_frame = 32, 24000 // fe.frame_step
    assert plain[:, tone_bin].mean() > 0  # the tone is loud before...
    assert abs(np.median(cleaned[:, tone_bin])) < 1e-6  # ...and at the median after
    assert cleaned[click_frame, 60] > 5  # the click stands out above its frequency's median (log units)


@pytest.mark.parametrize("seconds, fe", [(2.0, FrontendConfig()), (3.0, FrontendConfig()), (10.37, FrontendConfig()),
                                         (10.37, FrontendConfig(mel_bins=32, median_subtraction=True)),
                                         (10.37, FrontendConfig(pulse_frame_length=128))])
def test_windows_from_blocks_equal_each_window_cut_as_a_clip(seconds, fe):
    rng = np.random.default_rng(0)
    audio = rng.standard_normal(int(seconds * fe.sample_rate_hz)).astype(np.float32)
    hop_s = 0.5
    hop = hop_samples(fe, hop_s)
    blocks = np.array_split(audio, max(1, len(audio) // 27000))  # uneven blocks, none aligned to windows
    batches = list(iter_windows(iter(blocks), fe, hop_s, max_windows_per_batch=4))
    # Blocks shorter than a batch's 4.5 s still make full batches, all but the grid's last and the end window.
    assert [len(b.starts_s) for b in batches[:-2]] == [4] * (len(batches) - 2)
    starts = np.concatenate([b.starts_s for b in batches])
    windows = np.concatenate([b.spectrograms.numpy() for b in batches])
    expected_starts = window_starts(len(audio), fe.clip_samples, hop)
    assert len(windows) == n_windows(len(audio), fe.clip_samples, hop) == len(expected_starts)
    np.testing.assert_allclose(starts, expected_starts / fe.sample_rate_hz)
    for k, start in enumerate(expected_starts):
        expected = clip_features(pad_or_crop(audio, fe.clip_samples, int(start)), fe).numpy()
        np.testing.assert_allclose(windows[k], expected, atol=1e-4)
    assert starts[-1] + fe.clip_s >= seconds - 1e-6  # the whole recording is covered...
    if seconds > fe.clip_s:  # ...and no window reaches past its end (no zero padding)
        assert starts[-1] * fe.sample_rate_hz + fe.clip_samples == len(audio)


def test_window_starts_keep_the_grid_and_end_at_the_end():
    np.testing.assert_array_equal(window_starts(10, 4, 2), [0, 2, 4, 6])  # the grid reaches the end itself
    np.testing.assert_array_equal(window_starts(11, 4, 2), [0, 2, 4, 6, 7])  # one more, ending at sample 11
    np.testing.assert_array_equal(window_starts(3, 4, 2), [0])  # shorter than a window: one, padded


def test_hop_must_be_whole_frames():
    with pytest.raises(ValueError, match="multiple of the frame step"):
        hop_samples(FrontendConfig(), 0.33)


def test_the_pulse_panel_sees_pulses_the_spectrogram_averages_away():
    fe = FrontendConfig(pulse_frame_length=128)
    assert fe.input_shape == (119, 2 * 81) and fe.panels == 2
    t = np.arange(3 * 16000) / 16000
    tone = np.sin(2 * np.pi * 1000 * t).astype(np.float32)
    noise = np.random.default_rng(0).standard_normal(len(t)).astype(np.float32)
    trill = tone * (np.sin(2 * np.pi * 60 * t) > 0) + 0.01 * noise  # 60 pulses a second: steady to 32 ms frames
    bin_1k = 32  # 1000 Hz / 31.25 Hz
    spec, panel = np.split(clip_features(np.stack([tone, trill, noise, 0.01 * trill, 0 * tone]), fe).numpy(), 2, axis=-1)
    np.testing.assert_allclose(spec, clip_features(np.stack([tone, trill, noise, 0.01 * trill, 0 * tone]),
                                                   FrontendConfig()).numpy(), atol=1e-5)  # the spectrogram as before
    frame_to_frame = spec[1, :, bin_1k].std()
    assert frame_to_frame < 0.25  # the default frames barely see the trill's pulses...
    assert panel[1, :, bin_1k].mean() > 1.5  # ...the pulse panel does (noise alone: about 0.6)
    assert panel[0, :, bin_1k].mean() < 0.05  # a steady tone holds its level
    assert 0.45 < panel[2].mean() < 0.7  # noise: a random level in each sub-frame
    np.testing.assert_allclose(panel[3], panel[1], atol=0.1)  # levels are logs: a gain changes little (log_floor aside)
    np.testing.assert_allclose(panel[4], 0.0, atol=1e-5)  # digital silence


def test_the_pulse_panel_equals_its_definition_through_the_full_stft():
    """pulse_panel takes a DFT of just the sub-frame bins it reads; the same as every bin's STFT, then the nearest."""
    import tensorflow as tf

    from data_pipeline.features.frontend import PULSE_SUBFRAMES, pulse_panel

    x = np.random.default_rng(1).standard_normal((2, 16000)).astype(np.float32) * np.linspace(0, 1, 16000, dtype=np.float32)
    for fe in (FrontendConfig(pulse_frame_length=128), FrontendConfig(pulse_frame_length=64, min_freq_hz=300.0)):
        sub = tf.math.log(tf.abs(tf.signal.stft(x, fe.pulse_frame_length, fe.frame_step // PULSE_SUBFRAMES,
                                                 fe.pulse_frame_length)) + fe.log_floor).numpy()
        frames = fe.n_frames(x.shape[-1])
        spread = sub[:, : frames * PULSE_SUBFRAMES].reshape(2, frames, PULSE_SUBFRAMES, -1).std(axis=2)
        lo, hi = fe.bin_range
        nearest = np.minimum(np.round(np.arange(lo, hi) * fe.pulse_frame_length / fe.fft_length).astype(int),
                             fe.pulse_frame_length // 2)
        np.testing.assert_allclose(pulse_panel(x, fe).numpy(), spread[..., nearest], atol=2e-4)


def test_the_pulse_panel_rejects_settings_it_cannot_follow():
    for bad in (dict(mel_bins=32), dict(median_subtraction=True), dict(frame_step=405), dict(pulse_frame_length=256)):
        with pytest.raises(ValueError, match="pulse_frame_length"):
            FrontendConfig(**{"pulse_frame_length": 128, **bad})


def test_augmentation_and_a_pulse_panel_do_not_mix(tmp_path):
    import pandas as pd

    from data_pipeline.features.augment import AugmentConfig
    from model.learning.training import TrainConfig, train

    with pytest.raises(ValueError, match="pulse panel"):  # background mixing adds spectrograms, not pulse spreads
        train(pd.DataFrame(), ["no_call", "call"], tmp_path / "run", TrainConfig(augment=AugmentConfig()),
              frontend=FrontendConfig(pulse_frame_length=128))
    assert not (tmp_path / "run").exists()
