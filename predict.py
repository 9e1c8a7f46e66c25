"""Score audio clips: one row per file (file, probability, label). See README.md."""

import argparse
import sys

from model import cli


def main() -> int:
    from data_pipeline.audio.decoding import audio_inputs, warn_low_rates
    from model.detection.detector import load_detector
    from model.detection.prediction import predict_files
    from model.detection.run_folder import latest_run
    from model.outputs import atomic_write_csv

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("paths", nargs="+", help="audio files or folders of them")
    p.add_argument("--model", nargs="+", help="run folder of a trained model (default: newest under runs/); several: "
                                             "their probabilities are averaged (same front end and classes)")
    p.add_argument("--output", type=cli.file_to_write, help="CSV to write (default: print to stdout)")
    args = p.parse_args()

    paths = audio_inputs(args.paths)
    detector = load_detector(args.model or latest_run())
    warn_low_rates(paths, detector.frontend.band_hz[1])
    table, failures = predict_files(detector, paths)
    if failures and not len(table):  # an earlier --output stays as it was
        raise ValueError(f"none of the {len(paths)} file(s) could be read, so nothing was written: "
                         + "; ".join(failures[:3]) + (" ..." if len(failures) > 3 else ""))
    if args.output:
        atomic_write_csv(args.output, table)
        print(f"wrote {args.output} ({len(table)} files)", file=sys.stderr)
    else:
        table.to_csv(sys.stdout, index=False)
    for line in failures:
        print(f"skipped: {line}", file=sys.stderr)
    print(f"{len(paths) - len(failures)} file(s) scored, {len(failures)} skipped", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    cli.run(main)
