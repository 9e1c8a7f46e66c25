import numpy as np
import pandas as pd
import pytest
from conftest import dominant_hz, sine

from data_pipeline.features.frontend import FrontendConfig, spectrogram
from data_pipeline.labels.class_folders import (
    KAGGLE_NEGATIVE_DIR,
    KAGGLE_POSITIVE_DIR,
    clips_from_folders,
    source_group,
)
from data_pipeline.training_data.clips import group_split, load_clips, load_clips_and_waveforms


def test_source_group_strips_the_clip_number():
    assert source_group("data/x/XC114131-3.wav") == "XC114131"
    assert source_group("Crickets-chirping-7.wav") == "Crickets-chirping"
    assert source_group("afternoon-birds-song-in-forest-0.wav") == "afternoon-birds-song-in-forest"
    assert source_group("lonely.wav") == "lonely"


def test_kaggle_layout_gives_binary_classes_negative_first(tmp_path, write_audio):
    for folder, names in [(KAGGLE_POSITIVE_DIR, ["XC1-0.wav", "XC1-1.wav"]), (KAGGLE_NEGATIVE_DIR, ["Rain-0.wav"])]:
        (tmp_path / folder).mkdir()
        for n in names:
            write_audio(f"{folder}/{n}", sine(500, 0.5, 16000), 16000)
    (tmp_path / "Forest Recordings").mkdir()
    table, classes = clips_from_folders(tmp_path)
    assert classes == ["not_capuchinbird", "capuchinbird"]
    assert sorted(table["label"]) == ["capuchinbird", "capuchinbird", "not_capuchinbird"]
    assert set(table["group"]) == {"XC1", "Rain"}


def test_missing_data_folder_says_what_layout_was_expected(tmp_path):
    with pytest.raises(FileNotFoundError, match=KAGGLE_POSITIVE_DIR):
        clips_from_folders(tmp_path / "nowhere")


