"""Ctrl-C in the scripts: how often they end as they should (status 130, the one line last), and how soon.

    .venv/bin/python benchmarks/ctrl_c.py --model RUN_DIR [--tries 60] [--delay-s 0 2] [--seed 4]
        [--checkout . /path/to/another/checkout ...] [--out runs/ctrl-c.csv]
    .venv/bin/python benchmarks/ctrl_c.py --what train [--tries 20] [--delay-s 0 0.5]

Each try starts `count_calls.py` on 16 shared forest recordings and waits for its "model:" line (the model
has loaded; TensorFlow is about to trace the network and decode the first recording), or `train.py` on a
small synthetic dataset and waits for "Epoch 2/"; then waits a random delay, sends SIGINT, and records
the exit status, whether the output ends with "interrupted; ..." and holds no traceback, error or leak
warning, the seconds from SIGINT to exit, and where a Ctrl-C was raised that library code dropped and
`model.interrupts` raised again (`dropped_at`; the scripts say so under its debug variable, which this
sets). A process still running 40 s later is a
hang: its threads' stacks (py-spy, where installed) go into the CSV's `detail` and it is killed. With
several `--checkout`s, each try runs every checkout with the same delay, one after the other, so an old
and a new tree meet the same moments and the same machine load. What goes wrong is rare (5 in 266 counting
tries with the code of 2026-12-04), so compare tens of tries.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
INTERRUPTED = "interrupted; no output was left half-written"
DEBUG_VARIABLE = "CAPUCHINBIRD_DEBUG_INTERRUPTS"  # model.interrupts; not imported: a --checkout may predate it


def command(what: str, checkout: Path, model: Path | None, recordings: list[Path], work: Path) -> tuple[list[str], bytes]:
    """The script to interrupt, and the output after which the Ctrl-C's delay starts."""
    if what == "count":
        return [sys.executable, str(checkout / "count_calls.py"), "--input", *map(str, recordings), "--model", str(model),
                "--output", str(work / "counts.csv"), "--fresh", "--export"], b"model:"
    return [sys.executable, str(checkout / "train.py"), "--data-dir", str(work / "demo"), "--epochs", "50",
            "--negative-bank-per-kind", "0", "--hard-negative-pool-per-kind", "0", "--run-dir", str(work / "run")], b"Epoch 2/"


