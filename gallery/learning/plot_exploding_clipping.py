"""
Exploding gradients and clipping
================================

A recurrent network whose weights stretch the state too much: without
clipping its training blows up; with the gradient norm clipped at 1 it learns.
This is the first of the five seeds of the chapter, with the same settings.
(Chapter: :ref:`vanishing-gradients`.)
"""

# %%
# The task and the network
# ------------------------
# The adding problem with sequences of 10 steps: add the two marked numbers.
# The recurrent weights start at 1.5 times a random rotation, so every step
# stretches the gradient by up to 1.5.
import matplotlib.pyplot as plt
import numpy as np

from rnnbook import SGD
from rnnbook.analysis.adding import memoryless_mse
from rnnbook.analysis.gradients import random_orthogonal
from rnnbook.data.synthetic import adding_problem
from rnnbook.models.regressor import SequenceRegressor
from rnnbook.training.loop import train_regressor

x_train, y_train = adding_problem(2000, 10, rng=1)
x_test, y_test = adding_problem(500, 10, rng=2)
seed = 0


def exploding_model(seed):
    model = SequenceRegressor(2, 32, rng=seed)
    model.params["rnn.weight_hh"][...] = 1.5 * random_orthogonal(32, rng=seed + 100)
    return model


# %%
# Train twice
# -----------
# Same model, data and learning rate (plain stochastic gradient descent, so a
# clipped step is never longer than the learning rate times the threshold);
# the only difference is ``max_norm``.
# :func:`rnnbook.training.loop.train_regressor` records every gradient norm and stops
# cleanly when the loss or gradient stops being a finite number.
logs = {}
baseline = memoryless_mse(10)  # the best answer without memory: it sees only the last step
for max_norm in (None, 1.0):
    model = exploding_model(seed)
    log = train_regressor(model, x_train, y_train, SGD(0.1), epochs=20, batch_size=20, rng=seed, max_norm=max_norm)
    logs[max_norm] = log
    if log.diverged:
        print(f"max_norm={max_norm}: diverged after {len(log.losses)} steps")
    else:
        mse = np.mean((model.predict(x_test) - y_test) ** 2)
        print(f"max_norm={max_norm}: test MSE {mse:.4f} (best memoryless answer: {baseline:.3f})")

# %%
# Plot loss and gradient norm
# ---------------------------
# The unclipped run leaves the top of the plot long before it overflows.
fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
for max_norm, color, label in [(None, "#d95f02", "no clipping"), (1.0, "#1b9e77", "clipped at 1")]:
    log = logs[max_norm]
    for ax, values in zip(axes, (log.losses, log.grad_norms), strict=True):
        values = np.array(values)
        # values near the float64 limit are far above the plot; cap them so the log scale need not overflow
        ax.plot(np.where(np.isfinite(values), np.minimum(values, 1e30), np.nan), color=color, lw=0.8, label=label)
axes[0].axhline(baseline, color="black", ls="--", lw=1, label="best memoryless answer")
for ax, name in zip(axes, ("training loss", "gradient norm (before clipping)"), strict=True):
    ax.set_yscale("log")
    ax.set_ylim(1e-2, 1e8)
    ax.set_xlabel("training step")
    ax.set_ylabel(name)
axes[0].legend()
fig.tight_layout()
plt.show()