def _table(n_groups=40, clips=5, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for g in range(n_groups):
        label = "call" if g % 3 == 0 else "other"
        rows += [(f"{g}-{k}.wav", 0.0, label, f"g{g}") for k in range(int(rng.integers(1, clips + 1)))]
    return pd.DataFrame(rows, columns=["file", "start", "label", "group"])


def test_group_split_never_puts_one_group_on_two_sides_and_is_repeatable():
    table = _table()
    split = group_split(table, seed=3)
    assert (table.assign(split=split).groupby("group")["split"].nunique() == 1).all()
    pd.testing.assert_series_equal(split, group_split(table, seed=3))
    assert not split.equals(group_split(table, seed=4))
    for name in ("train", "val", "test"):
        part = table[split == name]
        assert set(part["label"]) == {"call", "other"}, name
    assert 0.55 < (split == "train").mean() < 0.85


def _recordings(calls_per_recording: list[int], windows: int = 60) -> pd.DataFrame:
    """Windows cut from labelled recordings: each recording one group, mostly 'other', a few 'call'."""
    rows = []
    for r, calls in enumerate(calls_per_recording):
        rows += [(f"rec{r}.wav", float(k), "call" if k < calls else "other", f"rec{r}") for k in range(windows)]
    return pd.DataFrame(rows, columns=["file", "start", "label", "group"])


@pytest.mark.parametrize("seed", range(5))
def test_a_few_recordings_with_calls_are_dealt_by_their_calls_not_their_majority(seed):
    # Every recording is mostly 'other' windows. Dealt by majority, the one recording with calls went
    # to validation one time in five and left training without a call (seen: 3 labelled recordings).
    table = _recordings([4, 0, 0])
    split = group_split(table, (0.8, 0.2, 0.0), seed)
    assert split[table["group"] == "rec0"].eq("train").all()
    table = _recordings([2, 0, 0])  # two recordings without calls: one trains, one validates
    assert sorted(group_split(table, (0.8, 0.2, 0.0), seed).unique()) == ["train", "val"]
    table = _recordings([4, 3, 5, 0, 0, 0])
    split = group_split(table, (0.8, 0.2, 0.0), seed)
    for name in ("train", "val"):
        assert set(table.loc[split == name, "label"]) == {"call", "other"}, name


def test_a_bad_file_drops_only_its_clips(tmp_path, write_audio):
    good = write_audio("good.wav", sine(700, 5.0, 16000), 16000)
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    fe = FrontendConfig(clip_s=1.0)
    table = pd.DataFrame([(str(good), 0.0, "a", "g"), (str(bad), 0.0, "a", "b"), (str(good), 4.5, "b", "g")],
                         columns=["file", "start", "label", "group"])
    waves, kept, failures = load_clips(table, fe, features=False, progress=False)
    assert kept.tolist() == [True, False, True]
    assert len(failures) == 1 and failures[0].startswith(str(bad))
    assert np.abs(waves[2, 8000:]).max() == 0  # the clip at 4.5 s runs 0.5 s past the end: zero-padded
    assert np.abs(waves[0]).max() > 0.4
    features, kept_too, _ = load_clips(table, fe, features=True, progress=False)
    assert features.shape == (3, *fe.input_shape) and (kept_too == kept).all()
    np.testing.assert_allclose(features[2], spectrogram(waves[2], fe).numpy(), atol=1e-5)


def test_the_waveforms_asked_for_come_from_the_same_decoding_as_the_spectrograms(tmp_path, write_audio, decoded_paths):
    # Training mixes generated sounds into a sample of its own negative clips: taken from the one decoding of
    # each file, not a second (each recording was decoded twice before).
    fe = FrontendConfig(clip_s=1.0)
    a, b = write_audio("a.wav", sine(500, 3.0, 16000), 16000), write_audio("b.wav", sine(900, 3.0, 16000), 16000)
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    table = pd.DataFrame([(str(a), 0.0), (str(b), 1.0), (str(bad), 0.0), (str(a), 2.0), (str(b), 0.0)],
                         columns=["file", "start"]).assign(label="x", group="g")
    waves, _, _ = load_clips(table, fe, features=False, progress=False)
    decoded_paths.clear()
    features, kept, failures, chosen = load_clips_and_waveforms(table, fe, [3, 2, 1], progress=False)
    assert sorted(p.name for p in decoded_paths) == ["a.wav", "b.wav", "bad.wav"]  # each file once
    assert kept.tolist() == [True, True, False, True, True] and len(failures) == 1
    assert sorted(chosen) == [1, 3]  # the row of the file that did not decode has none
    for row in (1, 3):
        np.testing.assert_array_equal(chosen[row], waves[row])
    expected, _, _ = load_clips(table, fe, features=True, progress=False)
    np.testing.assert_array_equal(features, expected)


def test_files_taken_in_groups_keep_each_clip_in_its_row(tmp_path, write_audio, monkeypatch):
    # Groups of at most 3 clips: single-clip files share a call, a file of 4 clips has one to itself,
    # and the rows of a file need not be consecutive in the table.
    import data_pipeline.training_data.clips as clips_module

    monkeypatch.setattr(clips_module, "FEATURE_BATCH_CLIPS", 3)
    fe = FrontendConfig(clip_s=1.0, mel_bins=16, max_freq_hz=4000)
    paths = [write_audio(f"f{i}.wav", sine(300 + 200 * i, 2.0 if i == 2 else 1.0, 16000), 16000) for i in range(5)]
    rows = [(paths[0], 0.0), (paths[1], 0.0), (paths[2], 0.0), (paths[2], 0.5), (paths[3], 0.0), (paths[2], 1.0),
            (paths[2], 1.5), (paths[4], 0.0)]
    table = pd.DataFrame([(str(p), s, "a", p.stem) for p, s in rows], columns=["file", "start", "label", "group"])
    waves, _, _ = load_clips(table, fe, features=False, progress=False)
    features, kept, failures = load_clips(table, fe, features=True, progress=False)
    assert kept.all() and not failures
    for i, (path, _) in enumerate(rows):
        assert dominant_hz(waves[i], 16000) == pytest.approx(300 + 200 * int(path.stem[1:]), abs=20)
        np.testing.assert_allclose(features[i], spectrogram(waves[i], fe).numpy(), atol=1e-5)
    assert clips_module._file_groups([("a", [0]), ("b", [1, 2]), ("c", [3, 4, 5, 6]), ("d", [7])], 3) == [
        [("a", [0]), ("b", [1, 2])], [("c", [3, 4, 5, 6])], [("d", [7])]]
