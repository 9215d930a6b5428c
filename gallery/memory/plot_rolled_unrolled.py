"""
The rolled and the unrolled network
===================================

One box with a loop arrow, and the same box copied once per step: two drawings
of one recurrent network, and why its weights do not grow with the length of
the sequence. (Chapter: :ref:`chain`.)
"""

# %%
# Rolled up and unrolled
# ----------------------
# :func:`rnnbook.analysis.diagrams.draw_rolled_and_unrolled` draws box A with its loop
# arrow, then the same network unrolled over five steps. Every copy has the
# same colour: it is the same network, with the same weights.
import matplotlib.pyplot as plt
import numpy as np

from rnnbook.analysis.diagrams import draw_rolled_and_unrolled, draw_unrolled
from rnnbook.analysis.trace import chain_parameter_count, count_parameters
from rnnbook.layers.base import init_params
from rnnbook.layers.rnn import step, unroll

fig = draw_rolled_and_unrolled(steps=5)

# %%
# The chain is one step repeated
# ------------------------------
# :func:`rnnbook.layers.rnn.unroll` runs the whole chain; a plain loop over
# :func:`rnnbook.layers.rnn.step` with the same parameters must give the same states.
rng = np.random.default_rng(0)
params = init_params(3, 5, rng=rng)
x = rng.normal(size=(8, 2, 3))  # 8 steps, 2 sequences, 3 features
states, _ = unroll(params, x)
state = np.zeros((2, 5))
for t, x_t in enumerate(x):
    state = step(x_t, state, params["weight_ih"], params["weight_hh"], params["bias_ih"], params["bias_hh"])
    assert np.allclose(state, states[t])
print(f"unroll vs a loop of step: largest difference {np.abs(state - states[-1]).max():.1e}")

# %%
# Shared weights against separate weights
# ---------------------------------------
# A recurrent network has ``H*I + H*H + 2H`` parameters whatever the length.
# A hypothetical chain with its own weights at every step (drawn with
# ``shared=False``, one colour per copy) would need that many per step.
print("parameters in the dict:", count_parameters(params))
lengths = [1, 10, 100, 1000]
for T in lengths:
    print(f"T = {T:5d}: shared {chain_parameter_count(3, 5, T):6d}   "
          f"separate {chain_parameter_count(3, 5, T, shared=False):6d}")

fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3), width_ratios=[1, 1.2])
left.loglog(lengths, [chain_parameter_count(3, 5, T, shared=False) for T in lengths], "o-", label="separate")
left.loglog(lengths, [chain_parameter_count(3, 5, T) for T in lengths], "o-", label="shared (recurrent)")
left.set_xlabel("sequence length T")
left.set_ylabel("parameters")
left.legend()
draw_unrolled(4, right, shared=False)
fig.tight_layout()
plt.show()
