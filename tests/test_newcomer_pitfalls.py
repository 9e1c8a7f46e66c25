"""What a new user trips over (issue "What a new user trips over"), one known answer each, no training."""

import os
import warnings

import numpy as np
import pandas as pd
import pytest

from conftest import sine
from data_pipeline.audio.decoding import AudioWarning, decode_audio, expand_audio_paths, warn_low_rates
from data_pipeline.labels.annotations import clips_from_annotations, match_recordings, read_call_labels
from model.outputs import atomic_write_csv, write_audacity_labels, write_raven_table
from model.reporting.evaluation import evaluate


def test_an_unquoted_folder_name_with_a_space_says_to_quote_it(tmp_path):
    folder = tmp_path / "Forest Recordings"
    folder.mkdir()
    with pytest.raises(FileNotFoundError, match="quote a path with spaces") as err:
        expand_audio_paths([f"{tmp_path}/Forest", "Recordings"])
    assert f'"{folder}"' in str(err.value) and "\n" not in str(err.value)
    assert expand_audio_paths([str(tmp_path / "missing.wav")]) == [tmp_path / "missing.wav"]  # reported later, as before


def test_a_misspelt_recording_in_the_labels_is_named_with_the_nearest_recording():
    labels = pd.DataFrame([("recording_4.mp3", 1.0, 4.0, "sure"), ("recording_05.mp3", 2.0, 6.0, "sure")],
                          columns=["recording", "start", "end", "confidence"])
    kept, problems = match_recordings(labels, ["a/recording_04.mp3", "a/recording_05.mp3"])
    assert kept["recording"].tolist() == ["recording_05.mp3"]
    assert problems == ["labels name 'recording_4.mp3', which is not among the 2 recordings given; "
                        "did you mean 'recording_04.mp3'?"]


def test_training_refuses_labels_naming_a_missing_recording_unless_told(write_audio, capsys):
    rec = write_audio("recording_04.wav", sine(300, 20.0, 8000), 8000)
    labels = pd.DataFrame([("recording_4.wav", 5.0, 9.0, "sure"), ("recording_04.wav", 12.0, 16.0, "sure")],
                          columns=["recording", "start", "end", "confidence"])
    with pytest.raises(ValueError, match="did you mean 'recording_04.wav'.*--allow-missing-recordings"):
        clips_from_annotations([rec], labels, clip_s=3.0)
    clips = clips_from_annotations([rec], labels, clip_s=3.0, allow_missing=True)
    assert "recording_4.wav" in capsys.readouterr().out
    centres = clips["start"] + 1.5
    assert centres[clips["label"] == "capuchinbird"].between(12.5, 15.5).all()  # only the call that was found


def test_raven_tables_read_back_by_stem_one_by_one_or_as_a_folder(tmp_path):
    events = pd.DataFrame({"start": [10.0, 40.0], "end": [14.0, 45.0], "score": [0.9, 0.8]})
    folder = tmp_path / "submission_detections"
    write_raven_table(folder / "recording_23.Table.1.selections.txt", events, 0, 2500)
    write_raven_table(folder / "recording_24.Table.1.selections.txt", events.iloc[:0], 0, 2500)  # no call
    write_audacity_labels(folder / "recording_23.labels.txt", events)  # beside them, as count_calls.py writes them
    write_audacity_labels(folder / "recording_24.labels.txt", events.iloc[:0])
    counted = ["recording_23.mp3", "recording_24.mp3"]
    detections = events.assign(recording="recording_23.mp3")
    for source in (folder / "recording_23.Table.1.selections.txt", folder):
        labels, problems = match_recordings(read_call_labels(source), counted)
        assert problems == []
        per_rec, summary = evaluate(detections, labels, sorted(set(labels["recording"])))
        assert per_rec.set_index("recording").loc["recording_23.mp3", "tp"] == 2 and summary["fp"] == 0
    folder_labels, _ = match_recordings(read_call_labels(folder), counted)
    assert folder_labels.loc[folder_labels["recording"] == "recording_24.mp3", "confidence"].tolist() == ["none"]
    _, problems = match_recordings(read_call_labels(folder), ["recording_99.mp3"])
    assert len(problems) == 2 and all("not among the 1 recordings given" in p for p in problems)


def test_audacity_label_tracks_are_labels_and_a_folder_reads_each_recording_once(tmp_path):
    folder = tmp_path / "labels"
    folder.mkdir()
    # Two labels, the first a spectral one (its frequencies on a line of their own), as Audacity exports them.
    (folder / "site1_0500.labels.txt").write_text("1.500000\t4.250000\tCAPU\n\\\t500.0\t2500.0\n9\t12\tcall 0.93\n")
    (folder / "site1_0600.labels.txt").write_text("")  # no label: no call
    assert read_call_labels(folder / "site1_0500.labels.txt").values.tolist() == [
        ["site1_0500", 1.5, 4.25, "sure"], ["site1_0500", 9.0, 12.0, "sure"]]
    # A Raven table of the same recording beside its track (count_calls.py writes both): the table alone.
    write_raven_table(folder / "site1_0500.Table.1.selections.txt", pd.DataFrame({"start": [20.0], "end": [24.0],
                                                                                  "score": [0.9]}), 0, 2500)
    table = read_call_labels(folder).fillna(-1)
    assert table.values.tolist() == [["site1_0500", 20.0, 24.0, "sure"], ["site1_0600", -1, -1, "none"]]
    (tmp_path / "a.labels.txt").write_text("1.5\t4.25\tCAPU\n3.0\t3.0\tpoint\n")
    with pytest.raises(ValueError, match=r"a.labels.txt: row 2 ends before it starts"):  # row: the file's line
        read_call_labels(tmp_path / "a.labels.txt")
    (tmp_path / "a.labels.txt").write_text("1.5 4.25 CAPU\n")
    with pytest.raises(ValueError, match=r"a.labels.txt: line 1 is not an Audacity label"):
        read_call_labels(tmp_path / "a.labels.txt")

