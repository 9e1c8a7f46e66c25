"""Write the training clips cut from labelled recordings as WAV files in the Kaggle layout, to listen
to or to train other tools on: OUT/Parsed_Capuchinbird_Clips/, OUT/Parsed_Not_Capuchinbird_Clips/.
Clip names are '<recording>-<start in ms>.wav', so clips of one recording share a source group."""

import argparse
from pathlib import Path

from model import cli


def main() -> int:
    from data_pipeline.features.frontend import FrontendConfig
    from data_pipeline.training_data.clips import export_clips, training_clips

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--recordings", nargs="+", required=True, help="long recordings (files or folders)")
    p.add_argument("--labels", required=True, help=cli.LABELS_HELP)
    p.add_argument("--out", required=True, help="output folder")
    args = p.parse_args()
    fe = FrontendConfig()
    clips, _, _ = training_clips(None, args.recordings, args.labels, fe.clip_s)
    counts = export_clips(clips, Path(args.out), fe)
    print(f"wrote {counts} to {args.out}")
    return 0


if __name__ == "__main__":
    cli.run(main)
