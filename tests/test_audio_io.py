import numpy as np
import pytest
from conftest import SHARED, dominant_hz, sine

from data_pipeline.audio.decoding import AudioDecodeError, decode_audio, require_decoder, stream_audio

FORMATS = ["wav", "flac", "ogg", "mp3", "aiff"]


@pytest.mark.parametrize("ext", FORMATS)
def test_each_format_decodes_to_mono_16k_with_the_right_pitch_and_length(write_audio, ext):
    stereo = np.stack([sine(440, 2.0, 22050), sine(440, 2.0, 22050)], axis=1)
    path = write_audio(f"tone.{ext}", stereo, 22050)
    audio = decode_audio(path, 16000)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(len(audio) - 32000) <= 0.01 * 32000  # MP3 adds up to a frame of padding
    assert dominant_hz(audio, 16000) == pytest.approx(440, abs=2)


@pytest.mark.parametrize("rate", [8000, 11025, 44100, 48000, 96000])
def test_odd_rates_resample_to_exact_length_and_keep_pitch(write_audio, rate):
    tone = sine(1000, 1.5, rate)
    audio = decode_audio(write_audio(f"tone{rate}.wav", tone, rate), 16000)
    assert len(audio) == round(len(tone) * 16000 / rate)
    assert dominant_hz(audio, 16000) == pytest.approx(1000, abs=2)


def test_stereo_channels_are_averaged(write_audio):
    left, right = sine(300, 1.0, 16000, 0.6), sine(700, 1.0, 16000, 0.2)
    audio = decode_audio(write_audio("st.wav", np.stack([left, right], 1), 16000, subtype="FLOAT"), 16000)
    np.testing.assert_allclose(audio, (left + right) / 2, atol=1e-6)


@pytest.mark.parametrize("channels", range(1, 10))
def test_the_down_mix_is_the_channel_mean(channels):
    from data_pipeline.audio.decoding import _mono

    block = np.random.default_rng(channels).standard_normal((4096, channels)).astype(np.float32)
    mixed, mean = _mono(block), block.mean(axis=1, dtype=np.float32)
    assert mixed.dtype == np.float32 and mixed.shape == (4096,)
    if channels <= 7:  # the counts of the README's (stereo) recordings depend on these very bits
        assert np.array_equal(mixed, mean)
    else:  # numpy adds eight or more in another order
        np.testing.assert_allclose(mixed, mean, rtol=0, atol=1e-6)
    assert _mono(block[:0]).shape == (0,)


def _tfio_loads() -> bool:
    try:
        require_decoder("tfio")
        return True
    except ValueError:
        return False


needs_tfio = [pytest.mark.tfio, pytest.mark.skipif(not _tfio_loads(), reason="tensorflow-io not installed (make test-tfio)")]


@pytest.mark.parametrize("ext,rate", [pytest.param(*case, marks=needs_tfio) for case in
                                      [("wav", 48000), ("flac", 44100), ("mp3", 48000), ("ogg", 22050), ("wav", 8000)]])
def test_soundfile_and_tensorflow_io_decoders_agree(write_audio, ext, rate):
    rng = np.random.default_rng(1)
    noise = np.clip(0.2 * rng.standard_normal((int(1.2 * rate), 2)), -1, 1).astype(np.float32)
    # Low-pass content so both resamplers pass it unchanged.
    kernel = np.hanning(31) / np.hanning(31).sum()
    noise = np.stack([np.convolve(noise[:, c], kernel, "same") for c in range(2)], 1)
    path = write_audio(f"n.{ext}", noise, rate)
    a = decode_audio(path, 16000, backend="soundfile")
    b = decode_audio(path, 16000, backend="tfio")
    assert len(a) == len(b)
    core = slice(200, len(a) - 200)
    assert np.corrcoef(a[core], b[core])[0, 1] > 0.99
    assert np.abs(a[core] - b[core]).max() < 0.05 * np.abs(a).max()


