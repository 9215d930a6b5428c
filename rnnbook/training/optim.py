"""Taking a step downhill: optimisers and gradient clipping.

An optimiser holds the memory of past gradients it needs (momentum, running
squares) and updates a dict of parameters in place, name by name.  The update
rules follow ``torch.optim.SGD``, ``Adagrad`` and ``Adam`` with their default
settings, so that a model trained here and one trained in PyTorch take the same
steps.
"""

from __future__ import annotations

import math

import numpy as np

from rnnbook._validation import check_params_dict, check_positive_float
from rnnbook.layers.base import Params


def global_norm(grads: Params) -> float:
    """The Euclidean norm of all gradients taken together, as one long vector.

    Finite gradients have a finite norm even when their squares overflow
    (float32 entries beyond about 1.8e19): the sum is then taken again with
    every entry divided by the largest magnitude.  A NaN or infinite entry
    gives a NaN or infinite norm.
    """
    check_params_dict(grads, "grads")
    with np.errstate(over="ignore"):
        total = sum(float(np.vdot(g, g)) for g in grads.values())
    if math.isfinite(total):
        return math.sqrt(total)
    largest = max((float(np.max(np.abs(g))) for g in grads.values() if g.size), default=0.0)
    if not math.isfinite(largest):
        return largest  # nan or inf: not a norm; the caller reports divergence
    scaled = sum(float(np.vdot(g / largest, g / largest)) for g in (g.astype(np.float64) for g in grads.values()))
    return largest * math.sqrt(scaled)


def clip_gradients(grads: Params, max_norm: float) -> float:
    """Rescale all gradients together so that their global norm is at most ``max_norm``.

    Same rule as ``torch.nn.utils.clip_grad_norm_``: with total norm N, every
    gradient is multiplied by ``max_norm / (N + 1e-6)`` when that factor is
    below one.  The direction of the step is kept; only its length shrinks.
    This is the remedy for exploding gradients of Pascanu, Mikolov & Bengio (2013).

    Parameters
    ----------
    grads : dict of str to numpy.ndarray
        Changed in place.
    max_norm : float
        The largest allowed global norm, > 0.

    Returns
    -------
    float
        The global norm *before* clipping (what torch returns too).
    """
    max_norm = check_positive_float(max_norm, "max_norm")
    total = global_norm(grads)
    _check_writeable(grads)
    scale = max_norm / (total + 1e-6)
    if scale < 1:
        for g in grads.values():
            g *= scale
    return total


def clip_elementwise(grads: Params, limit: float) -> None:
    """Clip every gradient entry into ``[-limit, limit]`` in place, as min-char-rnn does.

    Unlike :func:`clip_gradients` this can change the direction of the step.
    """
    limit = check_positive_float(limit, "limit")
    check_params_dict(grads, "grads")
    _check_writeable(grads)
    for g in grads.values():
        np.clip(g, -limit, limit, out=g)


def _check_writeable(grads: Params) -> None:
    for name, g in grads.items():
        if not g.flags.writeable:
            raise ValueError(f"gradient of {name} is read-only; clipping changes the gradients in place")


