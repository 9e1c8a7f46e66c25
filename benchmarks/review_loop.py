"""One round of the review loop (count, review, retrain) on the shared forest recordings, with a simulated reviewer.

    .venv/bin/python benchmarks/review_loop.py [--labelled 3] [--budgets 10 25 50]
        [--orders score uncertainty random] [--folds 5] [--run-folds 4] [--run-dir runs/review-loop]

The 40 recordings are dealt into folds by background family (as forest_crossval.py does). For each fold
run, its recordings are the test set, never used for anything but the score. Of the other recordings, a
seeded draw (as learning_curve.py draws them) gives the first `--labelled` as fully labelled ones; the
rest are the "unlabelled" pool. A model trains on the labelled recordings, counts the pool
(count_calls.py's outputs), and the review queue is built over that count exactly as review.py builds it
(detections and near misses, in each order). A simulated reviewer answers the first B items from
../shared/forest/calls.csv: an item overlapping a sure call is "yes" with its edges moved to that call,
and the other labelled calls inside it are marked by hand (sure ones as calls, faint ones "unsure"), as
the page asks of a reviewer, since the rest of a decided item trains as background; an item overlapping
only a faint call is "unsure", any other "no" (added calls are not counted in the budget, and are in the
yes / unsure columns). The model is retrained on the labelled
recordings plus the review (train.py --review's conversion) and counts the test fold again.

Prints and writes RUN_DIR/review_loop.csv (event F1, count MAE, precision and recall on the test fold
before and after each budget and order, with how many items were yes / no / unsure and the time a
round took) and review_loop.png. A rerun reuses every model already trained in RUN_DIR where it was trained with the
same settings, and trains again those that were not.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def simulated_decision(item, labels) -> tuple[str, float, float, list[tuple[float, float, str]]]:
    """What a careful reviewer answers for an item, from the hand labels: (decision, start, end, the other
    labelled calls inside the item, which the reviewer marks by hand as the page asks: (start, end, "yes"
    for a sure call or "unsure" for a faint one))."""
    own = labels[(labels["recording"] == item.recording) & (labels["start"] < item.end) & (labels["end"] > item.start)]
    sure = own[own["confidence"] == "sure"]
    if len(sure):
        overlap = sure["end"].clip(upper=item.end) - sure["start"].clip(lower=item.start)
        call = sure.loc[overlap.idxmax()]
        others = [(float(r.start), float(r.end), "yes" if r.confidence == "sure" else "unsure")
                  for r in own.drop(index=call.name).itertuples()]
        return "yes", float(call["start"]), float(call["end"]), others
    return ("unsure" if len(own) else "no"), float(item.start), float(item.end), []


def main() -> None:
    import pandas as pd
    from forest_holdout import (
        background_folds,
        background_group,
        forest_augment,
        forest_clips,
        forest_network,
        reusable_detector,
        trained_with,
    )
    from learning_curve import nested_draw

    from data_pipeline.audio.decoding import list_audio_files
    from data_pipeline.labels.annotations import read_call_labels
    from data_pipeline.labels.class_folders import KAGGLE_CLASSES
    from data_pipeline.labels.review_decisions import clips_from_review, read_review
    from model.detection.counting import count_calls
    from model.detection.detector import Detector
    from model.learning.training import TrainConfig, add_network_arguments, default_frontend, train
    from model.outputs import atomic_save_figure, atomic_write_csv
    from model.reporting.count_report import count_and_report
    from model.reporting.evaluation import evaluate
    from model.reporting.plots import new_figure
    from model.review.queue import ORDERS
    from model.review.session import ReviewSession

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--shared", default=str(Path(__file__).resolve().parents[2] / "shared"))
    p.add_argument("--run-dir", default="runs/review-loop")
    p.add_argument("--labelled", type=int, default=3, help="fully labelled recordings the first model trains on")
    p.add_argument("--budgets", type=int, nargs="+", default=[10, 25, 50], help="items the reviewer answers")
    p.add_argument("--orders", nargs="+", default=list(ORDERS), choices=ORDERS)
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--run-folds", type=int, nargs="+", default=[4],
                   help="which folds to run (each trains 1 + orders x budgets models)")
    p.add_argument("--seed", type=int, default=0)
    add_network_arguments(p)
    args = p.parse_args()

    forest = Path(args.shared) / "forest"
    labels = read_call_labels(forest / "calls.csv")
    calls_in = labels[labels["confidence"] == "sure"].groupby("recording").size().to_dict()
    recordings = list_audio_files(forest)
    frontend = default_frontend("compact")
    config = TrainConfig(seed=args.seed, split_fractions=(0.8, 0.2, 0.0), verbose=0,
                         network=forest_network(args, frontend, {}), augment=forest_augment(args, frontend))
    fold_of = background_folds(recordings, args.folds, args.seed)
    run_dir, rows, t0 = Path(args.run_dir), [], time.time()

    def score_on(detector, held):
        result = count_calls(detector, held, progress=False)
        _, s = evaluate(result.events, labels, [r.name for r in held])
        return {"f1": s["f1"], "count_mae": s["count_mae"], "precision": s["precision"], "recall": s["recall"]}

    for fold in args.run_folds:
        held = [r for r, f in zip(recordings, fold_of) if f == fold]
        order = nested_draw([r for r, f in zip(recordings, fold_of) if f != fold], calls_in, args.seed + fold)
        labelled, pool = order[: args.labelled], order[args.labelled:]
        base = run_dir / f"fold{fold}"
        start = time.time()
        initial = reusable_detector(labelled, base / "initial", frontend, config) or train(
            forest_clips(labelled, labels, frontend.clip_s), list(KAGGLE_CLASSES), base / "initial", config,
            frontend=frontend, labels=labels)
        train_s = time.time() - start
        start = time.time()
        count_and_report(initial, pool, base / "pool" / "counts.csv", export=())
        count_s = time.time() - start
        before = score_on(initial, held)
        rows.append({"fold": fold, "order": "before review", "budget": 0, **before, "train_s": round(train_s)})
        print(f"fold {fold}: {len(labelled)} labelled recordings ({sum(calls_in.get(r.name, 0) for r in labelled)} calls), "
              f"pool of {len(pool)} counted in {count_s:.0f} s; before review: F1 {before['f1']:.3f}, "
              f"count MAE {before['count_mae']:.3f}", flush=True)
        for queue_order in args.orders:
            for budget in args.budgets:
                folder = base / f"{queue_order}-{budget}"
                start = time.time()
                output = folder / "counts.csv"
                folder.mkdir(parents=True, exist_ok=True)  # each review works on a copy of the pool's count
                shutil.copy(base / "pool" / "counts_events.csv", folder)
                shutil.copytree(base / "pool" / "counts_parts", folder / "counts_parts", dirs_exist_ok=True)
                session = ReviewSession(initial, pool, output, order=queue_order, seed=args.seed)
                queue = session.queue().head(budget)
                for item in queue.itertuples():
                    decision, s, e, others = simulated_decision(item, labels)
                    session.store.decide(int(item.id), decision, int(item.version), s, e)
                    for call_start, call_end, mark in others:  # a long item holding more calls: each marked by hand
                        added = session.store.add_call(item.recording, call_start, call_end)
                        if mark == "unsure":
                            session.store.decide(added["id"], "unsure", added["version"])
                session.export()
                review = read_review(folder / "counts_review.csv")
                review_s = time.time() - start
                if (folder / "model" / "detector.json").exists() and trained_with(folder / "model", config):
                    detector, retrain_s = Detector.load(folder / "model"), None  # reused: no time to report
                else:
                    start = time.time()
                    extra = clips_from_review({r.name: r for r in pool}, review, frontend.clip_s)
                    clips = pd.concat([forest_clips(labelled, labels, frontend.clip_s),
                                       extra.assign(group=extra["group"].map(background_group))], ignore_index=True)
                    detector = train(clips, list(KAGGLE_CLASSES), folder / "model", config, frontend=frontend,
                                     labels=labels[labels["recording"].isin({r.name for r in labelled})])
                    retrain_s = time.time() - start
                after = score_on(detector, held)
                counts = review["decision"].value_counts()
                rows.append({"fold": fold, "order": queue_order, "budget": budget, **after,
                             "yes": int(counts.get("yes", 0)), "no": int(counts.get("no", 0)),
                             "unsure": int(counts.get("unsure", 0)), "train_s": retrain_s and round(retrain_s),
                             "round_s": retrain_s and round(count_s + review_s + retrain_s)})
                took = f"; retrained in {retrain_s:.0f} s" if retrain_s else " (model reused)"
                print(f"fold {fold} {queue_order} {budget}: yes {rows[-1]['yes']} no {rows[-1]['no']} unsure "
                      f"{rows[-1]['unsure']}; F1 {after['f1']:.3f}, count MAE {after['count_mae']:.3f}{took}", flush=True)
                atomic_write_csv(run_dir / "review_loop.csv", pd.DataFrame(rows))  # kept if a long run is stopped

    table = pd.DataFrame(rows)
    fig, ax = new_figure(figsize=(6, 4))
    for queue_order in args.orders:
        mine = table[table["order"] == queue_order].groupby("budget")["f1"].mean()
        ax.plot(mine.index, mine.values, "o-", label=queue_order)
    ax.axhline(table[table["order"] == "before review"]["f1"].mean(), color="grey", ls="--", label="before review")
    ax.set(xlabel="items reviewed", ylabel="event F1 on unheard recordings", title="one review round")
    ax.legend()
    atomic_save_figure(run_dir / "review_loop.png", fig)
    print(table.round(3).to_string(index=False))
    print(f"{(time.time() - t0) / 60:.1f} min; {os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}")


if __name__ == "__main__":
    from model import cli

    cli.run(main)  # one-line errors; the MP3 decoder's chatter dropped
