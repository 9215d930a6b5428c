"""
The state equation, step by step
================================

A network of two units traced by hand through four steps: every term of
:math:`h_t = f(W_l x_t + W h_{t-1} + b)`, printed and plotted. (Chapter: :ref:`state-equation`.)
"""

# %%
# Small weights, chosen by hand
# -----------------------------
# One input feature and a state of two units, with weights small enough to
# check every number with a calculator. The input is a pulse, two silent
# steps, and a second pulse.
import matplotlib.pyplot as plt
import numpy as np

from rnnbook.analysis.trace import format_trace, trace_states
from rnnbook.layers.rnn import unroll

params = {
    "weight_ih": np.array([[0.5], [-0.3]]),  # W_l (H, I)
    "weight_hh": np.array([[0.6, -0.4], [0.2, 0.5]]),  # W (H, H)
    "bias_ih": np.array([0.1, 0.0]),  # b = bias_ih + bias_hh
    "bias_hh": np.array([0.0, 0.1]),
}
x = np.array([[1.0], [0.0], [0.0], [1.0]])  # (T, I)

# %%
# The trace
# ---------
# :func:`rnnbook.analysis.trace.trace_states` keeps every term of every step; the new
# state itself comes from :func:`rnnbook.layers.rnn.step`. Row 0 is the initial state.
trace = trace_states(params, x)
print(format_trace(trace, digits=3, style="text"))

states, _ = unroll(params, x[:, None, :])
print(f"\nhand trace vs unroll: largest difference {np.abs(states[:, 0] - trace.states).max():.1e}")

# %%
# Where each state comes from
# ---------------------------
# For each unit, the bars stack the three parts of the pre-activation (input,
# memory, bias); the black dot is their sum :math:`a_t` and the orange one the
# new state :math:`h_t = \tanh(a_t)`, always a little closer to zero.
steps = np.arange(1, len(x) + 1)
fig, axes = plt.subplots(1, 2, figsize=(9, 3.4), sharey=True)
for unit, ax in enumerate(axes):
    parts = {
        "input $W_l x_t$": trace.input_part[:, unit],
        "memory $W h_{t-1}$": trace.memory_part[:, unit],
        "bias $b$": np.full(len(x), trace.bias[unit]),
    }
    positive, negative = np.zeros(len(x)), np.zeros(len(x))
    for label, values in parts.items():
        bottom = np.where(values >= 0, positive, negative)
        ax.bar(steps, values, bottom=bottom, width=0.5, label=label, alpha=0.8)
        positive += np.maximum(values, 0)
        negative += np.minimum(values, 0)
    ax.plot(steps, trace.preactivation[:, unit], "ko", label="sum $a_t$")
    ax.plot(steps, trace.states[:, unit], "o", color="#d95f02", label=r"state $h_t=\tanh(a_t)$")
    ax.axhline(0, color="black", lw=0.8)
    ax.set_xticks(steps)
    ax.set_xlabel("step $t$")
    ax.set_title(f"unit {unit + 1}")
handles, labels = axes[0].get_legend_handles_labels()
fig.legend(handles, labels, loc="lower center", ncol=5, fontsize=8, frameon=False)
fig.tight_layout(rect=(0, 0.08, 1, 1))
plt.show()
