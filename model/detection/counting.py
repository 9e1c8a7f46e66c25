"""Count calls in long recordings: windows -> scores -> merged calls, one recording at a time.

A recording that cannot be decoded is reported ('PATH: reason') and skipped; the others are counted.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import pandas as pd

from data_pipeline.audio.decoding import STREAM_BLOCK_S, AudioDecodeError, stream_audio
from data_pipeline.audio.prefetch import background
from data_pipeline.audio.startup_decoding import StartupDecoder
from data_pipeline.features.harmonicity import window_stack
from data_pipeline.features.pulsing import pulse_frontend, window_pulse_spreads
from data_pipeline.features.windows import iter_windows
from model.detection.detector import Detector
from model.detection.events import CountingConfig, merge_windows
from model.interrupts import deferred

# Audio a reader decodes ahead of the network. The next recording's reader fills its queue while the current
# recording is scored; two minutes lets it decode most of a 3-minute recording by then. The 40 shared
# recordings counted at 863-916x real time with two blocks of 10 s ahead, 1142-1227x with twelve (README "Throughput").
DECODE_AHEAD_S = 120.0


@dataclass
class RecordingScores:
    """Window scores of one recording, kept so settings can be re-tuned without re-running the model.

    pulse_spreads: for each window, the pulse spread (dB) around its centre (data_pipeline.features.pulsing),
    NaN where not measured (a score under MEASURED_FROM_SCORE, a front end that cannot measure it); None: none
    measured (scores saved before the pulse gate), so the gate lets every call pass.
    harmonicities: for each window, how much the second around its centre is a harmonic stack
    (data_pipeline.features.harmonicity), NaN where not measured; None: none measured, so the harmonic gate lets
    every call pass.
    pitch_glides: for each window, how fast the pitch of the stack in the second around its centre glides
    (octaves a second, the same module), NaN where not measured; None: none measured (scores saved before the
    pitch-glide gate), so the gate lets every call pass.
    """

    recording: str
    starts_s: np.ndarray
    scores: np.ndarray
    duration_s: float
    pulse_spreads: np.ndarray | None = None
    harmonicities: np.ndarray | None = None
    pitch_glides: np.ndarray | None = None

    @property
    def gate_measures(self) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
        """(pulse_spreads, harmonicities, pitch_glides): what the gates of model.detection.events read, in the
        order merge_windows and call_spans take them."""
        return self.pulse_spreads, self.harmonicities, self.pitch_glides

    def windows(self, keep: np.ndarray) -> "RecordingScores":
        """The same recording with only the windows `keep` (indices or a mask), their measures with them."""
        def kept(values):
            return None if values is None else values[keep]

        return RecordingScores(self.recording, self.starts_s[keep], self.scores[keep], self.duration_s,
                               *map(kept, self.gate_measures))


@dataclass
class CountResult:
    counts: pd.DataFrame  # recording, call_count (every recording that decoded)
    events: pd.DataFrame  # recording, start, end, score (one row per call)
    scores: list[RecordingScores] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def score_recording(detector: Detector, path: str | os.PathLike, hop_s: float | None = None,
                    blocks: Iterator[np.ndarray] | None = None) -> RecordingScores:
    """Score every window of one recording, decoded and scored block by block.

    blocks: the recording's resampled audio blocks, if already being decoded (see `count_calls`).
    """
    fe = detector.frontend
    hop_s = detector.counting.hop_s if hop_s is None else hop_s
    n_samples = 0

    def counted(source):
        nonlocal n_samples
        for block in source:
            n_samples += len(block)
            yield block

    measuring = pulse_frontend(fe)
    starts, scores, spreads, harmonicities, glides = [], [], [], [], []
    for batch in iter_windows(counted(blocks or stream_audio(path, fe.sample_rate_hz)), fe, hop_s):
        starts.append(batch.starts_s)
        scores.append(detector.window_probabilities(batch)[:, detector.positive_class])
        at = np.arange(len(batch.starts_s)) * batch.hop_frames * fe.frame_step
        spreads.append(window_pulse_spreads(batch.audio, at, fe.clip_samples, scores[-1], measuring))
        harmonicity, glide = window_stack(batch.audio, at, fe.clip_samples, scores[-1], fe.sample_rate_hz)
        harmonicities.append(harmonicity)
        glides.append(glide)
    return RecordingScores(Path(path).name, np.concatenate(starts), np.concatenate(scores),
                           n_samples / fe.sample_rate_hz, np.concatenate(spreads), np.concatenate(harmonicities),
                           np.concatenate(glides))


def events_from_scores(scores: list[RecordingScores], window_s: float, config: CountingConfig) -> CountResult:
    """Counts and events for already-scored recordings under `config` (cheap: no model involved)."""
    counts, events = [], []
    for rec in scores:
        calls = merge_windows(rec.starts_s, rec.scores, window_s, config, rec.duration_s, *rec.gate_measures)
        counts.append((rec.recording, len(calls)))
        events.append(calls.assign(recording=rec.recording))
    event_table = pd.concat(events, ignore_index=True) if events else pd.DataFrame()
    event_table = event_table.reindex(columns=["recording", "start", "end", "score"])
    count_table = pd.DataFrame(counts, columns=["recording", "call_count"]).sort_values("recording", ignore_index=True)
    return CountResult(count_table, event_table.sort_values(["recording", "start"], ignore_index=True), scores)


def counting_threads(run_dirs: str | os.PathLike | list, hop_s: float | None = None) -> int | None:
    """Give TensorFlow one thread per operation where that counts faster (the run folders' networks all share
    their convolutions); call before TensorFlow runs anything. Returns the number set, or None where
    TensorFlow keeps its own choice.

    A network that shares its convolutions (`detector.shares_when_counted`) is a fifth of counting's work on CPU, and
    TensorFlow's second thread took the core the decoder of the next recording needs: the 40 shared recordings
    counted at 931-1028x real time with one thread against 838-901x with TensorFlow's default (five runs each,
    alternating, the same counts; `benchmarks/count_throughput.py [--default-threads]`), and `count_calls.py`
    end to end at 619x and 691x against 568x and 608x. The window network is most of the work and was slower
    with one thread (322-325x against 362-365x), so it keeps the default, as does a shared network counted at a
    hop it cannot share at (scored window by window) and a machine with a GPU (not measured there).
    """
    import tensorflow as tf

    from model.detection.detector import as_run_dirs, shares_when_counted

    if not all(shares_when_counted(run_dir, hop_s) for run_dir in as_run_dirs(run_dirs)):
        return None
    if tf.config.list_physical_devices("GPU"):
        return None
    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
    except RuntimeError:  # TensorFlow already ran something in this process: its threads are set
        return None
    return 1


def require_call_detector(detector: Detector) -> None:
    if len(detector.classes) != 2:
        raise ValueError(f"counting needs a call detector (2 classes); this model has {len(detector.classes)} "
                         f"({', '.join(detector.classes)}): use predict.py to classify files")


def count_calls(detector: Detector, paths: list[str | os.PathLike], progress: bool = True,
                on_scored: Callable[[str | os.PathLike, RecordingScores], None] | None = None,
                decode_ahead: int = 1, startup: StartupDecoder | None = None) -> CountResult:
    """Score and count every recording in `paths`; undecodable ones land in `failures`.

    The next `decode_ahead` recordings are decoded, each in a background thread of its own, while the
    current one is scored. One is enough even where decoding is most of the work (a network sharing its
    convolutions, model.detection.shared_trunk): two counted the 40 shared recordings no faster (README).
    on_scored(path, scores) is called as each recording is done (model.detection.score_parts saves it).
    startup: the process that decoded the first recordings while this one started (count_calls.py); it stops
    now, and the recordings it finished are taken from it.
    """
    from collections import deque

    from tqdm.auto import tqdm

    require_call_detector(detector)

    ahead = max(1, round(DECODE_AHEAD_S / STREAM_BLOCK_S))  # blocks each reader may queue
    rate = detector.frontend.sample_rate_hz
    if startup is not None and startup.sample_rate_hz != rate:
        startup = None
    if startup is not None:
        startup.stop()

    def decoding(path):
        return background(stream_audio(path, rate) if startup is None else startup.blocks(path), depth=ahead)

    scored, failures = [], []
    readers = deque()  # the current recording's reader first, then those decoding ahead
    try:
        with deferred():  # a Ctrl-C stops counting at the next network call, not inside TensorFlow (model.interrupts)
            for i, path in enumerate(tqdm(paths, desc="counting", unit="rec", disable=not progress)):
                while len(readers) < 1 + decode_ahead and i + len(readers) < len(paths):
                    readers.append(decoding(paths[i + len(readers)]))
                try:
                    scored.append(score_recording(detector, path, blocks=readers[0]))
                except AudioDecodeError as err:
                    failures.append(str(err))
                else:
                    if on_scored is not None:
                        on_scored(path, scored[-1])
                readers.popleft().close()
    finally:  # Ctrl-C or an error: stop the decoders before the interpreter shuts down
        for reader in readers:
            reader.close()
    result = events_from_scores(scored, detector.frontend.clip_s, detector.counting)
    result.failures = failures
    return result