def one_try(args: list[str], marker: bytes | None, delay_s: float, work: Path) -> dict:
    # Python's own SIGINT handler in the child, as from a terminal, even where this runs under nohup.
    proc = subprocess.Popen(args, cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env={"PYTHONFAULTHANDLER": "1", DEBUG_VARIABLE: "1", **os.environ},
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    seen = b""
    while marker is not None and marker not in seen and (chunk := proc.stdout.read1(4096)):
        seen += chunk
    time.sleep(delay_s)
    proc.send_signal(signal.SIGINT)
    sent = time.monotonic()
    try:
        rest = proc.communicate(timeout=40)[0]
        status, stop_s, detail = proc.returncode, time.monotonic() - sent, ""
    except subprocess.TimeoutExpired:
        spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
        dump = None
        if Path(spy).exists():
            dump = subprocess.run([spy, "dump", "--pid", str(proc.pid)], capture_output=True, text=True)
        proc.kill()
        rest = proc.communicate()[0]
        status, stop_s, detail = "hang", None, dump.stdout if dump else ""
    lines = [line for line in (seen + rest).decode(errors="replace").replace("\r", "\n").splitlines() if line.strip()]
    # endswith: a Ctrl-C can land between a print's text and its newline, and the one line then joins it.
    clean = (status == 130 and bool(lines) and lines[-1].endswith(INTERRUPTED)
             and not any(word in line for line in lines for word in ("Traceback", "Error", "Exception", "leaked")))
    shutil.rmtree(work / "counts_parts", ignore_errors=True)
    shutil.rmtree(work / "run", ignore_errors=True)
    (work / "counts.csv").unlink(missing_ok=True)
    dropped = [line.split(" raised at ")[1].split(" was dropped")[0] for line in lines if " was dropped there)" in line]
    return {"status": status, "clean": clean, "stop_s": stop_s, "dropped_at": " ".join(dropped),
            "detail": detail or ("" if clean else "\n".join(lines[-15:]))}


def main() -> None:
    import pandas as pd

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--what", choices=["count", "train"], default="count",
                   help="count_calls.py on 16 shared recordings (default), or train.py on a small synthetic dataset")
    p.add_argument("--model", help="trained run folder (for --what count)")
    p.add_argument("--shared", default=str(ROOT.parent / "shared"))
    p.add_argument("--tries", type=int, default=60)
    p.add_argument("--delay-s", type=float, nargs=2, default=[0.0, 2.0], metavar=("FROM", "TO"),
                   help="SIGINT this long after the model line, drawn uniformly (default: 0 2)")
    p.add_argument("--from-start", action="store_true",
                   help="count the delay from the script's start (imports, loading) instead of from the marker")
    p.add_argument("--seed", type=int, default=4)
    p.add_argument("--checkout", nargs="+", default=[str(ROOT)], help="checkouts to compare (default: this one)")
    p.add_argument("--out", default="runs/ctrl-c.csv")
    args = p.parse_args()
    if args.tries < 1 or not 0 <= args.delay_s[0] <= args.delay_s[1]:
        raise ValueError("--tries must be >= 1 and --delay-s FROM TO with 0 <= FROM <= TO")
    # 16: with the first recordings decoded during start-up, 8 were counted 1.2-1.4 s after the "model:" line, and
    # a Ctrl-C sent later (the default delays reach 2 s) found the run finished (status 0, 2026-12-05).
    recordings = sorted(Path(args.shared, "forest").glob("recording_*.mp3"))[:16]
    if args.what == "count" and not recordings:
        raise FileNotFoundError(f"no forest recordings in {args.shared}/forest")
    model = Path(args.model).resolve() if args.model else None  # the tries run in a scratch folder
    if args.what == "count" and (model is None or not (model / "detector.json").exists()):
        raise FileNotFoundError(f"--model {args.model}: give a trained run folder (one with detector.json) to count with")
    checkouts = [Path(c).resolve() for c in args.checkout]
    rng = random.Random(args.seed)
    rows = []
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch)
        if args.what == "train":  # 4 recordings of 60 s and their clips: an epoch takes seconds
            subprocess.run([sys.executable, "-m", "data_pipeline.synthetic", "--out", str(work / "demo"), "--recordings", "4",
                            "--recording-s", "60"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
        for i in range(args.tries):
            delay = rng.uniform(*args.delay_s)
            for checkout in checkouts:
                script, marker = command(args.what, checkout, model, recordings, work)
                rows.append({"try": i, "checkout": str(checkout), "delay_s": round(delay, 3),
                             **one_try(script, None if args.from_start else marker, delay, work)})
                r = rows[-1]
                print(f"{i} {checkout}: delay {delay:.2f} s, status {r['status']}, "
                      f"{'clean' if r['clean'] else 'NOT CLEAN'}, stopped after {r['stop_s'] or float('nan'):.2f} s"
                      + (f", a dropped Ctrl-C raised again (raised at {r['dropped_at']})" if r["dropped_at"] else ""), flush=True)
    table = pd.DataFrame(rows)
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    table.to_csv(args.out, index=False)
    print("| checkout | tries | clean | not clean (status) | dropped and raised again | seconds to stop: median, max |")
    print("|---|---|---|---|---|---|")
    for checkout, t in table.groupby("checkout", sort=False):
        stops = t["stop_s"].dropna()
        bad = ", ".join(str(s) for s in t.loc[~t["clean"], "status"]) or "-"
        print(f"| {checkout} | {len(t)} | {int(t['clean'].sum())} | {bad} | {int((t['dropped_at'] != '').sum())} | "
              f"{statistics.median(stops):.2f}, {stops.max():.2f} |")
    print(f"{time.strftime('%Y-%m-%d')}; {args.out}")


if __name__ == "__main__":
    from model import cli

    cli.run(main)
