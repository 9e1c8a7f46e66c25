"""Check that the network trains on another Keras backend (the model holds only Keras layers).

    KERAS_BACKEND=torch python benchmarks/backend_check.py     # in an environment with torch and keras
    KERAS_BACKEND=jax   python benchmarks/backend_check.py     # with jax and keras

Trains the compact network for 4 epochs on random spectrograms where every positive has a bright
patch; prints the backend, the loss per epoch and the final accuracy (it should reach 1.0).
Needs only keras, numpy and the backend: not TensorFlow.
"""

import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
import keras
import numpy as np

from data_pipeline.features.frontend import FrontendConfig
from model.learning.networks import build_model

print("keras", keras.__version__)
rng = np.random.default_rng(0)
shape = FrontendConfig().input_shape
x = rng.standard_normal((256, *shape)).astype("float32")
y = (np.arange(256) % 2).astype("float32")
x[y == 1, 50:70, 20:40] += 3.0  # a bright patch in the middle of every positive
net = build_model("compact", shape)
net.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy", metrics=["accuracy"])
h = net.fit(x, y, epochs=4, batch_size=32, verbose=0)
print("backend", keras.backend.backend(), "loss", [round(v, 3) for v in h.history["loss"]], "accuracy", round(h.history["accuracy"][-1], 3))
