import numpy as np
import pytest

from model.detection.events import CountingConfig, median_smooth, merge_windows

WINDOW_S, HOP_S = 3.0, 0.25


def scores_for(pattern: str):
    """'.' = low, '#' = high, one character per window, windows every HOP_S seconds."""
    scores = np.array([0.9 if c == "#" else 0.1 for c in pattern])
    return np.arange(len(pattern)) * HOP_S, scores


def merge(pattern, **settings):
    """Merge mechanics with a 1 s minimum call, so short patterns can show them, and no joining of close calls
    (tested on its own below) unless asked."""
    starts, scores = scores_for(pattern)
    settings = {"min_call_s": 1.0, "join_within_s": 0.0, **settings}
    return merge_windows(starts, scores, WINDOW_S, CountingConfig(hop_s=HOP_S, **settings))


def test_one_run_is_one_call_with_centre_based_times():
    calls = merge("....########....")  # windows 4-11 positive: centres 2.5..4.25 s
    assert len(calls) == 1
    assert calls.loc[0, "start"] == pytest.approx(4 * HOP_S + 1.5 - HOP_S / 2)
    assert calls.loc[0, "end"] == pytest.approx(11 * HOP_S + 1.5 + HOP_S / 2)
    assert calls.loc[0, "score"] == pytest.approx(0.9)


def test_one_second_of_quiet_keeps_two_calls_apart():
    calls = merge("########....########", min_gap_s=0.5)  # 4 windows = 1 s of quiet
    assert len(calls) == 2


def test_a_short_dip_inside_a_call_does_not_split_it():
    calls = merge("########.#######", min_gap_s=0.5)  # 0.25 s dip
    assert len(calls) == 1


def test_a_lone_window_is_not_a_call():
    assert len(merge("....#.......", min_call_s=1.0)) == 0
    assert len(merge("....#####...", min_call_s=1.0)) == 1  # 5 windows = 1.25 s


def test_the_default_minimum_length_drops_a_2_s_blip_but_keeps_a_call():
    starts, scores = scores_for("...." + "#" * 8 + "........" + "#" * 16 + "....")  # 2 s, then 4 s
    calls = merge_windows(starts, scores, WINDOW_S, CountingConfig(hop_s=HOP_S))
    assert CountingConfig().min_call_s == 2.25 and len(calls) == 1
    assert calls.loc[0, "end"] - calls.loc[0, "start"] == pytest.approx(4.0)


def test_a_stretch_longer_than_any_call_is_not_counted_unless_the_limit_is_off():
    starts, scores = scores_for("...." + "#" * 24 + "........" + "#" * 40 + "....")  # 6 s, then 10 s
    default = merge_windows(starts, scores, WINDOW_S, CountingConfig(hop_s=HOP_S))
    assert CountingConfig().max_call_s == 8.0
    assert (default["end"] - default["start"]).tolist() == pytest.approx([6.0])
    unlimited = merge_windows(starts, scores, WINDOW_S, CountingConfig(hop_s=HOP_S, max_call_s=0.0))
    assert (unlimited["end"] - unlimited["start"]).tolist() == pytest.approx([6.0, 10.0])
    exact = merge_windows(starts, scores, WINDOW_S, CountingConfig(hop_s=HOP_S, max_call_s=10.0))
    assert len(exact) == 2  # the limit itself is still a call


def test_a_limit_no_call_could_meet_is_refused_in_one_line():
    with pytest.raises(ValueError, match="max_call_s must be 0 seconds or more"):
        CountingConfig(max_call_s=-1.0)
    with pytest.raises(ValueError, match=r"max_call_s \(2.0\) is below min_call_s \(2.25\): no call could be counted"):
        CountingConfig(max_call_s=2.0)


def test_labelled_calls_longer_than_the_limit_raise_it_never_lower_it():
    assert CountingConfig().for_labelled_calls(9.5).max_call_s == 10.5
    assert CountingConfig().for_labelled_calls(5.0).max_call_s == 8.0
    assert CountingConfig().for_labelled_calls(None).max_call_s == 8.0
    assert CountingConfig().for_labelled_calls(float("nan")).max_call_s == 8.0
    assert CountingConfig(max_call_s=0.0).for_labelled_calls(9.5).max_call_s == 0.0  # no limit stays none


def test_settings_saved_before_the_limit_existed_load_with_it():
    saved = {"hop_s": 0.25, "threshold": 0.5, "min_gap_s": 0.75, "min_call_s": 2.0, "smooth_windows": 1}
    assert CountingConfig.from_dict(saved).max_call_s == 8.0
    assert CountingConfig.from_dict(saved).join_within_s == 7.0


