"""The review's parts without a browser: the decision store, the queue, the verified numbers and the
review-to-labels conversion (the page itself: test_review_browser.py)."""

import threading

import numpy as np
import pandas as pd
import pytest
from conftest import designed_count, run_script


@pytest.fixture
def store(tmp_path):
    from model.review.store import ReviewStore

    store = ReviewStore(tmp_path / "review.sqlite")
    store.add_items(pd.DataFrame({"recording": ["a.wav", "a.wav", "b.wav"], "start": [1.0, 20.0, 5.0],
                                  "end": [5.0, 24.0, 9.5], "score": [0.9, 0.6, 0.99]}), "detection")
    return store


def test_decisions_are_kept_and_a_stale_tab_cannot_overwrite_a_newer_decision(store, tmp_path):
    from model.review.store import Conflict, ReviewStore

    first = store.items().iloc[0]
    assert first["version"] == 0 and first["decision"] is None
    decided = store.decide(int(first["id"]), "yes", version=0, start=1.5, end=5.25)
    assert (decided["decision"], decided["version"], decided["start_reviewed"], decided["end_reviewed"]) == ("yes", 1, 1.5, 5.25)
    with pytest.raises(Conflict) as conflict:  # a second tab still showing version 0
        store.decide(int(first["id"]), "no", version=0)
    assert conflict.value.item["decision"] == "yes"
    assert store.decide(int(first["id"]), "no", version=1)["decision"] == "no"  # seen the change: allowed
    reopened = ReviewStore(tmp_path / "review.sqlite").items()  # a new server on the same file
    assert reopened.set_index("id").loc[int(first["id"]), "decision"] == "no"
    assert reopened["decision"].notna().sum() == 1
    # Adding the same items again (the review reopened) changes nothing.
    assert store.add_items(store.items()[["recording", "start", "end", "score"]], "detection") == 0
    with pytest.raises(ValueError, match="decision must be one of"):
        store.decide(int(first["id"]), "maybe", version=2)
    with pytest.raises(ValueError, match="end after it starts"):
        store.decide(int(first["id"]), "yes", version=2, start=6.0, end=5.0)
    with pytest.raises(KeyError):
        store.decide(999, "yes", version=0)


def test_two_tabs_deciding_the_same_item_at_once_one_wins_the_other_is_told(store):
    from model.review.store import Conflict

    item_id = int(store.items().iloc[1]["id"])
    outcomes, barrier = [], threading.Barrier(8)

    def tab(decision):
        barrier.wait()
        try:
            store.decide(item_id, decision, version=0)
            outcomes.append("stored")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=tab, args=("yes" if i % 2 else "no",)) for i in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert sorted(outcomes) == ["conflict"] * 7 + ["stored"]
    assert store.item(item_id)["version"] == 1


def test_a_call_marked_by_hand_is_an_added_item_decided_yes(store):
    from model.review.store import review_table

    item = store.add_call("b.wav", 30.0, 34.5)
    assert (item["kind"], item["decision"], item["score"], item["version"]) == ("added", "yes", None, 1)
    table = review_table(store.items())
    assert list(table.columns) == ["recording", "start", "end", "score", "kind", "decision", "decided_at"]
    assert table[["recording", "start", "end", "kind"]].values.tolist() == [  # every item: training needs them all
        ["a.wav", 1.0, 5.0, "detection"], ["a.wav", 20.0, 24.0, "detection"], ["b.wav", 5.0, 9.5, "detection"],
        ["b.wav", 30.0, 34.5, "added"]]
    assert table["decision"].tolist()[-1] == "yes" and table["decision"].iloc[:3].isna().all()


def test_queue_orders():
    from model.review.queue import in_review_order

    items = pd.DataFrame({"id": [1, 2, 3, 4], "score": [0.9, 0.55, 0.3, np.nan]})
    assert in_review_order(items, "score", 0.5)["id"].tolist() == [1, 2, 3, 4]
    assert in_review_order(items, "uncertainty", 0.5)["id"].tolist() == [2, 3, 1, 4]
    shuffled = in_review_order(items, "random", 0.5, seed=3)["id"].tolist()
    assert sorted(shuffled[:3]) == [1, 2, 3] and shuffled[3] == 4
    assert shuffled == in_review_order(items.iloc[::-1], "random", 0.5, seed=3)["id"].tolist()  # fixed by id and seed


