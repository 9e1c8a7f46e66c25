"""Count calls in long recordings and write the submission CSV. See README.md."""

import argparse
import contextlib
import sys
from functools import partial
from pathlib import Path

from model import cli


def main() -> int:
    # Only what is light before the recordings start decoding (StartupDecoder); the rest below.
    from data_pipeline.audio.decoding import audio_inputs, require_unique_names, warn_low_rates
    from data_pipeline.audio.startup_decoding import StartupDecoder
    from data_pipeline.labels.class_folders import KAGGLE_RECORDINGS_DIR
    from model.detection.run_folder import latest_run, saved_frontend, trained_run_folder
    from model.reporting.kaggle_submission import SUBMISSION_FORMATS

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--input", nargs="+", default=[f"data/{KAGGLE_RECORDINGS_DIR}"],
                   help='recordings or folders of them (default: "data/Forest Recordings")')
    p.add_argument("--model", nargs="+", help="run folder of a trained model (default: newest under runs/); several: "
                                             "their window scores are averaged (same front end; README)")
    p.add_argument("--output", default="submission.csv", type=cli.file_to_write, help="submission CSV (default: submission.csv)")
    p.add_argument("--events", type=cli.file_to_write, help="events CSV, one row per call (default: <output>_events.csv)")
    p.add_argument("--format", default="clip_name,call_count", choices=list(SUBMISSION_FORMATS),
                   help="submission header (default: clip_name,call_count)")
    p.add_argument("--labels", help=cli.LABELS_HELP + ": print event and count scores against them")
    p.add_argument("--export", nargs="*", default=["raven", "audacity"], choices=["raven", "audacity"],
                   help="also write per-recording Raven selection tables / Audacity label tracks (default: both)")
    p.add_argument("--plot-all", action="store_true",
                   help="with --labels: plot every scored recording, not only those with mistakes")
    p.add_argument("--tensorboard", help="also log the counts (table and chart) for TensorBoard into this folder")
    p.add_argument("--fresh", action="store_true",
                   help="rescore every recording; by default a rerun reuses <output>_parts/ from an earlier run "
                        "with the same model and hop")
    p.add_argument("--workers", type=int,
                   help="score on this many local worker processes (Dask) instead of this process")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="score on the workers of a running Dask cluster: its address (tcp://10.0.0.5:8786) or "
                        "scheduler file (README, 'Scaling out')")
    saved = "default: the setting saved with the model"
    p.add_argument("--threshold", type=float, help=f"window score that counts as calling ({saved})")
    p.add_argument("--hop-s", type=float, help=f"step between windows, seconds ({saved})")
    p.add_argument("--min-gap-s", type=float, help=f"runs closer than this are one call ({saved})")
    p.add_argument("--min-call-s", type=float, help=f"shorter calls are dropped ({saved})")
    p.add_argument("--smooth-windows", type=int, help=f"median filter over window scores, odd ({saved})")
    p.add_argument("--max-call-s", type=float, help=f"longer calls are dropped, 0: no limit ({saved})")
    p.add_argument("--max-pulse-spread-db", type=float,
                   help=f"calls that pulse more than this (dB; a trill, not a call) are dropped, 0: no gate ({saved})")
    p.add_argument("--join-within-s", type=float,
                   help=f"two calls that together last at most this are one call, 0: never ({saved})")
    p.add_argument("--min-harmonicity", type=float,
                   help=f"calls with no window this much of a harmonic stack (0-1; a crash or a knock, not a call) are "
                        f"dropped, 0: no gate ({saved})")
    p.add_argument("--max-pitch-glide", type=float, metavar="OCT_PER_S",
                   help=f"calls whose harmonic stack glides faster than this (octaves a second; a moo or a siren, not "
                        f"a Capuchinbird) are dropped, 0: no gate ({saved})")
    args = p.parse_args()
    if args.events is not None and args.events.resolve() == args.output.resolve():
        p.error(f"--events and --output both name {args.output}: the calls would be written over the counts")
    if args.workers is not None and args.scheduler is not None:
        p.error("--workers starts local workers, --scheduler uses a cluster's: give one of them")
    if args.workers is not None or args.scheduler is not None:
        from model.detection.cluster_counting import check_cluster_settings, check_scheduler_listens

        check_cluster_settings(args.workers, args.scheduler)
        if args.scheduler is not None:
            check_scheduler_listens(args.scheduler)

    if args.input == p.get_default("input") and not Path(args.input[0]).exists():
        raise FileNotFoundError(f"{args.input[0]}: no such folder (the default --input: the challenge's recordings "
                                "unzipped into data/); give the recordings to count with --input")
    paths = audio_inputs(args.input)
    require_unique_names(paths)
    output = args.output
    model_dirs = args.model or [latest_run()]
    for model_dir in model_dirs:  # a mistyped --model answers now, not once TensorFlow has loaded
        trained_run_folder(model_dir)
    here = args.workers is None and args.scheduler is None
    frontend = saved_frontend(model_dirs[0]) if here else None
    with StartupDecoder(paths, frontend.sample_rate_hz) if frontend else contextlib.nullcontext() as startup:
        from model.detection.counting import counting_threads
        from model.detection.detector import load_detector
        from model.detection.score_parts import score_here
        from model.reporting.count_report import count_and_report

        if here:
            counting_threads(model_dirs, args.hop_s)  # before TensorFlow runs anything
        detector = load_detector(model_dirs)
        detector.counting = detector.counting.overridden(threshold=args.threshold, hop_s=args.hop_s,
                                                         min_gap_s=args.min_gap_s, min_call_s=args.min_call_s,
                                                         smooth_windows=args.smooth_windows, max_call_s=args.max_call_s,
                                                         max_pulse_spread_db=args.max_pulse_spread_db,
                                                         join_within_s=args.join_within_s,
                                                         min_harmonicity=args.min_harmonicity,
                                                         max_pitch_glide_oct_s=args.max_pitch_glide)
        print(f"model: {' + '.join(map(str, model_dirs))}; counting settings: {detector.counting}", file=sys.stderr)
        warn_low_rates(paths, detector.frontend.band_hz[1])
        report = partial(count_and_report, detector, paths, output, args.events, args.format, args.labels, args.export,
                         args.tensorboard, args.plot_all, args.fresh)
        if here:
            failures, resumed = report(scorer=partial(score_here, startup=startup))
    if not here:
        from model.detection.cluster_counting import DaskScorer, dask_client

        with dask_client(args.workers, args.scheduler) as client:
            failures, resumed = report(scorer=DaskScorer(client, model_dirs))
    for line in failures:
        print(f"skipped: {line}", file=sys.stderr)
    print(f"{len(paths) - len(failures)} recording(s) counted ({resumed} of them resumed from an earlier run), "
          f"{len(failures)} skipped", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    cli.run(main)
