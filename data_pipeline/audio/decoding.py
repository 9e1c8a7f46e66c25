"""Decode audio files of any common format, rate and channel count to mono float32 at one rate.

Two decoders sit behind `decode_audio`:

- ``"soundfile"`` (default): libsndfile decodes, soxr resamples. About 0.5 s per 180 s 48 kHz
  stereo forest MP3 on one core.
- ``"tfio"``: tensorflow-io's `AudioIOTensor` and `tfio.audio.resample`. About 2 s for the same
  file, kept because it is the TensorFlow-native path. Optional: tensorflow-io 0.37.1 loads only
  with TensorFlow 2.16, so it is installed apart (requirements-tfio.txt, `make venv-tfio`). Its resampler delays its output by 32
  samples; we remove that delay so both backends return the same samples (tests hold them to it).

Long recordings are read with `stream_audio`, block by block, so memory stays flat however long
the file is. Every failure is an `AudioDecodeError` whose message names the file and the problem.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Iterator

import numpy as np

AUDIO_EXTENSIONS = (".wav", ".mp3", ".flac", ".ogg", ".opus", ".aiff", ".aif")
# Audio or video a recorder or phone may write that neither decoder reads: named, not passed over.
UNREAD_AUDIO_EXTENSIONS = (".m4a", ".aac", ".wma", ".mp4", ".amr", ".3gp", ".caf", ".ape", ".wv", ".webm")
DEFAULT_SAMPLE_RATE_HZ = 16000
# Seconds of audio per block `stream_audio` reads. 10 rather than 60: a minute of 48 kHz stereo is 23 MB of
# float32 per read, and the allocator kept what those reads once held, so a 12-hour recording peaked at
# 1.15x a 3-minute one's memory; with 10 s blocks 1.01-1.03x (benchmarks/long_recording_memory.py, README "Throughput").
STREAM_BLOCK_S = 10.0
DECODER_BACKENDS = ("soundfile", "tfio")
# Output delay of tfio.audio.resample, in samples of the lower of the two rates (measured).
_TFIO_RESAMPLE_DELAY = 32


class AudioWarning(UserWarning):
    """A file was read, but not all of it or not cleanly; str() is one line: 'PATH: what happened'."""


class AudioDecodeError(ValueError):
    """A file could not be turned into audio samples; str() is one line: 'PATH: reason'."""

    def __init__(self, path: str | os.PathLike, reason: str):
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


def hidden(path: Path) -> bool:
    """Whether a folder's entry is hidden (its name starts with "."), and so left out of what a folder gives, as
    the shell's `*` leaves it out: macOS writes a `._NAME` twin of file details beside every file it copies to a
    memory card or USB drive (`._rec_07.wav` is no recording; `._rec_07.Table.1.selections.txt` no table), and
    `.DS_Store`, `.ipynb_checkpoints`, `.Trashes` hold nothing of the user's. A hidden file named on its own is read."""
    return path.name.startswith(".")


def list_audio_files(folder: str | os.PathLike, say_unread: bool = False) -> list[Path]:
    """Audio files directly inside `folder` (by extension, case-insensitive), sorted by name; entries
    named like audio that are not (a folder, a broken link) are listed too, to be reported when read.
    Hidden entries are left out (`hidden`).

    say_unread: warn (AudioWarning) about files in audio formats this tool does not decode (m4a,
    wma, ...), and about subfolders that hold audio (a season kept as one folder per site or day), which
    would otherwise be passed over unseen; other files (labels, logs) are not audio.
    """
    folder = Path(folder)
    entries = [p for p in folder.iterdir() if not hidden(p)]  # listed once: a recorder's folder holds thousands
    files = sorted(p for p in entries if p.suffix.lower() in AUDIO_EXTENSIONS)  # a bad one is reported when read
    if say_unread:
        nested = sorted(p.name for p in entries if p.is_dir() and p.suffix.lower() not in AUDIO_EXTENSIONS
                        and any(q.suffix.lower() in AUDIO_EXTENSIONS for q in p.iterdir()))
        if nested:
            warnings.warn(AudioWarning(f"{folder}: {len(nested)} subfolder(s) with audio in them not read: "
                                       f"{', '.join(nested[:3])}{' ...' if len(nested) > 3 else ''} (give them too, "
                                       f"e.g. {folder / '*'}; only the files directly in a folder given are read)"),
                          stacklevel=2)
        unread = sorted(p.name for p in entries if p.suffix.lower() in UNREAD_AUDIO_EXTENSIONS)
        if unread:
            warnings.warn(AudioWarning(f"{folder}: {len(unread)} file(s) in a format not read here, left out: "
                                       f"{', '.join(unread[:3])}{' ...' if len(unread) > 3 else ''} (convert them "
                                       "to FLAC or WAV, e.g. ffmpeg -i in.m4a out.flac)"), stacklevel=2)
    return files