def test_near_misses_are_the_almost_calls_that_overlap_no_detection():
    from model.detection.counting import RecordingScores, events_from_scores
    from model.detection.events import CountingConfig
    from model.review.queue import near_misses

    starts = np.arange(0, 57.01, 0.25)
    centres = starts + 1.5
    scores = np.full(len(starts), 0.02)
    scores[(centres >= 10) & (centres < 15)] = 0.9  # a call
    scores[(centres >= 9) & (centres < 10)] = 0.4  # its rising edge: part of the call, not a near miss
    scores[(centres >= 30) & (centres < 31)] = 0.35  # one second of almost: a near miss
    scores[(centres >= 40) & (centres < 41)] = 0.2  # below the near-miss score
    rec = RecordingScores("r.wav", starts, scores, 60.0)
    config = CountingConfig()
    events = events_from_scores([rec], 3.0, config).events
    # each window speaks for the hop around its centre: windows centred 10 to 14.75 s are 9.875 to 14.875 s
    assert events[["start", "end"]].values.tolist() == [[9.875, 14.875]]
    near = near_misses([rec], 3.0, config, events, near_score=0.25)
    assert near[["recording", "start", "end", "score"]].values.tolist() == [["r.wav", 29.875, 30.875, 0.35]]
    # a stretch too long for counting (max_call_s) is not counted, so it is there to hear
    scores[(centres >= 45) & (centres < 55)] = 0.95
    long = RecordingScores("r.wav", starts, scores, 60.0)
    assert events_from_scores([long], 3.0, config).events[["start", "end"]].values.tolist() == [[9.875, 14.875]]
    near = near_misses([long], 3.0, config, events, near_score=0.25)
    assert near[["start", "end", "score"]].values.tolist() == [[29.875, 30.875, 0.35], [44.875, 54.875, 0.95]]
    with pytest.raises(ValueError, match="between 0 and the counting threshold"):
        near_misses([rec], 3.0, config, events, near_score=0.5)


def test_random_stretches_avoid_items_and_repeat_with_the_seed():
    from model.detection.counting import RecordingScores
    from model.review.queue import random_stretches

    starts = np.arange(0, 57.01, 0.25)
    recs = [RecordingScores(n, starts, np.linspace(0, 1, len(starts)), 60.0) for n in ("a.wav", "b.wav")]
    taken = pd.DataFrame({"recording": ["a.wav"], "start": [0.0], "end": [50.0]})
    picked = random_stretches(recs, 3.0, 6, 3.0, taken, seed=1)
    assert len(picked) == 6 and (picked["end"] - picked["start"]).round(6).eq(3.0).all()
    in_a = picked[picked["recording"] == "a.wav"]
    assert (in_a["start"] >= 50.0).all()
    assert picked.equals(random_stretches(recs, 3.0, 6, 3.0, taken, seed=1))
    # each scored by the best window centred in it: the scores rise along the recording
    row = picked.iloc[0]
    centres = starts + 1.5
    inside = recs[0].scores[(centres >= row["start"]) & (centres <= row["end"])]
    assert row["score"] == pytest.approx(inside.max())


def test_wilson_interval_matches_known_values():
    from model.review.verification import wilson_interval

    # Reference values: Wilson (1927) / Newcombe (1998) table, 95%: 81 of 263 -> 0.2553 to 0.3662
    low, high = wilson_interval(81, 263)
    assert (round(low, 4), round(high, 4)) == (0.2553, 0.3662)
    assert wilson_interval(10, 10) == pytest.approx((0.7225, 1.0), abs=1e-4)  # Newcombe's 10 of 10
    assert np.isnan(wilson_interval(0, 0)[0])


