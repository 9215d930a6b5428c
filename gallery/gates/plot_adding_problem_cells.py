"""
The adding problem: vanilla RNN, LSTM and GRU
=============================================

Three recurrent layers of 16 units learn to add two marked numbers from
sequences of 50 steps. Only the gated ones get past the "answer 1" baseline.
(Chapter: :ref:`gates`.)
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

x, y = adding_problem(2, 50, rng=0)
marked = np.flatnonzero(x[:, 0, 1])
print(f"sequence 0: marked steps {marked.tolist()}, values {x[marked, 0, 0].round(3).tolist()}, target {y[0]:.3f}")

# %%
# Train the three cells the same way
# ----------------------------------
# Same data, same optimiser (Adam with the gradient norm clipped to 1), same
# number of steps: only the recurrent layer differs. ``train_on_lag`` draws the
# data, builds a :class:`rnnbook.models.regressor.SequenceRegressor` with the chosen
# cell and trains it.
settings = dict(hidden_size=16, n_train=2000, n_test=500, epochs=30, batch_size=50, lr=1e-2, max_norm=1.0)
runs = {}
for cell in ["rnn", "lstm", "gru"]:
    runs[cell] = train_on_lag(50, cell=cell, rng=np.random.default_rng([0, 50]), **settings)
for cell, run in runs.items():
    print(f"{cell:5s} test MSE {run.test_mse:.4f}   solved {100 * run.solved:.0f}%")

# %%
# The training curves
# -------------------
# The vanilla RNN's loss stays at the baseline: the first marked number is too
# far back for its gradient to reach. The LSTM and the GRU sit there for a
# while too, then find the memory and fall by two orders of magnitude.
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
ax.set_title("The adding problem, sequences of 50 steps")
ax.legend(frameon=False)
fig.tight_layout()
plt.show()
