import numpy as np
import pandas as pd
import pytest

from data_pipeline.labels.annotations import read_call_labels
from model.reporting.evaluation import evaluate, evaluate_recording, false_calls


def labels(*rows):
    return pd.DataFrame(rows, columns=["start", "end", "confidence"])


def events(*rows):
    return pd.DataFrame([(s, e, 0.9) for s, e in rows], columns=["start", "end", "score"])


def test_overlap_matching_counts_tp_fp_fn():
    truth = labels((10, 15, "sure"), (30, 35, "sure"), (60, 65, "sure"))
    found = events((11, 14), (31, 36), (45, 47))
    r = evaluate_recording(found, truth)
    assert (r["tp"], r["fp"], r["fn"], r["count_error"]) == (2, 1, 1, 0)


def test_one_detection_spanning_two_calls_matches_only_one():
    r = evaluate_recording(events((10, 40)), labels((10, 15, "sure"), (20, 25, "sure")))
    assert (r["tp"], r["fp"], r["fn"], r["count_error"]) == (1, 0, 1, -1)


def test_faint_calls_are_dont_care():
    truth = labels((10, 15, "sure"), (30, 35, "faint"))
    assert evaluate_recording(events((10, 15)), truth)["count_error"] == 0  # missed the faint one: fine
    found_both = evaluate_recording(events((10, 15), (30, 35)), truth)
    assert (found_both["fp"], found_both["count_error"]) == (0, 0)  # found it: not a false positive
    assert evaluate_recording(events((10, 15), (30, 35), (50, 52)), truth)["count_error"] == 1


def test_false_calls_are_the_events_evaluate_counts_as_false():
    truth = pd.DataFrame([("a.flac", 10, 15, "sure"), ("a.flac", 30, 35, "faint"), ("b.flac", 5, 9, "sure")],
                         columns=["recording", "start", "end", "confidence"])
    found = pd.DataFrame([("a.flac", 11, 14, 0.9), ("a.flac", 31, 34, 0.8), ("a.flac", 50, 53, 0.7),
                          ("b.flac", 5, 9, 0.9), ("b.flac", 6, 8, 0.6), ("c.flac", 1, 4, 0.95)],
                         columns=["recording", "start", "end", "score"])
    false = false_calls(found, truth)
    # a's third event matches nothing, the faint call's is not false; b's call is matched once, by the larger
    # overlap; c has no labelled call at all
    assert false[["recording", "start", "score"]].values.tolist() == [["a.flac", 50, 0.7], ["b.flac", 6, 0.6],
                                                                       ["c.flac", 1, 0.95]]
    per_rec, summary = evaluate(found, truth, ["a.flac", "b.flac", "c.flac"])
    assert summary["fp"] == len(false) == 3
    assert false_calls(found.iloc[:0], truth).empty


def test_summary_over_recordings_including_empty_ones(tmp_path):
    csv = tmp_path / "calls.csv"
    csv.write_text("recording,start,end,confidence,note\na.mp3,1,5,sure,\na.mp3,10,14,sure,\nb.mp3,,,none,\n")
    table = read_call_labels(csv)
    found = pd.DataFrame([("a.mp3", 1.5, 5, 0.9), ("b.mp3", 3, 6, 0.8)], columns=["recording", "start", "end", "score"])
    per_rec, summary = evaluate(found, table)
    assert per_rec["count_error"].tolist() == [-1, 1]
    assert summary["tp"] == 1 and summary["fp"] == 1 and summary["fn"] == 1
    assert summary["f1"] == pytest.approx(0.5) and summary["count_mae"] == 1.0


@pytest.mark.parametrize("name", ["rec_07.Table.1.selections.txt", "rec_07.selections.txt", "rec_07.txt"])
def test_raven_selection_table_is_read_for_the_recording_it_is_named_after(tmp_path, name):
    raven = tmp_path / name
    raven.write_text("Selection\tView\tChannel\tBegin Time (s)\tEnd Time (s)\n1\tSpectrogram 1\t1\t2.5\t7.0\n")
    table = read_call_labels(raven)
    assert table.iloc[0].tolist() == ["rec_07", 2.5, 7.0, "sure"]


def test_labels_that_end_before_they_start_are_rejected(tmp_path):
    csv = tmp_path / "bad.csv"
    csv.write_text("recording,start,end\na.mp3,5,3\n")
    with pytest.raises(ValueError, match="row 2 ends before it starts"):
        read_call_labels(csv)


def test_clip_metrics_on_known_scores():
    import numpy as np

    from model.reporting.evaluation import clip_metrics

    m = clip_metrics(np.array([1, 1, 1, 0, 0]), np.array([0.9, 0.5, 0.2, 0.6, 0.1]))
    assert m["confusion"] == [[1, 1], [1, 2]]  # [[tn, fp], [fn, tp]]; 0.5 counts as a call
    assert m["precision"] == pytest.approx(2 / 3) and m["recall"] == pytest.approx(2 / 3)
    assert m["accuracy"] == pytest.approx(0.6)


def test_clip_metrics_for_three_classes_per_class_and_confusion():
    import numpy as np

    from model.reporting.evaluation import clip_metrics

    probs = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.1, 0.6, 0.3], [0.1, 0.2, 0.7], [0.5, 0.3, 0.2]])
    m = clip_metrics(np.array([0, 1, 2, 2, 2]), probs, ["a", "b", "c"])
    assert m["confusion"] == [[1, 0, 0], [0, 1, 0], [1, 1, 1]]  # rows true, columns predicted
    assert m["per_class"]["c"] == {"precision": 1.0, "recall": pytest.approx(1 / 3), "f1": pytest.approx(0.5), "support": 3}
    assert m["per_class"]["a"]["precision"] == 0.5 and m["accuracy"] == pytest.approx(0.6)
    assert m["macro_f1"] == pytest.approx((2 / 3 + 2 / 3 + 0.5) / 3)
    assert "f1" not in m  # top-level F1 is the binary call class only


def test_pool_by_file_mean_and_max():
    import numpy as np

    from model.detection.decisions import pool_by_file

    files = np.array(["x", "x", "x", "y"])
    names, pooled = pool_by_file(files, np.array([0.9, 0.2, 0.1, 0.6]), "mean")
    assert list(names) == ["x", "y"]
    np.testing.assert_allclose(pooled[:, 1], [0.4, 0.6])
    _, pooled = pool_by_file(files, np.array([0.9, 0.2, 0.1, 0.6]), "max")
    np.testing.assert_allclose(pooled[:, 1], [0.9, 0.6])
    with pytest.raises(ValueError, match="pooling"):
        pool_by_file(files, np.zeros(4), "median")


def test_the_embedding_picture_chooses_its_clips_before_the_network_runs():
    from model.reporting.diagnostics import embedding_sample

    shown = embedding_sample(3000)
    assert len(shown) == 1000 and len(set(shown)) == 1000 and (np.diff(shown) > 0).all()
    np.testing.assert_array_equal(shown, embedding_sample(3000))  # seeded
    # plot_embedding takes the same sample again: of clips already chosen, every one, in order, so the picture is
    # the one it made when it was handed every clip's features
    np.testing.assert_array_equal(embedding_sample(len(shown)), np.arange(1000))
    np.testing.assert_array_equal(embedding_sample(40), np.arange(40))
