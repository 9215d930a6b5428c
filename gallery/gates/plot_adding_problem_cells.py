"""
The adding problem: vanilla RNN, LSTM and GRU
=============================================

Three recurrent layers with about the same number of weights (a vanilla RNN
of 34 units, an LSTM of 16, a GRU of 19) learn to add two marked numbers from
sequences of 40 steps, with the same data and the same training. One seed
here; the chapter runs three. (Chapter: :ref:`gates`.)
"""

# %%
# The task
# --------
# Every step shows a random number in [0, 1] and a marker; two steps are
# marked, one in each half, and the target is the sum of the two marked
# numbers. Answering 1 every time, without any memory, scores a mean squared
# error of 1/6: that is the line to beat.
import matplotlib.pyplot as plt
import numpy as np

from rnnbook.analysis.experiments import train_on_lag
from rnnbook.data.synthetic import BASELINE_MSE, adding_problem

x, y = adding_problem(2, 40, rng=0)
marked = np.flatnonzero(x[:, 0, 1])
print(f"sequence 0: marked steps {marked.tolist()}, values {x[marked, 0, 0].round(3).tolist()}, target {y[0]:.3f}")

# %%
# Train the three cells the same way
# ----------------------------------
# Same data, same optimiser (Adam with the gradient norm clipped to 1), same
# number of steps, about the same number of weights: only the recurrent layer
# differs. ``train_on_lag`` draws the data, builds a
# :class:`rnnbook.models.regressor.SequenceRegressor` with the chosen cell and trains it.
settings = dict(n_train=2000, n_test=500, epochs=20, batch_size=50, lr=1e-2, max_norm=1.0)
hidden = {"rnn": 34, "lstm": 16, "gru": 19}
runs = {}
for cell in ["rnn", "lstm", "gru"]:
    runs[cell] = train_on_lag(40, cell=cell, hidden_size=hidden[cell], rng=np.random.default_rng([0, 40]), **settings)
for cell, run in runs.items():
    n_weights = sum(p.size for p in run.model.params.values())
    print(f"{cell:5s} {n_weights} weights   test MSE {run.test_mse:.4f}   solved {100 * run.solved:.0f}%")

# %%
# The training curves
# -------------------
# The running mean of the training loss of every step, against the baseline
# of always answering 1. Compare where each curve leaves the dashed line, if it
# does: a network that finds the memory falls far below it.
fig, ax = plt.subplots(figsize=(7, 3.8))
colors = {"rnn": "#888888", "lstm": "#d95f02", "gru": "#1b9e77"}
names = {"rnn": "vanilla RNN", "lstm": "LSTM", "gru": "GRU"}
window = 20  # a running mean over 20 steps, so the curves are readable
for cell, run in runs.items():
    losses = np.convolve(run.log.losses, np.ones(window) / window, mode="valid")
    ax.semilogy(np.arange(window, len(run.log.losses) + 1), losses, color=colors[cell], label=names[cell])
ax.axhline(BASELINE_MSE, color="black", ls="--", lw=1, label="always answer 1")
ax.set_xlabel("training step")
ax.set_ylabel("training MSE (running mean, log scale)")
ax.set_title("The adding problem, sequences of 40 steps")
ax.legend(frameon=False)
fig.tight_layout()
plt.show()
