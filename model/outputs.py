"""Writing results people open: atomically (temporary file, then rename), so an interrupted run
never leaves a half-written CSV or PNG, and in the formats other tools read (Raven, Audacity)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _atomic(path: str | os.PathLike, write) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        # mkstemp makes the file private (0600); give it the mode an ordinary write would (0666 less the
        # umask), so colleagues can read a shared submission or plot.
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return _atomic(path, lambda tmp: Path(tmp).write_text(text))


def atomic_save_image(path: str | os.PathLike, image) -> Path:
    """An image array ([rows, columns, RGB(A)], uint8) as a PNG, pixel for pixel."""
    import matplotlib.pyplot as plt

    return _atomic(path, lambda tmp: plt.imsave(tmp, image, format="png"))


def atomic_savez(path: str | os.PathLike, **arrays) -> Path:
    """numpy arrays in one .npz (np.savez through an open file: it adds no second suffix)."""
    import numpy as np

    def write(tmp):
        with open(tmp, "wb") as f:
            np.savez(f, **arrays)

    return _atomic(path, write)


def atomic_write_flac(path: str | os.PathLike, audio, sample_rate_hz: int) -> Path:
    """Mono audio (floats, clipped to -1..1) as 16-bit FLAC."""
    import numpy as np
    import soundfile as sf

    return _atomic(path, lambda tmp: sf.write(tmp, np.clip(audio, -1, 1), sample_rate_hz, format="FLAC",
                                              subtype="PCM_16"))


def atomic_write_csv(path: str | os.PathLike, table: pd.DataFrame, **kwargs) -> Path:
    return _atomic(path, lambda tmp: table.to_csv(tmp, index=False, **kwargs))


def atomic_save_figure(path: str | os.PathLike, figure) -> Path:
    import matplotlib.pyplot as plt

    out = _atomic(path, lambda tmp: figure.savefig(tmp, format=Path(path).suffix.lstrip(".") or "png", dpi=100, bbox_inches="tight"))
    plt.close(figure)
    return out


def write_raven_table(path: str | os.PathLike, events: pd.DataFrame, low_hz: float, high_hz: float) -> Path:
    """Raven selection table (open it in Raven Pro beside the recording; same name stem)."""
    table = pd.DataFrame({
        "Selection": range(1, len(events) + 1), "View": "Spectrogram 1", "Channel": 1,
        "Begin Time (s)": events["start"].round(3).to_numpy(), "End Time (s)": events["end"].round(3).to_numpy(),
        "Low Freq (Hz)": low_hz, "High Freq (Hz)": high_hz, "Score": events["score"].round(4).to_numpy(),
    })
    return atomic_write_csv(path, table, sep="\t")


def write_audacity_labels(path: str | os.PathLike, events: pd.DataFrame, label: str = "call") -> Path:
    """Audacity label track (File > Import > Labels): start, end, text; tab-separated, no header."""
    lines = [f"{r.start:.3f}\t{r.end:.3f}\t{label} {r.score:.2f}\n" for r in events.itertuples()]
    return atomic_write_text(path, "".join(lines))
