"""Review a count in the browser: yes / no / unsure for each detection, near misses and missed calls. See README.md."""

import argparse
import sys
from pathlib import Path

from model import cli


def main() -> int:
    from data_pipeline.audio.decoding import audio_inputs, require_unique_names
    from data_pipeline.labels.class_folders import KAGGLE_RECORDINGS_DIR
    from model.detection.detector import load_detector
    from model.detection.run_folder import latest_run
    from model.review.queue import ORDERS
    from model.review.server import LOOPBACK, ReviewServer
    from model.review.session import ReviewSession

    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--input", nargs="+", default=[f"data/{KAGGLE_RECORDINGS_DIR}"],
                   help="the recordings the count was made on (as given to count_calls.py)")
    p.add_argument("--output", default="submission.csv", help="the count's --output (default: submission.csv)")
    p.add_argument("--model", nargs="+", help="the run folder the count used (default: newest under runs/); "
                                             "the same several, if the count averaged them")
    p.add_argument("--order", default="score", choices=ORDERS,
                   help="review order: highest score first (default: it improved a retrained model most, README), "
                        "closest to the threshold first, or random (a fair sample: precision estimates need it)")
    p.add_argument("--threshold", type=float,
                   help="the threshold the count used, if count_calls.py was given one (default: the model's)")
    p.add_argument("--near-miss-score", type=float,
                   help="offer stretches whose windows reached this score without making a call (default: half the threshold)")
    p.add_argument("--random", type=int, default=0, help="also offer this many random stretches of the rest at the start")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this machine only)")
    p.add_argument("--port", type=int, default=8765, help="port (default: 8765; 0: any free one)")
    args = p.parse_args()
    if not 0 <= args.port <= 65535:
        p.error(f"--port must be between 0 and 65535, got {args.port}")
    if args.random < 0:
        p.error(f"--random is a number of stretches, 0 or more; got {args.random}")

    paths = audio_inputs(args.input)
    require_unique_names(paths)
    detector = load_detector(args.model or [latest_run()])
    detector.counting = detector.counting.overridden(threshold=args.threshold)
    session = ReviewSession(detector, paths, args.output, args.near_miss_score, args.order, args.seed)
    if args.random:
        session.add_random(args.random)
    if args.host not in LOOPBACK:
        print(f"warning: listening on {args.host}: anyone who can reach this machine on port {args.port} "
              "can read these recordings and change the review", file=sys.stderr)
    server = ReviewServer(session, args.host, args.port)
    items = session.store.items()
    print(f"reviewing {len(items)} items ({int(items['decision'].notna().sum())} decided) of {args.output}; "
          f"decisions go to {Path(session.store.path)}", file=sys.stderr)
    print(f"open {server.url}  (Ctrl-C stops; nothing is lost)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:  # the usual way to stop a server: not an error
        pass
    finally:
        server.server_close()
        session.export(figure=True)
    decided = int(session.store.items()["decision"].notna().sum())
    print(f"stopped; {decided} decisions in {session.store.path} and {session.output.stem}_review.csv", file=sys.stderr)
    return 0


if __name__ == "__main__":
    cli.run(main)