def test_a_call_split_by_a_dip_is_joined_and_two_whole_calls_are_not():
    # What a fold of the robustness benchmark found in recording_11's 6 s calls: 3.25 s, 0.75 s of low scores
    # (at least min_gap_s, so two runs), 2.25 s. Together 6.25 s, within the 7 s a Capuchinbird call lasts at most.
    split_call = "...." + "#" * 13 + "..." + "#" * 9 + "...."
    assert len(merge(split_call, min_gap_s=0.75, min_call_s=2.0)) == 2
    joined = merge(split_call, min_gap_s=0.75, min_call_s=2.0, join_within_s=7.0)
    assert len(joined) == 1
    assert joined.loc[0, "start"] == pytest.approx(4 * HOP_S + 1.5 - HOP_S / 2)  # the first part's start
    assert joined.loc[0, "end"] == pytest.approx(28 * HOP_S + 1.5 + HOP_S / 2)  # to the second part's end
    assert joined.loc[0, "end"] - joined.loc[0, "start"] == pytest.approx(6.25)
    assert len(merge(split_call, min_gap_s=0.75, min_call_s=2.0, join_within_s=6.0)) == 2  # 6.25 s is longer
    # Two 4 s calls 2.5 s apart, the closest two labelled calls of ../shared/forest: 10.5 s together, two calls.
    two_calls = "...." + "#" * 16 + "." * 10 + "#" * 16 + "...."
    assert len(merge(two_calls, min_call_s=2.0, join_within_s=7.0)) == 2
    # Only calls are joined: a run too short to count is not made a call by a neighbour (1 s + 1 s quiet + 3 s).
    short_then_call = "...." + "#" * 4 + "...." + "#" * 12 + "...."
    joined = merge(short_then_call, min_call_s=2.0, join_within_s=7.0)
    assert len(joined) == 1 and joined.loc[0, "end"] - joined.loc[0, "start"] == pytest.approx(3.0)


def test_the_joined_call_keeps_the_higher_score_and_the_default_joins():
    starts = np.arange(26) * HOP_S
    scores = np.r_[np.full(12, 0.95), np.full(4, 0.1), np.full(10, 0.7)]  # 3 s, 1 s low, 2.5 s: 6.5 s in all
    calls = merge_windows(starts, scores, WINDOW_S, CountingConfig(hop_s=HOP_S))
    assert CountingConfig().join_within_s == 7.0
    assert len(calls) == 1 and calls.loc[0, "score"] == pytest.approx(0.95)


def test_labelled_calls_set_the_joining_half_a_second_above_the_longest():
    assert CountingConfig().for_labelled_calls(6.0).join_within_s == 6.5  # lower than the default as well:
    assert CountingConfig().for_labelled_calls(1.2).join_within_s == 1.7  # short calls in series stay apart
    assert CountingConfig().for_labelled_calls(9.5).join_within_s == 10.0
    assert CountingConfig().for_labelled_calls(None).join_within_s == 7.0
    assert CountingConfig(join_within_s=0.0).for_labelled_calls(9.5).join_within_s == 0.0  # never stays never


def test_presets_other_than_the_capuchinbird_count_without_joining():
    from model.learning.presets import get_preset, preset_counting

    counting = preset_counting(get_preset("heart"))
    assert counting.join_within_s == 0.0 and counting.max_pulse_spread_db == 0.0


def test_threshold_is_inclusive_and_no_windows_means_no_calls():
    calls = merge_windows(np.arange(8) * HOP_S, np.full(8, 0.5), WINDOW_S, CountingConfig(hop_s=HOP_S, min_call_s=1.0))
    assert len(calls) == 1
    assert len(merge_windows(np.zeros(0), np.zeros(0), WINDOW_S, CountingConfig())) == 0


def test_calls_are_clipped_to_the_recording():
    starts, scores = scores_for("########")
    calls = merge_windows(starts - 1.5, scores, WINDOW_S, CountingConfig(hop_s=HOP_S, min_call_s=1.0), duration_s=1.5)
    assert calls.loc[0, "start"] == 0.0 and calls.loc[0, "end"] == 1.5


def test_median_smoothing_removes_single_window_spikes_and_holes():
    x = np.array([0, 0, 1, 0, 0, 1, 1, 0, 1, 1], float)
    np.testing.assert_array_equal(median_smooth(x, 3), [0, 0, 0, 0, 0, 1, 1, 1, 1, 1])
    with pytest.raises(ValueError):
        median_smooth(x, 4)


def test_training_takes_the_longest_call_from_the_recordings_it_learns_and_validates_on():
    import pandas as pd

    from model.learning.training import _longest_call_s

    table = pd.DataFrame({"file": ["/a/r1.wav", "/a/r2.wav", "/a/r3.wav"], "split": ["train", "val", "test"]})
    labels = pd.DataFrame({"recording": ["r1.wav", "r2.wav", "r3.wav", "r2.wav"],
                           "start": [0.0, 10.0, 0.0, float("nan")], "end": [5.0, 19.5, 30.0, float("nan")]})
    assert _longest_call_s(table, labels) == 9.5  # r3 is a test recording: its 30 s call is not looked at
    assert _longest_call_s(table, None) is None
    assert _longest_call_s(table, labels[labels["recording"] == "r3.wav"]) is None