def expand_audio_paths(paths: list[str | os.PathLike]) -> list[Path]:
    """Files as given plus the audio files inside any folders given, in the order given, each file once
    (a folder and a file in it, or one file by two paths: counted twice under one name, its calls were merged
    with their own copies); links of other names to one file are other recordings, named as linked.

    Paths that do not exist are passed on (to be reported as failures), except when several given
    in a row join with spaces into one that does: an unquoted name with a space ("data/Forest
    Recordings"), which stops with a one-line error saying to quote it.
    """
    hint = _unquoted_space_hint([str(p) for p in paths])
    if hint:
        raise FileNotFoundError(hint)
    out: dict[tuple[str, Path], Path] = {}
    for p in map(Path, paths):
        for file in list_audio_files(p, say_unread=True) if p.is_dir() else [p]:
            out.setdefault((file.name, file.resolve()), file)
    return list(out.values())


def audio_inputs(paths: list[str | os.PathLike]) -> list[Path]:
    """The files a script is asked to read (expand_audio_paths), or one line, before any model loads, when there
    is nothing to read: no audio in the folders given, or not one of the files there (a typo). Some missing among
    files that are there are left to be reported as each is read, and the rest done."""
    found = expand_audio_paths(paths)
    if not found:
        raise FileNotFoundError(f"no audio files in {' '.join(map(str, paths))}")
    if not any(path.exists() for path in found):
        shown = ", ".join(map(str, found[:3])) + (f" and {len(found) - 3} more" if len(found) > 3 else "")
        raise FileNotFoundError(f"{shown}: no such file" + ("s" if len(found) > 1 else ""))
    return found


def existing_audio_paths(paths: list[str | os.PathLike], option: str) -> list[Path]:
    """The audio files an option names (files, and the audio inside folders) where every path must be there
    (--negatives, --unlabelled): one line naming the paths that are not, or saying that none holds audio."""
    missing = [str(p) for p in paths if not Path(p).exists()]
    if missing:
        raise FileNotFoundError(f"{option}: no such file or folder: {', '.join(missing)}")
    found = expand_audio_paths(paths)
    if not found:
        raise FileNotFoundError(f"{option}: no audio files in {' '.join(map(str, paths))}")
    return found


def require_unique_names(paths: list[Path]) -> None:
    """Stop (ValueError, one line) when two inputs share a file name, or a name but for the extension:
    counts and events are keyed by file name, the Raven, Audacity and plot files by stem, and labels may
    name a recording by either (as Raven names its tables), so one recording's results would hide the
    other's. Recorders name files by date and time, so two recorders' folders often hold the same names."""
    names: dict[str, Path] = {}
    stems: dict[str, Path] = {}
    for p in paths:
        first = names.setdefault(p.name, p)
        if first != p:
            raise ValueError(f"{first} and {p} share the file name {p.name!r}, and results are keyed by file name; "
                             "count each folder into its own --output, or rename the files (e.g. prefix the recorder)")
        first = stems.setdefault(p.stem, p)
        if first != p:
            raise ValueError(f"{first} and {p} share the name {p.stem!r} but for the extension, and the Raven and "
                             "Audacity files, plots and labels name a recording without it; rename one of them")