def test_precision_and_verified_counts_from_decisions():
    from model.review.verification import correctness_curve, precision_by_threshold, verified_counts

    items = pd.DataFrame({
        "recording": ["a", "a", "a", "b", "b", "b", "b"],
        "kind": ["detection", "detection", "near_miss", "detection", "detection", "added", "random"],
        "score": [0.95, 0.6, 0.4, 0.9, 0.7, np.nan, 0.1],
        "decision": ["yes", "no", "yes", "yes", "unsure", "yes", None]})
    table = precision_by_threshold(items, [0.3, 0.5, 0.8])
    assert table[["reviewed", "confirmed"]].values.tolist() == [[4, 3], [3, 2], [2, 2]]
    assert table["precision"].round(4).tolist() == [0.75, 0.6667, 1.0]
    verified = verified_counts(items).set_index("recording")
    assert verified.loc["a"].tolist() == [2, 2, 1, 1, 0, 1, 2]
    assert verified.loc["b"].tolist() == [2, 2, 1, 0, 1, 1, 2]
    # correctness rises with the score on a sample where high scores are right and low ones wrong
    sample = pd.DataFrame({"score": [0.1, 0.2, 0.3, 0.45, 0.55, 0.7, 0.8, 0.9, 0.35, 0.75],
                           "decision": ["no"] * 4 + ["yes"] * 4 + ["yes", "no"]})
    a, b = correctness_curve(sample)
    assert b > 0 and 1 / (1 + np.exp(-a)) == pytest.approx(0.5, abs=0.25)


def test_a_session_offers_detections_then_near_misses_and_exports_each_decision(tmp_path, untrained_model):
    from model.detection.detector import Detector
    from model.review.session import ReviewSession

    recordings, output = designed_count(tmp_path, untrained_model, {
        "a.wav": [(10, 15, 0.97), (30, 31, 0.3)], "b.wav": [(20, 26, 0.62), (40, 41.5, 0.45)]})
    session = ReviewSession(Detector.load(untrained_model), recordings, output, order="score")
    queue = session.queue()
    assert queue[["recording", "start", "end", "kind"]].values.tolist() == [
        ["a.wav", 9.875, 14.875, "detection"], ["b.wav", 19.875, 25.875, "detection"],
        ["b.wav", 39.875, 41.375, "near_miss"], ["a.wav", 29.875, 30.875, "near_miss"]]
    assert queue[["view_start", "view_end"]].iloc[0].tolist() == [6.875, 17.875]
    first = int(queue.iloc[0]["id"])
    session.store.decide(first, "yes", 0, 10.5, 15.0)
    session.export()
    review = pd.read_csv(tmp_path / "counts_review.csv").fillna({"decision": ""})
    assert review[["recording", "start", "end", "kind", "decision"]].values.tolist() == [
        ["a.wav", 10.5, 15.0, "detection", "yes"], ["a.wav", 29.875, 30.875, "near_miss", ""],
        ["b.wav", 19.875, 25.875, "detection", ""], ["b.wav", 39.875, 41.375, "near_miss", ""]]
    verified = pd.read_csv(tmp_path / "counts_verified.csv").set_index("recording")
    assert verified.loc["a.wav", "verified_calls"] == 1 and verified.loc["b.wav", "reviewed"] == 0
    audio, start, end = session.stretch(first)
    assert (start, end, len(audio)) == (6.875, 17.875, 11 * 16000)
    assert session.wav(first)[:4] == b"RIFF" and session.spectrogram_png(first)[:8] == b"\x89PNG\r\n\x1a\n"
    # Reopened (a restarted server): the same items, the decision kept, no duplicates.
    again = ReviewSession(Detector.load(untrained_model), recordings, output, order="score").queue()
    assert len(again) == 4 and again.set_index("id").loc[first, "decision"] == "yes"
    assert session.add_random(3) == 3 and (session.queue()["kind"] == "random").sum() == 3