def test_raven_tables_use_their_begin_file_column(tmp_path):
    table = tmp_path / "anything.txt"
    table.write_text("Selection\tBegin Time (s)\tEnd Time (s)\tBegin File\tNotes\n1\t3.0\t7.5\tsite2_0600.wav\tloud\n"
                     "2\t9.0\t12.0\tD:\\season\\site2_0700.wav\t\n")
    labels = read_call_labels(table)
    assert labels[["recording", "start", "end", "confidence"]].values.tolist() == [["site2_0600.wav", 3.0, 7.5, "sure"],
                                                                                  ["site2_0700.wav", 9.0, 12.0, "sure"]]


def test_labels_written_on_windows_name_the_recordings_by_their_paths_there(tmp_path):
    labels = pd.DataFrame([("D:\\season\\site1\\rec_07.wav", 1.0, 4.0, "sure"), ("season/site1/rec_08", 2.0, 5.0, "sure")],
                          columns=["recording", "start", "end", "confidence"])
    matched, problems = match_recordings(labels, [tmp_path / "rec_07.wav", tmp_path / "rec_08.flac"])
    assert problems == [] and list(matched["recording"]) == ["rec_07.wav", "rec_08.flac"]


def test_outputs_get_the_permissions_of_an_ordinary_write(tmp_path):
    old = os.umask(0o022)
    try:
        path = atomic_write_csv(tmp_path / "submission.csv", pd.DataFrame({"a": [1]}))
    finally:
        os.umask(old)
    assert path.stat().st_mode & 0o777 == 0o644


def test_a_non_audio_file_is_called_that(tmp_path):
    from data_pipeline.audio.decoding import AudioDecodeError

    text = tmp_path / "notes.mp3"
    text.write_text("field notes\n" * 50)
    with pytest.raises(AudioDecodeError, match="notes.mp3: not an audio file \\(or a format libsndfile cannot read\\)$"):
        decode_audio(text)


def test_a_truncated_mp3_is_reported_with_the_duration_read(write_audio, tmp_path):
    tone = sine(440, 20.0, 48000)
    whole = write_audio("whole.mp3", np.stack([tone, tone], 1), 48000)
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        audio = decode_audio(cut)
        decode_audio(whole)
    messages = [str(w.message) for w in caught if issubclass(w.category, AudioWarning)]
    assert len(messages) == 1 and messages[0].startswith(f"{cut}: truncated: read ")
    read_s = float(messages[0].split("read ")[1].split(" s")[0])
    assert read_s == pytest.approx(len(audio) / 16000, abs=0.1) and 8 < read_s < 12 and "of the 20.0 s" in messages[0]


def test_recordings_too_low_in_rate_for_the_models_band_are_named_in_one_warning(write_audio, tmp_path):
    paths = [write_audio(f"heart{i}.wav", sine(100, 1.0, 2000), 2000) for i in range(5)]  # a phonocardiogram's 2 kHz
    paths += [write_audio("phone.wav", sine(440, 1.0, 8000), 8000), write_audio("forest.flac", sine(440, 1.0, 48000), 48000)]
    (tmp_path / "broken.wav").write_text("not audio")  # left to the decoding, which says what it is
    with pytest.warns(AudioWarning) as caught:
        warn_low_rates([*paths, tmp_path / "broken.wav"], 2500.0)  # the Capuchinbird front end's band: 0-2.5 kHz
    assert len(caught) == 1 and str(caught[0].message) == (
        "5 recording(s) sampled below 5000 Hz, so empty in the model's band above half their rate (it reaches "
        f"2500 Hz): their counts are unreliable: {paths[0]} (2000 Hz), {paths[1]} (2000 Hz), {paths[2]} (2000 Hz) "
        "and 2 more")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        warn_low_rates(paths[5:], 2500.0)  # 8 kHz holds the band to 4 kHz
        warn_low_rates(paths[:5], 800.0)  # the heart preset's band ends at 800 Hz


def test_tensorflow_start_up_chatter_is_dropped_as_its_log_level_asks_and_errors_pass():
    from model.cli import is_native_chatter

    preamble = b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR"
    info = b"I0000 00:00:1796167794.082865    3066 port.cc:153] oneDNN custom operations are on."
    warning = b"W0000 00:00:1796167794.082865    3066 cpu_feature_guard.cc:227] something odd"
    error = b"E0000 00:00:1796167794.082865    3066 cuda_dnn.cc:8310] could not load cuDNN"
    assert [is_native_chatter(line, 2) for line in (preamble, info, warning, error)] == [True, True, True, False]
    assert [is_native_chatter(line, 1) for line in (preamble, info, warning, error)] == [True, True, False, False]
    assert not any(is_native_chatter(line, 0) for line in (preamble, info, warning, error))
    assert is_native_chatter(b"Note: Trying to resync...", 0)  # the MP3 decoder's, at any level
    assert not is_native_chatter(b"error: recording_01.mp3: not audio", 2)