def _unquoted_space_hint(names: list[str]) -> str | None:
    if all(Path(n).exists() for n in names):  # the usual case, thousands of files from a glob: one look each
        return None
    for i in range(len(names)):
        for j in range(i + 2, len(names) + 1):
            joined = " ".join(names[i:j])
            if Path(joined).exists() and not all(Path(n).exists() for n in names[i:j]):
                parts = " and ".join(repr(n) for n in names[i:j])
                return f'{parts}: no such files, but together they name "{joined}"; quote a path with spaces in it'
    return None


def _check_file(path: Path) -> None:
    if not path.exists():
        if path.is_symlink():
            raise AudioDecodeError(path, f"a link to {os.readlink(path)}, which does not exist")
        raise AudioDecodeError(path, "no such file")
    if path.is_dir():
        raise AudioDecodeError(path, "is a folder, not an audio file")
    if path.stat().st_size == 0:
        raise AudioDecodeError(path, "empty file (0 bytes)")


def _open_soundfile(path: Path):
    import soundfile as sf

    _check_file(path)
    try:
        return sf.SoundFile(str(path))
    except (sf.LibsndfileError, RuntimeError, TypeError) as err:
        # libsndfile's words for a file it cannot identify ("File does not exist or is not a regular
        # file (possibly a pipe?)", "Format not recognised") are wrong for a file that exists, the
        # only kind that gets here; its other messages ("No 'data' chunk") say what is wrong.
        reason = str(err)
        if "does not exist" in reason or "not recognised" in reason or not reason.strip():
            raise AudioDecodeError(path, "not an audio file (or a format libsndfile cannot read)") from None
        raise AudioDecodeError(path, f"not a readable audio file ({reason.strip()})") from None


def warn_low_rates(paths: list[Path], band_top_hz: float) -> None:
    """One AudioWarning naming the files recorded at less than twice `band_top_hz` (the top of a model's band).

    Above half its rate such a file holds nothing, so part of the band the model listens to is empty: models
    trained before the negative bank's `low_rate` kind took that edge for a call, those trained with it take it
    for no call, so calls there may be missed (docs/not-a-call.md, "Recordings made at a low rate"). Reads headers only (a
    tenth of a millisecond per MP3); a file whose header cannot be read is left to the decoding that reports it.
    """
    low = []
    for path in paths:
        try:
            with _open_soundfile(Path(path)) as f:
                if f.samplerate < 2 * band_top_hz:
                    low.append(f"{path} ({f.samplerate} Hz)")
        except AudioDecodeError:
            continue
    if low:
        shown = ", ".join(low[:3]) + (f" and {len(low) - 3} more" if len(low) > 3 else "")
        warnings.warn(AudioWarning(f"{len(low)} recording(s) sampled below {2 * band_top_hz:g} Hz, so empty in the "
                                   f"model's band above half their rate (it reaches {band_top_hz:g} Hz): their "
                                   f"counts are unreliable: {shown}"), stacklevel=2)


def audio_duration_s(path: str | os.PathLike) -> float:
    """Duration from the file header, without decoding the samples."""
    path = Path(path)
    with _open_soundfile(path) as f:
        if f.frames <= 0 or f.samplerate <= 0:
            raise AudioDecodeError(path, "contains no audio samples")
        return f.frames / f.samplerate


def stream_audio(
    path: str | os.PathLike,
    sample_rate_hz: int = DEFAULT_SAMPLE_RATE_HZ,
    block_s: float = STREAM_BLOCK_S,
) -> Iterator[np.ndarray]:
    """Yield consecutive mono float32 blocks at `sample_rate_hz` (about `block_s` seconds each).

    Concatenated, the blocks equal `decode_audio(path, sample_rate_hz)`. Channels are averaged.
    """
    import soundfile as sf
    import soxr

    path = Path(path)
    with _open_soundfile(path) as f:
        rate_in = f.samplerate
        declared = f.frames  # from the header; a truncated file delivers fewer
        check = _may_hold_nonfinite(f)
        resampler = None if rate_in == sample_rate_hz else soxr.ResampleStream(rate_in, sample_rate_hz, 1, dtype="float32")
        n_out = n_in = 0
        try:
            while True:
                block = _read_on(f, max(1, int(block_s * rate_in)))
                if check:
                    _require_finite(path, block, n_in, rate_in)
                n_in += len(block)
                last = len(block) == 0
                mono = _mono(block)
                out = mono if resampler is None else resampler.resample_chunk(mono, last=last)
                if len(out):
                    n_out += len(out)
                    yield out
                if last:
                    break
        except sf.LibsndfileError as err:
            raise AudioDecodeError(path, f"decoding failed part-way ({err}); the file may be truncated") from None
    if n_out == 0:
        raise AudioDecodeError(path, "contains no audio samples")
    if declared > 0 and n_in < declared - max(rate_in, 0.01 * declared):  # more than 1 s and 1% short
        warnings.warn(AudioWarning(f"{path}: truncated: read {n_in / rate_in:.1f} s of the {declared / rate_in:.1f} s "
                                   "its header declares; used what was read"), stacklevel=2)


