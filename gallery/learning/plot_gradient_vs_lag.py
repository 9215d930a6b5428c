r"""
How far back does the gradient reach?
=====================================

The norm of :math:`\partial h_T / \partial h_k` against the lag :math:`T - k`,
for recurrent matrices with five different largest singular values, beside the
bound of Pascanu, Mikolov and Bengio. (Chapter: :ref:`vanishing-gradients`.)
"""

# %%
# Five recurrent matrices
# -----------------------
# A random rotation has every singular value equal to one; scaling it by
# :math:`\lambda_1` gives a matrix that stretches every direction by
# :math:`\lambda_1`. The input weights and biases are the usual random ones,
# and the same 20 random input sequences of 60 steps are used for all five.
import matplotlib.pyplot as plt
import numpy as np

from rnnbook.analysis.gradients import gradient_norm_by_lag, pascanu_bound, random_orthogonal, rescale_to_singular_value
from rnnbook.layers.base import init_params

hidden, steps, batch = 32, 60, 20
rng = np.random.default_rng(0)
rotation = random_orthogonal(hidden, rng=rng)
base = init_params(1, hidden, rng=rng)
x = rng.normal(size=(steps, batch, 1))

# %%
# Measure and plot
# ----------------
# :func:`rnnbook.analysis.gradients.gradient_norm_by_lag` multiplies the per-step
# Jacobians from the last step backwards and records the spectral norm after
# each one. The dotted lines are :math:`\lambda_1^{T-k}`, the bound for tanh:
# no solid curve may cross its dotted line.
fig, ax = plt.subplots(figsize=(7, 4))
for s, color in zip([0.5, 0.9, 1.0, 1.1, 1.5], ["#1b9e77", "#66a61e", "#444444", "#e7298a", "#d95f02"], strict=True):
    params = dict(base, weight_hh=rescale_to_singular_value(rotation, s))
    norms = gradient_norm_by_lag(params, x).mean(axis=1)
    bound = pascanu_bound(params["weight_hh"], steps)
    assert (norms <= bound * (1 + 1e-12)).all()
    print(f"lambda_1 = {s}: norm at lag 50 = {norms[50]:.2e} (bound {bound[50]:.2e})")
    ax.plot(norms, color=color, lw=2, label=rf"$\lambda_1 = {s}$")
    ax.plot(bound, color=color, lw=1, ls=":")
ax.set_yscale("log")
ax.set_ylim(1e-12, 1e6)
ax.set_xlabel("lag $T - k$")
ax.set_ylabel(r"$\|\partial h_T / \partial h_k\|$")
ax.set_title("Vanishing below one, exploding above")
ax.legend(ncol=2)
fig.tight_layout()
plt.show()
