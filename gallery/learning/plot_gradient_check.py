"""
Checking a gradient you wrote yourself
======================================

Write a small recurrent function and its gradient by hand, then let
:mod:`rnnbook.analysis.gradcheck` compare it with finite differences, and see what a bug
looks like. (Chapter: :ref:`learning-through-time`.)
"""

# %%
# A function of our own
# ---------------------
# Two steps of a tiny recurrent network with no inputs, :math:`h_1 = \tanh(W h_0)`
# and :math:`h_2 = \tanh(W h_1)`, and a loss that weighs the last state with
# read-out weights :math:`W_y` (one row), :math:`L = W_y h_2`. The same matrix :math:`W` is used twice, so its
# gradient has two shares, one per step: backpropagation through time in
# miniature.
import matplotlib.pyplot as plt
import numpy as np

from rnnbook.analysis.gradcheck import check_gradients, numerical_gradient

rng = np.random.default_rng(0)
hidden = 4
W = rng.normal(scale=0.8, size=(hidden, hidden))
h0 = rng.normal(size=hidden)
w_y = rng.normal(size=hidden)


def loss():
    h1 = np.tanh(W @ h0)
    h2 = np.tanh(W @ h1)
    return float(w_y @ h2)


def gradient(buggy=False):
    """dL/dW by the chain rule, run backwards from the loss."""
    h1 = np.tanh(W @ h0)
    h2 = np.tanh(W @ h1)
    da2 = w_y * (1 - h2**2)  # dL/da_2, the blame at step 2's pre-activation
    dh1 = (W @ da2) if buggy else (W.T @ da2)  # hand it back to h_1 (the bug: a forgotten transpose)
    da1 = dh1 * (1 - h1**2)
    return np.outer(da2, h1) + np.outer(da1, h0)  # step 2's share + step 1's share


# %%
# Compare with finite differences
# -------------------------------
# :func:`rnnbook.analysis.gradcheck.check_gradients` nudges every entry of ``W`` by
# :math:`\pm 10^{-6}` and returns the relative error per array. A correct
# gradient agrees to about ten digits; the buggy one is off by a large
# fraction of its size.
right = check_gradients(loss, {"W": W}, {"W": gradient()})["W"]
wrong = check_gradients(loss, {"W": W}, {"W": gradient(buggy=True)})["W"]
print(f"relative error, correct gradient: {right:.1e}")
print(f"relative error, forgotten transpose: {wrong:.1e}")

# %%
# Look at it entry by entry
# -------------------------
# Each point is one entry of the gradient: numerical on the horizontal axis,
# analytic on the vertical one. The correct gradient lies on the diagonal.
numeric = numerical_gradient(loss, W)
fig, (left, right_ax) = plt.subplots(1, 2, figsize=(9, 3.6))
left.plot(numeric.ravel(), gradient().ravel(), "o", label="correct")
left.plot(numeric.ravel(), gradient(buggy=True).ravel(), "x", label="forgotten transpose")
lim = np.abs(numeric).max() * 1.2
left.plot([-lim, lim], [-lim, lim], color="gray", lw=1)
left.set_xlabel("numerical gradient")
left.set_ylabel("analytic gradient")
left.legend()
right_ax.bar(["correct", "forgotten\ntranspose"], [right, wrong], color=["#1b9e77", "#d95f02"])
right_ax.axhline(1e-6, color="black", ls="--", lw=1, label="a common pass mark")
right_ax.set_yscale("log")
right_ax.set_ylabel("relative error")
right_ax.legend(loc="upper left")
fig.tight_layout()
plt.show()