def _read_on(f, frames: int) -> np.ndarray:
    """Up to `frames` float32 frames [n, channels] from where an open SoundFile stands, read on without a seek.

    python-soundfile's `read` seeks to where it already is after every read, and on MP3 libsndfile's seek
    restarts mpg123, which then decodes the next frames without their bit reservoir ("part2_3_length too
    large"): a 22.05 kHz MP3 read 10 s at a time had clicks of up to 0.31 at every block boundary (6,106
    samples off in 3 minutes), where the whole file read at once matched tensorflow-io's decoder to 4e-7.
    So the read is libsndfile's own call, and the file is never seeked while it streams (tests hold an MP3
    streamed in blocks equal to it read whole). Falls back to `read` where python-soundfile's internals differ.
    """
    import soundfile as sf

    lib, ffi, handle = getattr(sf, "_snd", None), getattr(sf, "_ffi", None), getattr(f, "_file", None)
    if lib is None or ffi is None or handle is None:
        return f.read(frames, dtype="float32", always_2d=True)
    out = np.empty((frames, f.channels), np.float32)
    n = lib.sf_readf_float(handle, ffi.cast("float *", out.ctypes.data), frames)
    code = lib.sf_error(handle)
    if code:
        raise sf.LibsndfileError(code)
    return out[:n]


def read_stretch(path: str | os.PathLike, start_s: float, end_s: float,
                 sample_rate_hz: int = DEFAULT_SAMPLE_RATE_HZ) -> np.ndarray:
    """Mono float32 samples at `sample_rate_hz` from `start_s` to `end_s` (clipped to the file), read by
    seeking: showing ten seconds of a twelve-hour recording does not decode the twelve hours."""
    import soundfile as sf
    import soxr

    path = Path(path)
    with _open_soundfile(path) as f:
        rate_in, check = f.samplerate, _may_hold_nonfinite(f)
        first = max(0, int(round(start_s * rate_in)))
        try:
            f.seek(min(first, max(f.frames, 0)))
            block = f.read(max(0, int(round(end_s * rate_in)) - first), dtype="float32", always_2d=True)
        except (sf.LibsndfileError, RuntimeError) as err:
            raise AudioDecodeError(path, f"could not read {start_s:.2f}-{end_s:.2f} s ({err})") from None
    if check:
        _require_finite(path, block, first, rate_in)
    mono = _mono(block)
    return mono if rate_in == sample_rate_hz else soxr.resample(mono, rate_in, sample_rate_hz).astype(np.float32)


def _mono(block: np.ndarray) -> np.ndarray:
    """[frames, channels] -> [frames] float32, channels averaged (the one down-mix, everywhere).

    Added a channel at a time: `block.mean(axis=1)` over a minute of 48 kHz stereo took as long as
    decoding it (0.17-0.21 s against 0.01-0.04 s); the values are the mean's, bit for bit up to seven channels.
    """
    channels = block.shape[1]
    if channels == 1:
        return block[:, 0].astype(np.float32, copy=True)
    mono = np.add(block[:, 0], block[:, 1], dtype=np.float32)  # no copy of the first channel first
    for channel in range(2, channels):
        mono += block[:, channel]
    mono /= np.float32(channels)
    return mono


def _may_hold_nonfinite(f) -> bool:
    """Whether an open SoundFile stores floating-point samples, the only kind that can be NaN or infinite:
    integer PCM and the lossy codecs (MP3, Vorbis, Opus) decode from finite numbers, and checking their
    samples was 7% of decoding an MP3 (README, "Throughput")."""
    return f.subtype in ("FLOAT", "DOUBLE")