class Optimizer:
    """Base class: checks that the gradients match the parameters, then updates."""

    def __init__(self, lr: float) -> None:
        self.lr = check_positive_float(lr, "lr")
        self.state: dict[str, dict[str, np.ndarray]] = {}
        self.steps = 0

    def step(self, params: Params, grads: Params) -> None:
        """Update every array of ``params`` in place from ``grads`` (same keys, shapes)."""
        check_params_dict(params, "params")
        check_params_dict(grads, "grads")
        if set(params) != set(grads):
            raise ValueError(
                f"grads must have the same names as params; missing {sorted(set(params) - set(grads))}, "
                f"unexpected {sorted(set(grads) - set(params))}"
            )
        for name, p in params.items():
            g = grads[name]
            if g.shape != p.shape:
                raise ValueError(f"gradient of {name} must have shape {p.shape}, got {g.shape}")
            if g.dtype != p.dtype:
                raise TypeError(f"gradient of {name} must have the parameter's dtype {p.dtype}, got {g.dtype}")
            if not p.flags.writeable:
                raise ValueError(f"{name} is read-only; the optimiser updates the parameters in place")
            for slot, memory in self.state.get(name, {}).items():
                if memory.shape != p.shape:
                    raise ValueError(
                        f"the optimiser's memory of {name} ({slot}) has shape {memory.shape}, but {name} has "
                        f"shape {p.shape}; use a new optimiser for new parameters"
                    )
            if not np.isfinite(g).all():
                raise ValueError(f"gradient of {name} holds NaN or inf; refusing to update")
        self.steps += 1
        for name, p in params.items():
            self._update(name, p, grads[name], self.state.setdefault(name, {}))

    def _update(self, name: str, p: np.ndarray, g: np.ndarray, state: dict[str, np.ndarray]) -> None:
        raise NotImplementedError  # each optimiser defines its rule

    def state_dict(self) -> dict[str, np.ndarray]:
        """The optimiser's memory as a flat dict of arrays (for checkpoints)."""
        flat = {f"{name}/{key}": value for name, s in self.state.items() for key, value in s.items()}
        flat["steps"] = np.array(self.steps)
        return flat

    def load_state_dict(self, flat: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`state_dict` returned."""
        if not isinstance(flat, dict) or "steps" not in flat:
            raise TypeError(
                "state must be the dict state_dict() returned, with 'steps' and 'name/slot' arrays, got "
                + (f"keys {sorted(map(str, flat))}" if isinstance(flat, dict) else type(flat).__name__)
            )
        steps = np.asarray(flat["steps"])
        if steps.shape != () or not np.issubdtype(steps.dtype, np.integer) or steps < 0:
            raise ValueError(f"state['steps'] must be an integer >= 0, got {flat['steps']!r}")
        arrays = {k: v for k, v in flat.items() if k != "steps"}
        for key in arrays:
            if not isinstance(key, str) or "/" not in key:
                raise ValueError(f"state keys must read 'name/slot' (as state_dict() writes them), got {key!r}")
        check_params_dict(arrays, "state")
        self.steps = int(steps)
        self.state = {}
        for key, value in arrays.items():
            name, slot = key.rsplit("/", 1)
            self.state.setdefault(name, {})[slot] = np.array(value)


class SGD(Optimizer):
    """Gradient descent with optional momentum: ``v = mu v + g; p -= lr v``."""

    def __init__(self, lr: float, momentum: float = 0.0) -> None:
        super().__init__(lr)
        if not 0 <= momentum < 1:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        self.momentum = float(momentum)

    def _update(self, name, p, g, state):
        if self.momentum:
            if "velocity" not in state:
                state["velocity"] = g.copy()
            else:
                state["velocity"] *= self.momentum
                state["velocity"] += g
            g = state["velocity"]
        p -= self.lr * g


class Adagrad(Optimizer):
    """Per-parameter step sizes that shrink with the sum of squared gradients.

    ``s += g**2; p -= lr * g / (sqrt(s) + eps)``, as in min-char-rnn and torch.
    """

    def __init__(self, lr: float = 0.01, eps: float = 1e-10) -> None:
        super().__init__(lr)
        self.eps = check_positive_float(eps, "eps")

    def _update(self, name, p, g, state):
        if "sum_sq" not in state:
            state["sum_sq"] = np.zeros_like(p)
        state["sum_sq"] += g * g
        p -= self.lr * g / (np.sqrt(state["sum_sq"]) + self.eps)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015): momentum plus per-parameter scaling, bias-corrected."""

    def __init__(self, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8) -> None:
        super().__init__(lr)
        try:
            valid = len(betas) == 2 and all(
                isinstance(b, int | float | np.integer | np.floating) and not isinstance(b, bool) and 0 <= b < 1
                for b in betas
            )
        except TypeError:  # no len(): not a pair at all
            valid = False
        if not valid:
            raise ValueError(f"betas must be two numbers in [0, 1), got {betas!r}")
        self.betas = (float(betas[0]), float(betas[1]))
        self.eps = check_positive_float(eps, "eps")

    def _update(self, name, p, g, state):
        b1, b2 = self.betas
        if "m" not in state:
            state["m"] = np.zeros_like(p)
            state["v"] = np.zeros_like(p)
        m, v = state["m"], state["v"]
        m *= b1
        m += (1 - b1) * g
        v *= b2
        v += (1 - b2) * g * g
        m_hat = m / (1 - b1**self.steps)
        v_hat = v / (1 - b2**self.steps)
        p -= self.lr * m_hat / (np.sqrt(v_hat) + self.eps)
