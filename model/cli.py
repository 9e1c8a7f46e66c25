"""What every top-level script shares: quiet TensorFlow start-up and one-line errors."""

from __future__ import annotations

import os
import sys

# Set before TensorFlow is imported anywhere: hide its C++ start-up chatter (warnings stay visible).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def run(main) -> None:
    """Call `main()`; an expected problem (missing file, bad setting, undecodable audio) exits with
    one line 'error: ...' and status 2 instead of a traceback. `main` returns the exit status."""
    from data_pipeline.audio_io import AudioDecodeError

    try:
        sys.exit(main() or 0)
    except (FileNotFoundError, FileExistsError, NotADirectoryError, ValueError, AudioDecodeError) as err:
        print(f"error: {err}", file=sys.stderr)
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted; no output was left half-written", file=sys.stderr)
        sys.exit(130)
