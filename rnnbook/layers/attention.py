"""Attention: a weighted look back at every encoder state, recomputed at every output step.

Additive attention (Bahdanau, Cho and Bengio, 2015) scores each encoder
state :math:`h_t` (the *keys*, also what is averaged) against the decoder's
state :math:`q` (the *query*; the book's :math:`h'_{j-1}`) with a one-hidden-layer network,

.. math::

   e_t = v^\\top \\tanh(W_q q + W_s h_t), \\qquad
   \\alpha_t = \\frac{\\exp e_t}{\\sum_{k} \\exp e_k}, \\qquad
   \\bar h = \\sum_t \\alpha_t h_t ,

and the dot-product score of Luong, Pham and Manning (2015) is simply
:math:`e_t = q^\\top h_t`.  The weights :math:`\\alpha_t` are positive and sum to
one over the T encoder steps: they say where the decoder looks; the
*context* :math:`\\bar h` is the average they weight.

:func:`attend` and :func:`attend_backward` are the forward and the backward
pass written side by side: every line of the backward pass undoes one line of
the forward pass, in reverse order.  The projection :math:`W_s h_t` does not
depend on the query, so :func:`project_keys` computes it once per source
sequence, and its gradient is gathered over all output steps and turned into
parameter gradients once, by :func:`project_keys_backward`.

Parameters live in a dict (``query`` (A, H), ``keys`` (A, H), ``v`` (A,)),
A the size of the scoring layer, H the size of the states.  Time-major, as
everywhere in the package: keys are (T, B, H).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnbook._validation import check_choice, check_positive_int, check_rng
from rnnbook.layers.base import Params
from rnnbook.training.losses import softmax

#: The scores :func:`attend` knows.
SCORES = ("additive", "dot")


def init_attention(
    hidden_size: int, attention_size: int, *, rng: np.random.Generator | int, dtype: type | np.dtype = np.float64
) -> Params:
    """Draw the additive score's parameters from U(-1/sqrt(H), 1/sqrt(H)).

    Parameters
    ----------
    hidden_size : int
        H, the size of the query and of each key.
    attention_size : int
        A, the size of the scoring layer.
    rng : numpy.random.Generator or int
    dtype : float32 or float64

    Returns
    -------
    dict
        ``query`` (A, H), ``keys`` (A, H), ``v`` (A,).
    """
    hidden_size = check_positive_int(hidden_size, "hidden_size")
    attention_size = check_positive_int(attention_size, "attention_size")
    rng = check_rng(rng)
    bound = 1.0 / np.sqrt(hidden_size)
    shapes = {"query": (attention_size, hidden_size), "keys": (attention_size, hidden_size), "v": (attention_size,)}
    return {name: rng.uniform(-bound, bound, size=s).astype(dtype) for name, s in shapes.items()}


def project_keys(params: Params, keys: np.ndarray) -> np.ndarray:
    """:math:`W_s h_t` for every step, (T, B, A), from keys (T, B, H): once per source sequence."""
    return keys @ params["keys"].T


def project_keys_backward(params: Params, keys: np.ndarray, dprojected: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Undo :func:`project_keys`: the gradient of ``keys`` (A, H) and of the keys (T, B, H)."""
    hidden = keys.shape[-1]
    grad = dprojected.reshape(-1, dprojected.shape[-1]).T @ keys.reshape(-1, hidden)
    return grad, dprojected @ params["keys"]


@dataclass(frozen=True)
class AttentionCache:
    """What :func:`attend` keeps for :func:`attend_backward`.

    Attributes
    ----------
    query : numpy.ndarray, shape (B, H)
    keys : numpy.ndarray, shape (T, B, H)
    hidden : numpy.ndarray, shape (T, B, A), or None for the dot score
        :math:`\\tanh(W_q q + W_s h_t)`.
    weights : numpy.ndarray, shape (T, B)
        The attention weights :math:`\\alpha_t`.
    """

    query: np.ndarray
    keys: np.ndarray
    hidden: np.ndarray | None
    weights: np.ndarray


def attend(
    params: Params, query: np.ndarray, keys: np.ndarray, projected: np.ndarray | None, score: str = "additive"
) -> tuple[np.ndarray, AttentionCache]:
    """One look back: score every key against the query, soften the scores, average the keys.

    Parameters
    ----------
    params : dict
        ``query`` (A, H) and ``v`` (A,) (unused by the dot score).
    query : numpy.ndarray, shape (B, H)
        The decoder state that asks.
    keys : numpy.ndarray, shape (T, B, H)
        The encoder states.
    projected : numpy.ndarray, shape (T, B, A), or None for the dot score
        :func:`project_keys` of ``keys``.
    score : {"additive", "dot"}

    Returns
    -------
    context : numpy.ndarray, shape (B, H)
        The context :math:`\\bar h = \\sum_t \\alpha_t h_t`.
    cache : AttentionCache
    """
    if score == "additive":
        hidden = np.tanh(projected + query @ params["query"].T)  # (T, B, A)
        scores = hidden @ params["v"]  # (T, B)
    else:
        hidden = None
        scores = np.einsum("tbh,bh->tb", keys, query)  # (T, B)
    weights = softmax(scores, axis=0)  # over the T encoder steps
    context = np.einsum("tb,tbh->bh", weights, keys)  # (B, H)
    return context, AttentionCache(query=query, keys=keys, hidden=hidden, weights=weights)


def attend_backward(
    params: Params, cache: AttentionCache, dcontext: np.ndarray
) -> tuple[Params, np.ndarray, np.ndarray, np.ndarray | None]:
    """The chain rule through :func:`attend`, line by line in reverse.

    Parameters
    ----------
    params : dict
        The parameters :func:`attend` used.
    cache : AttentionCache
        What :func:`attend` returned.
    dcontext : numpy.ndarray, shape (B, H)
        The gradient of the loss with respect to the context.

    Returns
    -------
    grads : dict
        ``query`` (A, H) and ``v`` (A,); empty for the dot score.
    dquery : numpy.ndarray, shape (B, H)
    dkeys : numpy.ndarray, shape (T, B, H)
        Through the average and (dot score) through the scores.
    dprojected : numpy.ndarray, shape (T, B, A), or None for the dot score
        To be passed on to :func:`project_keys_backward`, summed over the output steps.
    """
    alpha, keys, query = cache.weights, cache.keys, cache.query
    # context = sum_t alpha_t h_t
    dweights = np.einsum("bh,tbh->tb", dcontext, keys)  # (T, B)
    dkeys = alpha[..., None] * dcontext  # (T, B, H)
    # alpha = softmax(e) over t
    dscores = alpha * (dweights - (alpha * dweights).sum(axis=0))  # (T, B)
    if cache.hidden is None:  # e_t = q . h_t
        dkeys += dscores[..., None] * query
        return {}, np.einsum("tb,tbh->bh", dscores, keys), dkeys, None
    hidden = cache.hidden
    # e_t = v . u_t
    grads = {"v": np.einsum("tb,tba->a", dscores, hidden)}
    # u_t = tanh(W_q q + W_s h_t)
    dpre = dscores[..., None] * params["v"] * (1 - hidden * hidden)  # (T, B, A)
    dquery_pre = dpre.sum(axis=0)  # W_q q is the same for every t: (B, A)
    grads["query"] = dquery_pre.T @ query
    return grads, dquery_pre @ params["query"], dkeys, dpre


def check_score(score: object) -> str:
    """``score`` if it is one of :data:`SCORES`, else a one-line error."""
    return check_choice(score, "score", SCORES)