def test_the_server_s_threads_draw_at_once_in_a_fresh_process(tmp_path, untrained_model):
    """The server draws from its request threads: the page asks for the summary (which writes the precision plot)
    and its picture together. In a process where matplotlib was not imported yet (Keras no longer imports it at
    start-up, model.cli), two threads importing pyplot at once made one fail, and the summary never showed."""
    import subprocess
    import sys

    from conftest import ROOT

    recordings, output = designed_count(tmp_path, untrained_model, {"a.wav": [(10, 15, 0.97)], "b.wav": [(20, 26, 0.6)]})
    code = f"""
import sys, threading, time
from model import cli
cli.start_keras_without_extras()
from model.detection.detector import Detector
from model.review.session import ReviewSession
session = ReviewSession(Detector.load({str(untrained_model)!r}), {[str(r) for r in recordings]!r}, {str(output)!r})
print("matplotlib" in sys.modules)
barrier, drawn = threading.Barrier(8), []
def draw(what, after_s):  # staggered over the time pyplot takes to import
    barrier.wait()
    time.sleep(after_s)
    drawn.append(what())
draws = [session.precision_png, lambda: session.export(figure=True) or b"written"] * 3 + [lambda: session.spectrogram_png(1)] * 2
threads = [threading.Thread(target=draw, args=(what, 0.04 * i)) for i, what in enumerate(draws)]
[t.start() for t in threads]
[t.join() for t in threads]
print(sorted(d[1:4].decode() for d in drawn))
"""
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stdout.split("\n")[:2] == ["False", str(["PNG"] * 5 + ["rit"] * 3)], run.stdout + run.stderr
    assert (tmp_path / "counts_precision.png").read_bytes()[1:4] == b"PNG"


def _review_csv(path, rows):
    pd.DataFrame(rows, columns=["recording", "start", "end", "decision"]).to_csv(path, index=False)
    return path


def test_a_review_becomes_calls_hard_negatives_background_and_nothing_for_unsure(tmp_path, write_audio, capsys):
    from data_pipeline.training_data.clips import training_clips

    for name in ("a.wav", "b.wav", "c.wav"):
        write_audio(name, np.zeros(16000 * 60, np.float32), 16000)
    review = _review_csv(tmp_path / "review.csv", [
        ("a.wav", 10.0, 15.0, "yes"),     # a confirmed detection: call clips centred 10.5 ... 14.5
        ("a.wav", 30.0, 33.0, "no"),      # a rejected one: no-call clips centred 30, 31, 31.5, 32, 33
        ("a.wav", 45.0, 47.0, ""),        # not reviewed yet: not used, and no background over it
        ("b.wav", 20.0, 26.0, "unsure"),  # not used
        ("b.wav", 40.0, 44.0, "yes"),     # a call marked by hand
        ("c.wav", 5.0, 9.0, "")])         # a recording nobody looked at: nothing from it
    paths = [tmp_path / name for name in ("a.wav", "b.wav", "c.wav")]
    clips, classes, labels = training_clips(None, paths, None, 3.0, review_path=review)
    assert labels is None  # nothing is fully labelled: counting settings are not tuned on partial truth
    centres = clips.assign(centre=clips["start"] + 1.5, name=clips["file"].map(lambda f: f.rsplit("/", 1)[-1]))
    calls = centres[centres["label"] == classes[1]]
    others = centres[centres["label"] == classes[0]]
    assert calls[calls["name"] == "a.wav"]["centre"].tolist() == [10.5, 11.0, 11.5, 12.0, 12.5, 13.0, 13.5, 14.0, 14.5]
    assert calls[calls["name"] == "b.wav"]["centre"].tolist() == [40.5, 41.0, 41.5, 42.0, 42.5, 43.0, 43.5]
    # Background: a window every 2 s that overlaps no listed item, decided or not.
    assert sorted(others[others["name"] == "a.wav"]["centre"]) == sorted(
        [1.5, 3.5, 5.5, 7.5, 17.5, 19.5, 21.5, 23.5, 25.5, 27.5, 35.5, 37.5, 39.5, 41.5, 43.5, 49.5, 51.5, 53.5, 55.5, 57.5]
        + [30.0, 31.0, 31.5, 32.0, 33.0])
    b_background = [c for c in np.arange(1.5, 58, 2.0) if not 18.5 < c < 27.5 and not 38.5 < c < 45.5]  # items 20-26, 40-44
    assert sorted(others[others["name"] == "b.wav"]["centre"]) == b_background
    assert set(clips["group"]) == {"a", "b"}
    assert "1 unsure and 2 undecided (not used)" in capsys.readouterr().out