def _require_finite(path: Path, block: np.ndarray, offset: int, rate: int) -> None:
    """Stop on NaN or infinite samples (only float files hold them), saying how many and where.

    Skipped rather than repaired: a writer that stored NaN has broken the stretch around it too, and
    zeros in its place would be digital silence that was never recorded.
    """
    if np.isfinite(block.sum(dtype=np.float64)):  # one pass, no temporaries: a NaN or inf makes the sum one
        return
    bad = ~np.isfinite(block).all(axis=1)
    if bad.any():
        where = np.flatnonzero(bad)
        nan = int(np.isnan(block[where]).any(axis=1).sum())
        raise AudioDecodeError(path, f"{len(where)} sample(s) are NaN ({nan}) or infinite ({len(where) - nan}), "
                               f"the first at {(offset + where[0]) / rate:.3f} s (a float file its "
                               "writer damaged: re-export it, or cut that stretch out)")


def decode_audio(
    path: str | os.PathLike,
    sample_rate_hz: int = DEFAULT_SAMPLE_RATE_HZ,
    backend: str = "soundfile",
) -> np.ndarray:
    """Whole file as mono float32 at `sample_rate_hz`, decoded by `backend` ("soundfile" or "tfio")."""
    if backend == "soundfile":
        return np.concatenate(list(stream_audio(path, sample_rate_hz)))
    if backend == "tfio":
        return _decode_tfio(Path(path), sample_rate_hz)
    raise ValueError(f"unknown decoder backend {backend!r}; choose one of {DECODER_BACKENDS}")


def require_decoder(backend: str) -> None:
    """Fail in one line, before any work, when `backend` is unknown or cannot load here."""
    if backend not in DECODER_BACKENDS:
        raise ValueError(f"unknown decoder backend {backend!r}; choose one of {DECODER_BACKENDS}")
    if backend == "tfio":
        _import_tfio()


def _import_tfio():
    try:
        import tensorflow_io as tfio

        tfio.audio.resample  # noqa: B018 - touching the op library is what fails on a newer TensorFlow
    except Exception as err:  # ImportError when absent; NotImplementedError/NotFoundError on a TF it was not built for
        import tensorflow as tf

        reason = "is not installed" if isinstance(err, ImportError) else f"does not load with TensorFlow {tf.__version__}"
        raise ValueError(f"--decoder tfio needs tensorflow-io, which {reason}; it works with TensorFlow 2.16 only: "
                         "`make venv-tfio` (or `pip install -r requirements-tfio.txt` in a fresh environment), "
                         "or use the default decoder (soundfile)") from None
    return tfio


def _decode_tfio(path: Path, sample_rate_hz: int) -> np.ndarray:
    import tensorflow as tf

    tfio = _import_tfio()
    _check_file(path)
    try:
        audio = tfio.audio.AudioIOTensor(str(path))
        rate_in = int(audio.rate.numpy())
        samples = tf.cast(audio.to_tensor(), tf.float32)
    except Exception as err:  # tfio raises many unrelated types for unreadable input
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise AudioDecodeError(path, f"tensorflow-io cannot decode it ({reason})") from None
    if audio.dtype == tf.int16:
        samples = samples / 32768.0
    elif audio.dtype == tf.int32:
        samples = samples / 2147483648.0
    mono = tf.reduce_mean(samples, axis=1) if samples.shape.rank == 2 else samples
    if int(tf.size(mono)) == 0:
        raise AudioDecodeError(path, "contains no audio samples")
    if rate_in == sample_rate_hz:
        return mono.numpy()
    n_out = int(round(int(tf.size(mono)) * sample_rate_hz / rate_in))
    delay = _TFIO_RESAMPLE_DELAY * max(1, sample_rate_hz // rate_in)
    padded = tf.concat([mono, tf.zeros([delay * rate_in // sample_rate_hz + 1], tf.float32)], axis=0)
    out = tfio.audio.resample(padded, rate_in=rate_in, rate_out=sample_rate_hz)
    return out.numpy()[delay : delay + n_out]
