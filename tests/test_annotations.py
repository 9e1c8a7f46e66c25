import pandas as pd
from conftest import sine

from data_pipeline.features.frontend import FrontendConfig
from data_pipeline.labels.annotations import clips_from_annotations
from data_pipeline.labels.class_folders import clips_from_folders
from data_pipeline.training_data.clips import export_clips, training_clips


def test_clips_are_labelled_by_their_centre_and_edges_and_faint_calls_are_left_out(write_audio):
    rec = write_audio("rec_01.wav", sine(300, 40.0, 8000), 8000)
    labels = pd.DataFrame([("rec_01.wav", 10.0, 15.0, "sure"), ("rec_01.wav", 16.5, 21.5, "sure"),
                           ("rec_01.wav", 30.0, 34.0, "faint"), ("other.wav", 1.0, 4.0, "sure")],
                          columns=["recording", "start", "end", "confidence"])
    clips = clips_from_annotations([rec], labels, clip_s=3.0, positive_step_s=0.5, negative_step_s=0.5, margin_s=0.5,
                                   allow_missing=True)  # other.wav is not among the recordings
    centres = clips["start"] + 1.5
    calls = centres[clips["label"] == "capuchinbird"]
    others = centres[clips["label"] == "not_capuchinbird"]
    assert set(clips["group"]) == {"rec_01"} and set(clips["file"]) == {str(rec)}
    assert calls.between(10.5, 14.5).sum() + calls.between(17.0, 21.0).sum() == len(calls) == 18
    assert 15.75 in set(others.round(2))  # the 1.5 s of quiet between two calls teaches the gap
    assert not others.between(9.5, 15.5, inclusive="neither").any()
    assert not others.between(29.5, 34.5, inclusive="neither").any()  # faint: neither call nor other
    assert not calls.between(29.0, 35.0).any()
    assert centres.min() >= 1.5 and centres.max() <= 38.5  # every clip lies inside the recording


def test_recordings_and_clip_folders_combine_and_export_to_the_kaggle_layout(tmp_path, write_audio):
    rec = write_audio("rec_02.wav", sine(600, 12.0, 16000), 16000)
    csv = tmp_path / "calls.csv"
    csv.write_text("recording,start,end,confidence\nrec_02.wav,4,9,sure\n")
    clips, classes, labels = training_clips(None, [str(rec)], str(csv), 3.0)
    assert classes == ["not_capuchinbird", "capuchinbird"] and len(labels) == 1
    counts = export_clips(clips, tmp_path / "out", FrontendConfig())
    assert counts == {"Parsed_Capuchinbird_Clips": int((clips["label"] == "capuchinbird").sum()),
                      "Parsed_Not_Capuchinbird_Clips": int((clips["label"] != "capuchinbird").sum())}
    exported, _ = clips_from_folders(tmp_path / "out")
    assert len(exported) == len(clips) and exported["group"].nunique() == 1  # one source recording
