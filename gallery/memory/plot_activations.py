"""
Memory under tanh, relu and sigmoid
===================================

One input pulse, then silence: with tanh the state fades or holds, with relu it
can explode, with sigmoid it forgets fast. (Chapter: :ref:`state-equation`.)
"""

# %%
# Two networks, three activations
# -------------------------------
# The "large" memory weights stretch some vectors (make them longer); the
# "small" ones are the same matrix scaled down so that they make every vector
# shorter. ``np.linalg.norm(w, 2)`` is the most a matrix stretches any vector.
# There is no bias, so without the pulse tanh and relu stay at zero and
# sigmoid rests at its own fixed point.
import matplotlib.pyplot as plt
import numpy as np

from rnnbook.analysis.trace import pulse_response

base = np.array([[0.9, 0.4], [0.3, 0.8]])
weights = {"small memory weights": base * 0.8 / 1.2, "large memory weights": base}
for label, w in weights.items():
    print(f"{label}: stretch a vector by at most {np.linalg.norm(w, 2):.2f}")
activations = ["tanh", "relu", "sigmoid"]
steps = 30

# %%
# Run the pulse
# -------------
# :func:`rnnbook.analysis.trace.pulse_response` unrolls the network over an input that is
# 1 at the first step and 0 afterwards. Comparing with the run without a pulse
# tells how much of the pulse the state still holds.
fig, axes = plt.subplots(2, 3, figsize=(10, 5.5), sharex=True)
for col, act in enumerate(activations):
    for label, w_hh in weights.items():
        params = {"weight_ih": np.array([[1.0], [0.5]]), "weight_hh": w_hh,
                  "bias_ih": np.zeros(2), "bias_hh": np.zeros(2)}
        with_pulse = pulse_response(params, np.array([1.0]), steps, act)
        without = pulse_response(params, np.array([0.0]), steps, act)
        left = np.linalg.norm(with_pulse - without, axis=1)
        print(f"{act:8s} {label:21s} state after {steps} steps {np.round(with_pulse[-1], 3)}, "
              f"pulse left {left[-1]:.2e}")
        t = np.arange(1, steps + 1)
        axes[0, col].plot(t, with_pulse[:, 0], label=label)
        axes[1, col].semilogy(t, np.maximum(left, 1e-12), label=label)  # a log axis cannot show 0
    axes[0, col].set_title(act)
    axes[1, col].set_xlabel("step")
    axes[1, col].set_ylim(1e-12, 1e3)
axes[0, 1].set_yscale("symlog")  # linear near zero, logarithmic for the explosion
axes[0, 1].set_ylim(bottom=0)
axes[0, 0].set_ylabel("first unit of the state")
axes[1, 0].set_ylabel("what is left of the pulse")
axes[0, 0].legend(fontsize=8)
fig.tight_layout()
plt.show()
