"""Input validation in one place, in the spirit of scikit-learn's ``check_array``.

Every public function of :mod:`rnnbook` sends its inputs through these helpers,
so that a wrong rank, shape or dtype, a NaN, an empty sequence or a non-positive
size always produces the same kind of message: what was expected, and what was
given.  Nothing is silently converted: a float32 array stays float32, and an
integer array is refused rather than cast.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def check_positive_int(value: object, name: str) -> int:
    """Return ``value`` if it is a positive integer, else raise.

    Raises
    ------
    TypeError
        If ``value`` is not an integer (bools are refused too).
    ValueError
        If ``value`` is zero or negative.
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"{name} must be a positive integer, got {value!r} of type {type(value).__name__}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return int(value)


def check_positive_float(value: object, name: str) -> float:
    """Return ``value`` as a float if it is a finite number greater than zero."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"{name} must be a positive number, got {value!r} of type {type(value).__name__}")
    if not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value}")
    return float(value)


def check_array(
    array: object,
    name: str,
    *,
    ndim: int | None,
    shape: Sequence[int | None] | None = None,
    dtype: np.dtype | None = None,
    allow_empty: bool = False,
) -> np.ndarray:
    """Check a floating-point array and return it unchanged.

    Parameters
    ----------
    array : numpy.ndarray
        The array to check.  Must already be a float32 or float64 array.
    name : str
        The name used in error messages (``"x"``, ``"weight_hh"`` ...).
    ndim : int or None
        The expected number of dimensions; ``None`` accepts any rank of 1 or more.
    shape : sequence of int or None, optional
        The expected shape; ``None`` in a position means "any size".
    dtype : numpy.dtype, optional
        If given, the array must have exactly this dtype.
    allow_empty : bool, default False
        Whether a zero-length dimension is acceptable.

    Returns
    -------
    numpy.ndarray
        ``array`` itself (no copy, no conversion).

    Raises
    ------
    TypeError
        If ``array`` is not a numpy array or its dtype is not float32/float64
        (or not ``dtype``).
    ValueError
        If the rank or shape is wrong, a dimension is empty, or a value is NaN
        or infinite.
    """
    if not isinstance(array, np.ndarray):
        raise TypeError(
            f"{name} must be a numpy array of float32 or float64, got {type(array).__name__}"
        )
    check_plain(array, name)
    if array.dtype not in FLOAT_DTYPES:
        raise TypeError(f"{name} must have dtype float32 or float64, got {array.dtype}")
    if dtype is not None and array.dtype != dtype:
        raise TypeError(
            f"{name} must have dtype {np.dtype(dtype)} to match the parameters, got {array.dtype}"
        )
    if ndim is None:
        if array.ndim == 0:
            raise ValueError(f"{name} must have at least one dimension, got a scalar")
        ndim = array.ndim
    if array.ndim != ndim:
        want = f" {describe_shape(shape)}" if shape is not None else ""
        raise ValueError(f"{name} must have {ndim} dimensions{want}, got shape {array.shape}")
    if shape is not None:
        if len(shape) != ndim:
            raise ValueError(f"{name} must have shape {describe_shape(shape)}, got {array.shape}")
        for want, got in zip(shape, array.shape, strict=True):
            if want is not None and want != got:
                raise ValueError(
                    f"{name} must have shape {describe_shape(shape)}, got {array.shape}"
                )
    if not allow_empty and array.size == 0:
        raise ValueError(f"{name} must not be empty, got shape {array.shape}")
    if not np.isfinite(array).all():
        bad = np.argwhere(~np.isfinite(array))[0]
        raise ValueError(
            f"{name} must be finite, found {array[tuple(bad)]} at index {tuple(int(i) for i in bad)}"
        )
    return array


def check_plain(array: np.ndarray, name: str) -> None:
    """Refuse subclasses of ``numpy.ndarray`` (masked arrays, matrices ...): their extra meaning would be lost.

    A masked array's mask, for one, would be ignored: a masked NaN would pass
    the finiteness check and spread through every state.
    """
    if type(array) is not np.ndarray:
        raise TypeError(
            f"{name} must be a plain numpy.ndarray, got a {type(array).__module__}.{type(array).__name__}; "
            "array subclasses are not supported (for a masked array, fill or drop the masked values first)"
        )


def check_labels(labels: object, name: str, *, shape: Sequence[int | None], n_classes: int) -> np.ndarray:
    """Check an integer array of class labels in ``[0, n_classes)``."""
    if not isinstance(labels, np.ndarray) or not np.issubdtype(labels.dtype, np.integer):
        got = labels.dtype if isinstance(labels, np.ndarray) else type(labels).__name__
        raise TypeError(f"{name} must be an integer numpy array of class indices, got {got}")
    check_plain(labels, name)
    if labels.ndim != len(shape) or any(
        w is not None and w != g for w, g in zip(shape, labels.shape, strict=False)
    ):
        raise ValueError(f"{name} must have shape {describe_shape(shape)}, got {labels.shape}")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(
            f"{name} must hold class indices in [0, {n_classes}), got values from "
            f"{labels.min()} to {labels.max()}"
        )
    return labels


def describe_shape(shape: Sequence[int | None]) -> str:
    """Format an expected shape, writing ``None`` entries as ``*``."""
    return "(" + ", ".join("*" if s is None else str(s) for s in shape) + (",)" if len(shape) == 1 else ")")


def check_same_dtype(arrays: dict[str, np.ndarray]) -> np.dtype:
    """Check that all named arrays share one dtype and return it."""
    dtypes = {name: a.dtype for name, a in arrays.items()}
    if len(set(dtypes.values())) > 1:
        listing = ", ".join(f"{n}: {d}" for n, d in dtypes.items())
        raise TypeError(f"all parameters must share one dtype, got {listing}")
    return next(iter(dtypes.values()))


def check_dtype(dtype: object) -> np.dtype:
    """Return ``numpy.dtype(dtype)`` if it is float32 or float64, else raise TypeError."""
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"dtype must be float32 or float64, got {dtype!r}") from None
    if resolved not in FLOAT_DTYPES:
        raise TypeError(f"dtype must be float32 or float64, got {resolved}")
    return resolved


def check_rng(rng: object) -> np.random.Generator:
    """Return a :class:`numpy.random.Generator` from a Generator or an integer seed."""
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, int | np.integer) and not isinstance(rng, bool):
        if rng < 0:
            raise ValueError(f"rng must be a numpy.random.Generator or an integer seed >= 0, got {rng}")
        return np.random.default_rng(int(rng))
    raise TypeError(
        f"rng must be a numpy.random.Generator or an integer seed, got {type(rng).__name__}"
    )


def check_instance(value: object, kind: type | tuple[type, ...], name: str, expected: str) -> object:
    """Return ``value`` if it is an instance of ``kind``, else raise a TypeError saying ``expected``."""
    if not isinstance(value, kind):
        raise TypeError(f"{name} must be {expected}, got {type(value).__name__}")
    return value


def check_params_dict(params: object, name: str) -> dict[str, np.ndarray]:
    """Check a dict of named float arrays (parameters or gradients) without copying; return it.

    Only types are checked (a dict; every value a plain float32/float64
    numpy array): the values' finiteness is the caller's business (an
    optimiser reports a NaN gradient as divergence).
    """
    if not isinstance(params, dict):
        raise TypeError(f"{name} must be a dict of numpy arrays, got {type(params).__name__}")
    for key, value in params.items():
        label = f"gradient of {key}" if name == "grads" else key
        if not isinstance(value, np.ndarray):
            raise TypeError(f"{label} must be a numpy array of float32 or float64, got {type(value).__name__}")
        check_plain(value, label)
        if value.dtype not in FLOAT_DTYPES:
            raise TypeError(f"{label} must have dtype float32 or float64, got {value.dtype}")
    return params


def check_choice(value: object, name: str, choices: Sequence[str]) -> str:
    """Check that ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, choices))}, got {value!r}")
    return str(value)


def check_features(array: object, name: str, n_features: int, dtype: np.dtype | None = None) -> np.ndarray:
    """Check a float array of any rank whose last dimension is ``n_features``."""
    array = check_array(array, name, ndim=None, dtype=dtype)
    if array.shape[-1] != n_features:
        raise ValueError(
            f"{name} must have shape (..., {n_features}) (last dimension = features), got {array.shape}"
        )
    return array
