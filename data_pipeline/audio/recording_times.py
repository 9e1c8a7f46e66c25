"""When a recording began, read from its file name, so that each call gets a time of day as well as a time in its file.

Recorders name their files by the date and time they began: AudioMoth `20240315_053000.WAV`, Song Meters
`S4A01234_20240315_053000.wav`, others `20240315T053000+1000_site.flac` or `2024-03-15_05-30-00.wav` (Raven's Real
Clock Times read the same part of the name). Calls per hour of day, the first thing a season's counts are used for,
need it. A name without a whole, valid date and time (`recording_04.mp3`) gives none: no time is guessed.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

# Year, month, day, then hour, minute, second, with the separators recorders use (none, '-', '_', 'T', ':'), and
# an optional UTC offset (Z, +1000, -03:00); not inside a longer run of digits.
_STAMP = re.compile(r"(?<!\d)(\d{4})-?(\d{2})-?(\d{2})[_T-]?(\d{2})[-:]?(\d{2})[-:]?(\d{2})(?!\d)"
                    r"(Z|[+-]\d{2}:?\d{2}(?!\d))?")


def recording_start(name: str) -> datetime | None:
    """The date and time a recording began, from its file name (aware where the name gives a UTC offset), or None."""
    for match in _STAMP.finditer(name):
        *fields, offset = match.groups()
        try:
            start = datetime(*map(int, fields))
        except ValueError:  # 20241399_... is no date
            continue
        if offset == "Z":
            return start.replace(tzinfo=timezone.utc)
        if offset and int(offset[1:3]) <= 14 and offset[-2:] in ("00", "15", "30", "45"):  # not a take number, -0001
            minutes = int(offset[1:3]) * 60 + int(offset[-2:])
            return start.replace(tzinfo=timezone(timedelta(minutes=minutes if offset[0] == "+" else -minutes)))
        return start
    return None


def clock_times(recordings: list[str], seconds: list[float]) -> list[str]:
    """The time of day of each moment (a recording's name, seconds into it), ISO 8601 to the millisecond
    ('2024-03-15 05:31:12.250', with '+10:00' where the name gives an offset); '' where the name holds no time."""
    starts = {name: recording_start(name) for name in set(recordings)}
    return ["" if starts[name] is None else (starts[name] + timedelta(seconds=float(s))).isoformat(" ", "milliseconds")
            for name, s in zip(recordings, seconds)]