def test_background_from_a_long_reviewed_recording_is_capped_and_spread_over_it(tmp_path, write_audio):
    from data_pipeline.labels.review_decisions import clips_from_review, read_review

    path = write_audio("long.wav", np.zeros(1000 * 3600, np.int16), 1000)  # an hour (its length is all that counts)
    review = read_review(_review_csv(tmp_path / "review.csv", [("long.wav", 100.0, 104.0, "no")]))
    clips = clips_from_review({"long.wav": path}, review, 3.0)
    centres = np.sort((clips["start"] + 1.5).to_numpy())
    background = centres[(centres < 98.5) | (centres > 105.5)]
    assert len(background) == 90 and background[0] == 1.5 and background[-1] == 3597.5  # the whole hour
    assert 30 < np.diff(background).mean() < 50


def test_a_review_adds_to_labels_the_calls_they_lack_and_the_labels_win_over_a_rejection(tmp_path, write_audio, capsys):
    from data_pipeline.training_data.clips import training_clips

    write_audio("a.wav", np.zeros(16000 * 60, np.float32), 16000)
    labels = tmp_path / "calls.csv"
    pd.DataFrame({"recording": ["a.wav"], "start": [10.0], "end": [15.0]}).to_csv(labels, index=False)
    review = _review_csv(tmp_path / "review.csv", [("a.wav", 10.5, 15.0, "yes"), ("a.wav", 40.0, 45.0, "yes"),
                                                   ("a.wav", 12.0, 14.0, "no")])
    clips, classes, merged = training_clips(None, [tmp_path / "a.wav"], labels, 3.0, review_path=review)
    assert merged[["start", "end"]].values.tolist() == [[10.0, 15.0], [40.0, 45.0]]  # the review's new call joins
    calls = clips[clips["label"] == classes[1]]["start"] + 1.5
    assert ((calls > 10) & (calls < 15)).sum() == 9 and ((calls > 40) & (calls < 45)).sum() == 9
    others = clips[clips["label"] == classes[0]]["start"] + 1.5
    assert not ((others > 39.5) & (others < 45.5)).any()  # the added call is no longer "no call" material
    assert "inside a labelled call; the labels win" in capsys.readouterr().out


@pytest.mark.parametrize("rows, message", [
    ([("a.wav", 1.0, 4.0, "maybe")], "row 2 has a decision other than .* or none"),
    ([("a.wav", 1.0, 4.0, "yes"), ("a.wav", 5.0, 4.0, "no")], "row 3 has an end before its start"),
    ([("c.wav", 1.0, 4.0, "yes")], "the decisions name 'c.wav', which is not among the 1 recordings given"),
])
def test_a_bad_review_stops_training_with_one_line_naming_the_file(tmp_path, write_audio, rows, message):
    from data_pipeline.training_data.clips import training_clips

    write_audio("a.wav", np.zeros(16000 * 20, np.float32), 16000)
    review = _review_csv(tmp_path / "review.csv", rows)
    with pytest.raises(ValueError, match=message) as err:
        training_clips(None, [tmp_path / "a.wav"], None, 3.0, review_path=review)
    assert str(review) in str(err.value) and "\n" not in str(err.value)


