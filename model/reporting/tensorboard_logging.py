"""What TensorBoard shows beyond Keras' own loss and metric curves, written by one callback.

    SCALARS   learning_rate per epoch (beside Keras' loss, precision, recall, AUC, PR-AUC)
    IMAGES    example spectrograms of each class (at the start); confusion matrix (at the end)
    PR CURVES precision-recall curve of the validation clips (at the end)

and, for a counting run (`log_counts`): TEXT the per-recording counts, IMAGES their bar chart.
"""

from __future__ import annotations

import io
import os

import keras
import numpy as np


def _to_image(figure) -> np.ndarray:
    """A matplotlib figure as a [1, h, w, 4] uint8 batch for tf.summary.image."""
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=80, bbox_inches="tight")
    plt.close(figure)
    import tensorflow as tf

    return tf.image.decode_png(buffer.getvalue(), channels=4)[None]


class TensorBoardExtras(keras.callbacks.Callback):
    """Log examples, learning rate, confusion matrix and PR curve to `log_dir`/validation_extras."""

    def __init__(self, log_dir: str | os.PathLike, x_val: np.ndarray, y_val: np.ndarray, classes: list[str],
                 examples_per_class: int = 4):
        super().__init__()
        import tensorflow as tf

        self.writer = tf.summary.create_file_writer(os.path.join(str(log_dir), "validation_extras"))
        self.x_val, self.y_val, self.classes, self.per_class = x_val, y_val, classes, examples_per_class

    def on_train_begin(self, logs=None):
        import tensorflow as tf

        with self.writer.as_default():
            for index, name in enumerate(self.classes):
                picks = self.x_val[self.y_val == index][: self.per_class]
                if len(picks):
                    # Time left to right, low frequencies at the bottom, scaled per example.
                    images = np.flip(np.transpose(picks, (0, 2, 1)), axis=1)[..., None]
                    lo = images.min(axis=(1, 2, 3), keepdims=True)
                    hi = images.max(axis=(1, 2, 3), keepdims=True)
                    tf.summary.image(f"examples/{name}", (images - lo) / (hi - lo + 1e-9), step=0,
                                     max_outputs=self.per_class)

    def on_epoch_end(self, epoch, logs=None):
        import tensorflow as tf

        with self.writer.as_default():
            tf.summary.scalar("learning_rate", float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate)),
                              step=epoch)

    def on_train_end(self, logs=None):
        import tensorflow as tf
        from tensorboard.plugins.pr_curve import summary as pr_summary

        from model.detection.decisions import as_class_probabilities
        from model.reporting.evaluation import clip_metrics
        from model.reporting.plots import confusion_figure

        probs = as_class_probabilities(self.model.predict(self.x_val, batch_size=256, verbose=0))
        matrix = np.array(clip_metrics(self.y_val, probs, self.classes)["confusion"])
        with self.writer.as_default():
            tf.summary.image("confusion_matrix", _to_image(confusion_figure(matrix, self.classes, "validation clips")),
                             step=0)
            shown = [1] if len(self.classes) == 2 else range(len(self.classes))  # the call class; else one vs rest
            for k in shown:
                name = self.classes[k]
                curve = pr_summary.pb(f"validation_clips/{name}", labels=self.y_val == k,
                                      predictions=probs[:, k].astype(np.float32), num_thresholds=101)
                tf.summary.experimental.write_raw_pb(curve.SerializeToString(), step=0)
        self.writer.flush()


COUNTS_TABLE_TAG = "calls_per_recording/table"
COUNTS_CHART_TAG = "calls_per_recording/chart"


def log_counts(log_dir: str | os.PathLike, counts, figure) -> None:
    """Per-recording counts of a counting run, as a text table and a bar chart, in `log_dir`.

    The two need tags of their own: under one tag TensorBoard files the PNG in the Text tab.
    """
    import tensorflow as tf

    writer = tf.summary.create_file_writer(str(log_dir))
    rows = "\n".join(f"| {r.recording} | {r.call_count} |" for r in counts.itertuples())
    with writer.as_default():
        tf.summary.text(COUNTS_TABLE_TAG, f"| recording | calls |\n|---|---|\n{rows}", step=0)
        tf.summary.image(COUNTS_CHART_TAG, _to_image(figure), step=0)
    writer.flush()
