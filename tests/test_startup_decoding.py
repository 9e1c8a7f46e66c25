"""The start-up decoder (data_pipeline.audio.startup_decoding): recordings decoded in a second process while
counting starts up come out exactly as the counting process would decode them itself, and anything unusual
is left to the counting process to decode and report in its own words."""

import os
import signal
import warnings

import numpy as np
import pytest
import soundfile as sf

from data_pipeline.audio.decoding import AudioDecodeError, AudioWarning, stream_audio
from data_pipeline.audio.startup_decoding import StartupDecoder

RATE = 16000


def recordings(folder, n=3, seconds=25.0):
    """n stereo 48 kHz noise-and-chirp files (seeded), 25 s each: three blocks of stream_audio."""
    rng = np.random.default_rng(3)
    paths = []
    for i in range(n):
        t = np.arange(int(seconds * 48000)) / 48000
        chirp = 0.3 * np.sin(2 * np.pi * (500 + 40 * i + 30 * t) * t)
        x = np.stack([chirp + 0.05 * rng.standard_normal(len(t)), 0.05 * rng.standard_normal(len(t))], axis=1)
        paths.append(folder / f"rec_{i}{'.wav' if i % 2 == 0 else '.flac'}")
        sf.write(paths[-1], x.astype(np.float32), 48000)
    return paths


def blocks_of(decoder, path):
    return [block.copy() for block in decoder.blocks(path)]


def assert_same_blocks(got, path):
    expected = list(stream_audio(path, RATE))
    assert len(got) == len(expected)
    for a, b in zip(got, expected):
        assert a.dtype == np.float32 and np.array_equal(a, b)


def finished(decoder, path):
    """Whether the second process finished `path` (False: the caller decodes it)."""
    return decoder._finished(decoder._index[path]) if path in decoder._index else False


def test_recordings_decoded_in_the_second_process_are_the_ones_decoded_here(tmp_path):
    paths = recordings(tmp_path)
    with StartupDecoder(paths, RATE) as decoder:
        assert all(finished(decoder, p) for p in paths)  # all three came from the second process
        for path in paths:
            assert_same_blocks(blocks_of(decoder, path), path)
        assert decoder._blocks == {}  # nothing held once taken
    assert decoder._process.poll() == 0


def test_only_what_fits_the_budget_is_decoded_ahead_and_the_rest_here(tmp_path):
    paths = recordings(tmp_path, n=3, seconds=25.0)
    with StartupDecoder(paths, RATE, budget_s=60.0) as decoder:  # two of the three 25 s recordings
        assert [finished(decoder, p) for p in paths] == [True, True, False]
        for path in paths:
            assert_same_blocks(blocks_of(decoder, path), path)


def test_stop_ends_the_process_after_the_recording_in_hand(tmp_path):
    paths = recordings(tmp_path, n=3)
    with StartupDecoder(paths, RATE) as decoder:
        decoder.stop()
        decoder._process.wait(timeout=30)
        done = [finished(decoder, p) for p in paths]
        assert done == sorted(done, reverse=True)  # a prefix came from the process, the rest is decoded here
        for path in paths:
            assert_same_blocks(blocks_of(decoder, path), path)


def test_unreadable_and_truncated_files_are_left_to_the_caller_and_reported_once(tmp_path):
    good = recordings(tmp_path, n=1)[0]
    sf.write(tmp_path / "full.mp3", 0.3 * np.sin(2 * np.pi * 440 * np.arange(3 * 48000) / 48000), 48000)
    data = (tmp_path / "full.mp3").read_bytes()
    (tmp_path / "cut.mp3").write_bytes(data[: len(data) // 3])
    nan = np.zeros(RATE, np.float32)
    nan[100] = np.nan
    sf.write(tmp_path / "nan.wav", nan, RATE, subtype="FLOAT")
    paths = [good, tmp_path / "cut.mp3", tmp_path / "nan.wav"]
    with StartupDecoder(paths, RATE) as decoder:
        assert [finished(decoder, p) for p in paths] == [True, False, False]
        with pytest.warns(AudioWarning, match="cut.mp3: truncated") as caught:
            blocks_of(decoder, paths[1])
        assert len([w for w in caught if issubclass(w.category, AudioWarning)]) == 1
        with pytest.raises(AudioDecodeError, match=r"nan.wav: 1 sample\(s\) are NaN"):
            blocks_of(decoder, paths[2])


def test_a_second_process_that_dies_leaves_every_unfinished_recording_to_the_caller(tmp_path):
    paths = recordings(tmp_path, n=3, seconds=60.0)
    with StartupDecoder(paths, RATE) as decoder:
        os.kill(decoder._process.pid, signal.SIGKILL)
        decoder._process.wait(timeout=30)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            for path in paths:
                assert_same_blocks(blocks_of(decoder, path), path)


def test_counting_scores_the_same_with_and_without_it(tmp_path, untrained_model):
    from model.detection.counting import count_calls
    from model.detection.detector import Detector

    detector = Detector.load(untrained_model)
    paths = recordings(tmp_path, n=3)
    plain = count_calls(detector, paths, progress=False)
    with StartupDecoder(paths, detector.frontend.sample_rate_hz) as decoder:
        ahead = count_calls(detector, paths, progress=False, startup=decoder)
    for a, b in zip(plain.scores, ahead.scores):
        assert (a.recording, a.duration_s) == (b.recording, b.duration_s)
        assert np.array_equal(a.starts_s, b.starts_s) and np.array_equal(a.scores, b.scores)