def test_streamed_blocks_join_into_the_one_shot_resample(write_audio):
    import soxr

    x = sine(523, 7.3, 44100) + 0.1 * np.random.default_rng(0).standard_normal(int(7.3 * 44100)).astype(np.float32)
    path = write_audio("long.wav", x, 44100, subtype="FLOAT")
    blocks = list(stream_audio(path, 16000, block_s=1.1))
    assert len(blocks) >= 6
    joined = np.concatenate(blocks)
    reference = soxr.resample(x, 44100, 16000)
    assert len(joined) == len(reference)
    np.testing.assert_allclose(joined, reference, atol=2e-3)


def test_an_mp3_streamed_in_blocks_equals_it_read_whole(write_audio):
    # python-soundfile seeks after every read; on MP3 that restarted mpg123 without its bit reservoir, and
    # every block boundary of a low-rate MP3 clicked (up to 0.31 in a robustness recording; here 0.72, 8,091 samples off).
    import soundfile as sf

    x = sine(700, 8.0, 22050, 0.2) + 0.2 * np.random.default_rng(3).standard_normal(8 * 22050).astype(np.float32)
    path = write_audio("cheap.mp3", x, 22050, format="MP3", compression_level=0.9)
    whole, _ = sf.read(path, dtype="float32")
    streamed = np.concatenate(list(stream_audio(path, 22050, block_s=0.7)))
    assert len(streamed) == len(whole)
    np.testing.assert_allclose(streamed, whole, atol=1e-6)


def test_reading_on_falls_back_to_soundfiles_read_where_its_internals_differ(write_audio):
    import soundfile as sf

    from data_pipeline.audio.decoding import _read_on

    class WithoutInternals:  # a SoundFile as a python-soundfile without `_file` would hand it over
        def __init__(self, f):
            self.read, self.channels = f.read, f.channels

    path = write_audio("two.wav", np.stack([sine(440, 1.0, 8000), sine(660, 1.0, 8000)], 1), 8000)
    with sf.SoundFile(path) as direct, sf.SoundFile(path) as plain:
        for frames in (3000, 3000, 3000):
            np.testing.assert_array_equal(_read_on(direct, frames), _read_on(WithoutInternals(plain), frames))
        assert len(_read_on(direct, 3000)) == 0


@pytest.mark.parametrize("backend", ["soundfile", pytest.param("tfio", marks=needs_tfio)])
def test_bad_inputs_raise_one_line_errors_naming_the_file(tmp_path, write_audio, backend):
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    text = tmp_path / "notes.mp3"
    text.write_text("these are field notes, not audio\n" * 20)
    good = write_audio("cut.wav", sine(440, 2.0, 16000), 16000)
    truncated = tmp_path / "truncated.wav"
    truncated.write_bytes(good.read_bytes()[:40])  # header only, no samples
    cases = {tmp_path / "missing.wav": "no such file", empty: "empty file", text: "not an audio file (or a format libsndfile cannot read)",
             truncated: "No 'data' chunk"}
    for path, reason in cases.items():
        with pytest.raises(AudioDecodeError) as err:
            decode_audio(path, 16000, backend=backend)
        message = str(err.value)
        assert message.startswith(str(path)) and "\n" not in message
        if backend == "soundfile":
            assert reason in message


@pytest.mark.skipif(_tfio_loads(), reason="tensorflow-io is installed here")
def test_tfio_decoder_where_it_cannot_load_says_how_to_install_it_in_one_line(write_audio):
    path = write_audio("tone.wav", sine(440, 1.0, 16000), 16000)
    with pytest.raises(ValueError) as err:
        decode_audio(path, 16000, backend="tfio")
    message = str(err.value)
    assert "tensorflow-io" in message and "requirements-tfio.txt" in message and "\n" not in message


@pytest.mark.skipif(not (SHARED / "forest" / "recording_00.mp3").exists(), reason="shared data not present")
def test_real_forest_recording_decodes_to_three_minutes_at_16k():
    audio = decode_audio(SHARED / "forest" / "recording_00.mp3", 16000)
    assert len(audio) / 16000 == pytest.approx(180.0, abs=0.1)
    assert 0.001 < np.sqrt(np.mean(audio**2)) < 0.5
    assert np.isfinite(audio).all()
