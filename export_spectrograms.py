"""Write spectrogram PNGs of audio files, exactly as a model's (or a preset's) front end computes
them: OUT/<file>.png per file, or OUT/<file>_<start>s.png per model window with --windows."""

import argparse
import sys

from model import cli


def main() -> int:
    from data_pipeline.audio.decoding import audio_inputs
    from model.detection.detector import Detector
    from model.learning.presets import PRESETS, get_preset
    from model.reporting.spectrogram_export import export_spectrograms

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("paths", nargs="+", help="audio files or folders of them")
    p.add_argument("--out", required=True, help="output folder")
    source = p.add_mutually_exclusive_group()
    source.add_argument("--model", help="run folder of a trained model: use its front end")
    source.add_argument("--preset", default="capuchinbird", choices=sorted(PRESETS), help="use this preset's front end")
    p.add_argument("--cmap", default="gray", help="matplotlib colour map (gray, magma, viridis, ...)")
    p.add_argument("--windows", action="store_true", help="one image per model window (the model's exact inputs)")
    p.add_argument("--hop-s", type=float, help="with --windows: seconds between windows (default: one clip)")
    args = p.parse_args()

    paths = audio_inputs(args.paths)
    frontend = Detector.load(args.model).frontend if args.model else get_preset(args.preset).frontend
    written, failures = export_spectrograms(paths, args.out, frontend, args.cmap, args.windows, args.hop_s)
    print(f"wrote {len(written)} images to {args.out}")
    for line in failures:
        print(f"failed: {line}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    cli.run(main)
