"""The time of day of each call, from the date and time recorders put in file names
(data_pipeline.audio.recording_times); a name without a whole, valid one gives none."""

from datetime import datetime, timedelta, timezone

import pytest

from data_pipeline.audio.recording_times import clock_times, recording_start


@pytest.mark.parametrize("name,began", [
    ("20240315_053000.WAV", datetime(2024, 3, 15, 5, 30)),  # AudioMoth
    ("S4A01234_20240315_053000.wav", datetime(2024, 3, 15, 5, 30)),  # Song Meter SM4
    ("SMM01234_20240315_053000Z.wav", datetime(2024, 3, 15, 5, 30, tzinfo=timezone.utc)),
    ("20220421T120000+1000_site-B_644366.flac", datetime(2022, 4, 21, 12, tzinfo=timezone(timedelta(hours=10)))),
    ("2024-03-15_05-30-00.wav", datetime(2024, 3, 15, 5, 30)),
    ("20240315_053000-03:00.wav", datetime(2024, 3, 15, 5, 30, tzinfo=timezone(timedelta(hours=-3)))),
    ("20240315_053000-0001.wav", datetime(2024, 3, 15, 5, 30)),  # a take number, not a UTC offset
    ("recording_04.mp3", None),  # the challenge's names
    ("XC114131-3.wav", None),
    ("20241399_053000.wav", None),  # no such day
    ("site_20240315_0530.wav", None),  # no seconds: not whole
    ("120240315_053000.wav", None),  # inside a longer number
])
def test_the_start_is_read_from_the_names_recorders_write(name, began):
    assert recording_start(name) == began


def test_each_moment_gets_its_time_of_day_to_the_millisecond_and_none_where_the_name_has_none():
    assert clock_times(["20240315_235959.wav", "recording_04.mp3", "20220421T120000+1000_a.flac"], [1.25, 3.0, 7200.5]) \
        == ["2024-03-16 00:00:00.250", "", "2022-04-21 14:00:00.500+10:00"]
