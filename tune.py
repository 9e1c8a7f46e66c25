"""Sweep front-end and network settings with keras-tuner; the best becomes best.json. See README.md."""

import argparse
import contextlib

from model import cli


def parse_duration_s(text: str) -> float:
    """'1800', '30m' or '1.5h' -> seconds (an argparse type: a bad value is a one-line usage error)."""
    scale = {"s": 1, "m": 60, "h": 3600}.get(text[-1:].lower())
    try:
        seconds = float(text[:-1]) * scale if scale else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a duration: give seconds or a number with s, m or h") from None
    if not seconds >= 0:
        raise argparse.ArgumentTypeError(f"a duration is 0 or more, got {text!r}")
    return seconds


def main() -> int:
    from data_pipeline.training_data.clips import training_clips
    from model.learning.sweep_settings import (
        OBJECTIVE,
        TUNERS,
        check_sweep_settings,
        distributed_role,
        is_worker,
        wait_for_chief,
    )

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--data-dir", help="two classes of labelled files: the Kaggle layout, a folder per class, a CSV "
                                      "(default: data, unless --recordings is given)")
    p.add_argument("--recordings", nargs="+", help="long recordings with calls labelled in --labels")
    p.add_argument("--labels", help=cli.LABELS_HELP + ", of the --recordings")
    p.add_argument("--out", default="runs/sweep", help="sweep folder (default: runs/sweep)")
    p.add_argument("--tuner", default="hyperband", choices=TUNERS)
    p.add_argument("--max-trials", type=int, default=20)
    p.add_argument("--max-epochs", type=int, default=10, help="epochs of the longest trial")
    p.add_argument("--time-budget", type=parse_duration_s, help="stop starting trials after this long: 1800, 30m, 1.5h")
    p.add_argument("--resume", action="store_true", help="continue the sweep in --out after an interrupt")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--chief-wait", type=parse_duration_s, default=1800.0,
                   help="distributed: how long a worker waits for its chief to answer, at the start and at every "
                        "request after, before stopping with one line (default 30m)")
    p.add_argument("--worker-silence", type=parse_duration_s, default=300.0,
                   help="distributed, for the chief: a worker not heard from for this long (workers speak every "
                        "2 s) is taken for lost, and any trial it held goes to the next worker that asks "
                        "(default 5m; 0: wait for ever)")
    p.epilog = ("Distributed (README, 'Sweeps and TensorBoard'): the same command in a chief and any number of "
                "workers, with KERASTUNER_TUNER_ID=chief|tuner0|tuner1|..., KERASTUNER_ORACLE_IP and KERASTUNER_ORACLE_PORT set.")
    args = p.parse_args()
    role = distributed_role()  # a half-set distributed environment stops here, before any data is read
    check_sweep_settings(args.out, args.tuner, args.max_trials, args.max_epochs, args.time_budget, args.resume,
                         args.worker_silence)
    if is_worker(role):
        print(f"tuner {role}: waiting up to {args.chief_wait:g} s for the chief", flush=True)
        wait_for_chief(args.chief_wait)

    _, classes, _ = training_clips(args.data_dir, args.recordings, args.labels, 3.0)
    from model.learning.distributed_sweep import chief_answers_within  # keras-tuner and TensorFlow: once the data is read
    from model.learning.sweep import run_sweep

    with chief_answers_within(args.chief_wait) if is_worker(role) else contextlib.nullcontext():
        table = run_sweep(lambda clip_s: training_clips(args.data_dir, args.recordings, args.labels, clip_s)[0], classes,
                          args.out, args.tuner, args.max_trials, args.max_epochs, args.time_budget, args.resume, args.seed,
                          args.worker_silence)
    if table is None:
        print(f"tuner {role}: no trials left; the chief writes {args.out}/trials.csv and best.json")
        return 0
    print(table.head(10).to_string(index=False))
    print(f"{len(table)} trials by {OBJECTIVE}, best first: {args.out}/trials.csv; retrain the best with "
          f"`python train.py --config {args.out}/best.json ...`; watch with `tensorboard --logdir {args.out}/logs`")
    return 0


if __name__ == "__main__":
    cli.run(main)
