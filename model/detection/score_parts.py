"""One part file per counted recording, so an interrupted count resumes instead of starting over.

A part holds a recording's window scores (model.detection.counting.RecordingScores) and what they
were made with: a fingerprint of the network's weights, the front end and the hop, and the
recording's size and modification time. Calls, counts and every output are made from the scores at
the end, so counting settings other than the hop (threshold, gaps, minimum length) can change
between runs without rescoring. A part is written atomically the moment its recording is scored;
one that does not match the model, the settings or the file is ignored and rewritten.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Callable

import numpy as np

from data_pipeline.audio.startup_decoding import StartupDecoder
from model.detection.counting import CountResult, RecordingScores, count_calls, events_from_scores
from model.detection.detector import Detector
from model.outputs import atomic_savez

PART_SUFFIX = ".scores.npz"


def scoring_fingerprint(detector: Detector, hop_s: float) -> str:
    """What window scores depend on: the networks' weights, the front end and the hop."""
    digest = hashlib.sha256()
    for network in detector.networks:
        for weights in network.get_weights():
            digest.update(np.ascontiguousarray(weights).tobytes())
    digest.update(json.dumps({"frontend": detector.frontend.to_dict(), "hop_s": hop_s,
                              "positive_class": detector.positive_class}, sort_keys=True).encode())
    return digest.hexdigest()[:16]


def _source_stamp(path: Path) -> str:
    stat = path.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def part_path(folder: Path, recording: str | os.PathLike) -> Path:
    return Path(folder) / (Path(recording).name + PART_SUFFIX)


def save_part(folder: Path, source: str | os.PathLike, scores: RecordingScores, fingerprint: str) -> None:
    """Write one recording's scores atomically (a temporary file renamed into place); pulse spreads,
    harmonicities and pitch glides not measured (None) are kept as NaN, which the gates read the same way."""
    def measure(values):
        return np.full(len(scores.scores), np.nan) if values is None else values

    atomic_savez(part_path(folder, source), starts_s=scores.starts_s, scores=scores.scores,
                 pulse_spreads=measure(scores.pulse_spreads), harmonicities=measure(scores.harmonicities),
                 pitch_glides=measure(scores.pitch_glides),
                 duration_s=scores.duration_s, fingerprint=fingerprint, source=_source_stamp(Path(source)))


def load_part(folder: Path, source: str | os.PathLike, fingerprint: str) -> RecordingScores | None:
    """The stored scores of `source`, or None when there are none made with this model and settings
    from the file as it is now (or the part cannot be read: a crash mid-write leaves only a .tmp; or it was saved
    before the pulse, harmonic or pitch-glide gate, without their measures)."""
    path = part_path(folder, source)
    if not path.exists():
        return None
    try:
        with np.load(path) as part:
            if str(part["fingerprint"]) != fingerprint or str(part["source"]) != _source_stamp(Path(source)):
                return None
            return RecordingScores(Path(source).name, part["starts_s"], part["scores"], float(part["duration_s"]),
                                   part["pulse_spreads"], part["harmonicities"], part["pitch_glides"])
    except (OSError, ValueError, KeyError):
        return None


# (detector, recordings to score, parts folder, fingerprint, progress) -> (their scores, one line per failure);
# each recording's part is saved as soon as it is scored.
Scorer = Callable[[Detector, list[Path], Path, str, bool], tuple[list[RecordingScores], list[str]]]


def score_here(detector: Detector, todo: list[Path], folder: Path, fingerprint: str,
               progress: bool = True, startup: StartupDecoder | None = None) -> tuple[list[RecordingScores], list[str]]:
    """The default Scorer: this process, decoding the next recording while scoring the current one
    (startup: see count_calls)."""
    if not todo:
        return [], []
    result = count_calls(detector, todo, progress=progress, startup=startup,
                         on_scored=lambda path, scores: save_part(folder, path, scores, fingerprint))
    return result.scores, result.failures


def count_resumably(detector: Detector, paths: list[str | os.PathLike], folder: Path, fresh: bool = False,
                    progress: bool = True, scorer: Scorer = score_here) -> tuple[CountResult, int]:
    """(count_calls' result over `paths`, how many recordings came from parts already in `folder`).

    Recordings with a matching part are not decoded again; every other one is scored by `scorer`
    (this process by default; model.detection.cluster_counting.DaskScorer on Dask) and its part
    written as soon as it is done, so a run stopped at any point loses only the recordings in flight.
    fresh: ignore (and replace) every existing part.
    """
    paths = [Path(p) for p in paths]
    fingerprint = scoring_fingerprint(detector, detector.counting.hop_s)
    stored = {} if fresh else {p: load_part(folder, p, fingerprint) for p in paths}
    stored = {p: s for p, s in stored.items() if s is not None}
    if stored:
        print(f"resuming: {len(stored)} of {len(paths)} recordings already scored with this model and settings "
              f"({folder}; --fresh starts over)")
    todo = [p for p in paths if p not in stored]
    scored, failures = scorer(detector, todo, folder, fingerprint, progress)
    new = {scores.recording: scores for scores in scored}
    ordered = [stored[p] if p in stored else new[p.name] for p in paths if p in stored or p.name in new]
    merged = events_from_scores(ordered, detector.frontend.clip_s, detector.counting)
    merged.failures = failures
    return merged, len(stored)