def test_read_stretch_seeks_to_the_same_samples_decoding_the_whole_file_gives(write_audio):
    from data_pipeline.audio.decoding import decode_audio, read_stretch

    rng = np.random.default_rng(0)
    same_rate = write_audio("a.wav", rng.normal(0, 0.1, 16000 * 10).astype(np.float32), 16000)
    assert np.array_equal(read_stretch(same_rate, 2.5, 4.0, 16000), decode_audio(same_rate, 16000)[40000:64000])
    assert len(read_stretch(same_rate, 9.0, 12.0, 16000)) == 16000  # clipped at the end of the file
    t = np.arange(48000 * 10) / 48000
    other_rate = write_audio("b.flac", (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 48000)
    part, whole = read_stretch(other_rate, 2.0, 4.0, 16000), decode_audio(other_rate, 16000)[32000:64000]
    assert len(part) == 32000 and np.abs(part[1000:-1000] - whole[1000:-1000]).max() < 1e-3  # resampled alone: edges differ


def test_a_folder_never_counted_or_a_busy_port_is_one_line_and_writes_nothing(tmp_path, untrained_model):
    import socket

    from model.detection.detector import Detector
    from model.review.server import ReviewServer
    from model.review.session import ReviewSession

    recordings, output = designed_count(tmp_path, untrained_model, {"a.wav": [(10, 15, 0.97)]})
    detector = Detector.load(untrained_model)
    with pytest.raises(FileNotFoundError) as never:
        ReviewSession(detector, recordings, tmp_path / "other.csv")
    assert str(never.value) == (f"{tmp_path / 'other_events.csv'}: no events table; count first: "
                                f"python count_calls.py --input ... --output {tmp_path / 'other.csv'}")
    assert not list(tmp_path.glob("other*"))  # nothing written
    with pytest.raises(ValueError, match="near-miss score must lie between 0 and the counting threshold 0.5"):
        ReviewSession(detector, recordings, output, near_score=0.7)
    assert not list(tmp_path.glob("counts_review*"))  # a bad setting writes nothing either
    session = ReviewSession(detector, recordings, output)
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(ValueError) as taken:
            ReviewServer(session, "127.0.0.1", port)
    assert str(taken.value) == f"cannot listen on 127.0.0.1:{port} (Address already in use); try another --port"


def test_a_count_that_averaged_two_models_is_reviewed_with_both(tmp_path, untrained_model):
    import shutil

    from model.detection.detector import Detector, load_detector
    from model.learning.networks import build_model
    from model.review.session import ReviewSession

    second = tmp_path / "second"  # the same front end and classes, other (random) weights
    first = Detector.load(untrained_model)
    Detector(build_model("compact", first.frontend.input_shape, 2, frontend=first.frontend), first.frontend,
             first.classes).save(second)
    shutil.copy(untrained_model / "detector.json", second / "detector.json")
    recordings, output = designed_count(tmp_path, [untrained_model, second], {"a.wav": [(10, 15, 0.97)]})
    session = ReviewSession(load_detector([untrained_model, second]), recordings, output)
    assert session.store.items()[["kind", "start", "end"]].values.tolist() == [["detection", 9.875, 14.875]]
    with pytest.raises(ValueError, match="no window scores of 1 recording.*made with this model"):
        ReviewSession(first, recordings, output)  # one of the two is not what the count used
    # through the script: with both models the count's scores are found (the session then refuses a near-miss
    # score above the threshold, before serving); with one, they are not
    both = run_script("review.py", "--input", *recordings, "--output", output, "--model", untrained_model, second,
                      "--near-miss-score", "0.7", cwd=tmp_path)
    assert both.returncode == 2 and "near-miss score must lie between 0 and the counting threshold" in both.stderr
    one = run_script("review.py", "--input", *recordings, "--output", output, "--model", untrained_model,
                     "--near-miss-score", "0.7", cwd=tmp_path)
    assert one.returncode == 2 and "made with this model" in one.stderr


def test_a_recording_gone_since_the_count_is_one_line_from_the_server_not_a_traceback(tmp_path, untrained_model):
    import json
    import threading
    import urllib.error
    import urllib.request

    from model.detection.detector import Detector
    from model.review.server import ReviewServer
    from model.review.session import ReviewSession

    recordings, output = designed_count(tmp_path, untrained_model, {"a.wav": [(10, 15, 0.97)]})
    server = ReviewServer(ReviewSession(Detector.load(untrained_model), recordings, output), "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever)
    thread.start()
    try:
        with urllib.request.urlopen(server.url + "api/items/1/audio.wav") as response:
            assert response.status == 200 and response.headers["Content-Type"] == "audio/wav"
        recordings[0].unlink()
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(server.url + "api/items/1/spectrogram.png")
        assert err.value.code == 500 and json.loads(err.value.read()) == {"error": f"{recordings[0]}: no such file"}
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
