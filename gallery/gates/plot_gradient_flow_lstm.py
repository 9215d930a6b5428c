"""
How far back does the gradient reach? LSTM against RNN
======================================================

The size of the gradient factor between the memory at the end of a sequence and
the memory at an earlier step :math:`k`, :math:`T - k` steps earlier (the lag),
for a vanilla RNN and for LSTMs whose forget gates
start more and more open. (Chapter: :ref:`gates`.)
"""

# %%
# The measurement
# ---------------
# :func:`rnnbook.analysis.gradients.memory_jacobian_norms` returns, for each lag :math:`T - k`, the
# largest singular value of the Jacobian of the final memory with respect to the
# memory at step :math:`k`: the cell for an LSTM, the state for a vanilla RNN. It
# is the factor by which a learning signal is scaled on its way back :math:`T - k` steps.
import matplotlib.pyplot as plt
import numpy as np

from rnnbook import RNN
from rnnbook.analysis.gradients import memory_jacobian_norms
from rnnbook.data.synthetic import adding_problem
from rnnbook.layers.lstm import LSTM

hidden = 16
x, _ = adding_problem(1, 100, rng=1)
lags = np.arange(1, 101)

rnn_norms = memory_jacobian_norms(RNN(2, hidden, rng=0), x, lags)

# %%
# Opening the forget gate
# -----------------------
# An untrained LSTM's forget gates sit near sigmoid(0) = 1/2, so its cell
# halves, roughly, at every step. Raising the forget gate's bias (the second
# block of H entries in ``bias_hh``) opens the gate before any training: that
# is the knob the RNN does not have. A bias of 1 is the usual trick.
lstm_norms = {}
for extra in [0, 1, 3, 6]:
    lstm = LSTM(2, hidden, rng=0)
    lstm.params["bias_hh"][hidden : 2 * hidden] += extra
    lstm_norms[extra] = memory_jacobian_norms(lstm, x, lags)
    print(f"forget bias +{extra}: factor at lag 50 = {lstm_norms[extra][49]:.1e}")
print(f"vanilla RNN:     factor at lag 50 = {rnn_norms[49]:.1e}")

# %%
# The picture
# -----------
# On a log scale a factor that shrinks by the same fraction at every step is a
# straight line going down. The vanilla RNN's falls steeply; the LSTM's
# flattens as its forget gates open: the larger the bias, the further back the
# gradient reaches (the printed factors at lag 50 give the numbers).
fig, ax = plt.subplots(figsize=(7, 4))
ax.semilogy(lags, rnn_norms, color="#888888", lw=2, label=r"vanilla RNN, $\|\partial h_T/\partial h_k\|$")
shades = plt.cm.Oranges(np.linspace(0.45, 1.0, len(lstm_norms)))
for (extra, norms), shade in zip(lstm_norms.items(), shades, strict=True):
    ax.semilogy(lags, norms, color=shade, label=rf"LSTM, forget bias +{extra}, $\|\partial c_T/\partial c_k\|$")
ax.set_xlabel("lag $T - k$ (steps back)")
ax.set_ylabel("gradient factor (log scale)")
ax.set_title("Untrained layers, 16 units, one adding-problem sequence")
ax.legend(frameon=False, fontsize=8)
fig.tight_layout()
plt.show()
