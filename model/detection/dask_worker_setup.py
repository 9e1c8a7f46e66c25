"""What a Dask worker runs as it starts (a Dask preload), so that it counts as the scripts do: Keras starts without
the scikit-learn and matplotlib it would import for nothing (model.cli.KerasWithoutExtras: about 1.1 s of CPU and
80 MB of memory less per worker process). The local workers of `count_calls.py --workers N` run it; workers a user
starts take it with `dask worker ADDRESS --preload model.detection.dask_worker_setup` (README, SLURM example)."""

from model import cli

cli.start_keras_without_extras()
