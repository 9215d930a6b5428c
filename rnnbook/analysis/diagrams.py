"""Drawings of a recurrent network: rolled up with its loop arrow, and unrolled into a chain.

A recurrent network is usually drawn in one of two ways.  *Rolled up*: one box,
the network (called A, as in Olah's and the source post's pictures), with the
input :math:`x_t` coming in from below, the state :math:`h_t` going out on top,
and a loop arrow that feeds the state back into the box for the next step.
*Unrolled*: the same box copied once per step, each copy handing its state to
the next.  The two drawings show the same computation; the second one just
spells the loop out in time.

The functions here draw both with matplotlib and return the figure, so the
book and the gallery use one drawing.  Every box that stands for a copy of the
network carries the matplotlib ``gid`` :data:`CELL_GID`; :func:`cell_boxes`
finds them again (the tests count them).

matplotlib is an optional dependency (``pip install rnnbook[plot]``): it is
imported when a drawing is made, not when this module is imported.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rnnbook._validation import check_positive_int

if TYPE_CHECKING:  # only for the type hints; matplotlib is imported lazily below
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.patches import FancyBboxPatch

#: The ``gid`` of every box that stands for one copy of the network.
CELL_GID = "rnn-cell"

#: The most copies :func:`draw_unrolled` draws: beyond this the boxes are too small to read.
MAX_DRAWN_STEPS = 12

_SHARED_COLOR = "#fde3c8"
_INPUT_COLOR = "#dbe9f6"
_BOX_W, _BOX_H = 1.0, 0.8  # width and height of a network box, in data units
_SPACING = 1.9  # distance between the centres of two copies
_INCHES_PER_UNIT = 0.62  # the size of a new figure per data unit


def _matplotlib():
    """Import matplotlib's pieces on first use, with a clear message if it is missing."""
    try:
        import matplotlib.pyplot as plt
        from matplotlib.axes import Axes
        from matplotlib.patches import FancyArrowPatch, FancyBboxPatch
    except ImportError as err:  # pragma: no cover - matplotlib is installed for the book
        raise ImportError(
            "rnnbook.diagrams needs matplotlib; install it with `pip install rnnbook[plot]`"
        ) from err
    return plt, Axes, FancyArrowPatch, FancyBboxPatch


def _check_label(label: object, name: str) -> str:
    if not isinstance(label, str):
        raise TypeError(f"{name} must be a str, got {label!r} of type {type(label).__name__}")
    return label


def _axes_or_new(ax: object) -> Axes:
    plt, axes_type, _, _ = _matplotlib()
    if ax is None:
        _, ax = plt.subplots()
        ax.figure.subplots_adjust(left=0, right=1, bottom=0, top=1)
        return ax
    if not isinstance(ax, axes_type):
        raise TypeError(f"ax must be a matplotlib Axes or None, got {type(ax).__name__}")
    return ax


def _box(ax: Axes, x: float, y: float, text: str, color: str, *, gid: str | None = None,
         width: float = _BOX_W, height: float = _BOX_H, fontsize: float = 12) -> FancyBboxPatch:
    _, _, _, fancy_box = _matplotlib()
    patch = fancy_box((x - width / 2, y - height / 2), width, height, boxstyle="round,pad=0.05",
                      facecolor=color, edgecolor="black", linewidth=1.2)
    if gid is not None:
        patch.set_gid(gid)
    ax.add_patch(patch)
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)
    return patch


def _arrow(ax: Axes, start: tuple[float, float], end: tuple[float, float], *,
           color: str = "black", connectionstyle: str = "arc3") -> None:
    _, _, fancy_arrow, _ = _matplotlib()
    ax.add_patch(fancy_arrow(start, end, arrowstyle="-|>", mutation_scale=13, color=color,
                             linewidth=1.3, connectionstyle=connectionstyle))


def _draw_rolled_at(ax: Axes, x0: float, label: str) -> None:
    """The rolled network, its box centred at (x0, 0)."""
    _box(ax, x0, 0, label, _SHARED_COLOR, gid=CELL_GID, fontsize=14)
    # input from below, state out on top
    ax.text(x0, -1.25, "$x_t$", ha="center", va="center", fontsize=12)
    _arrow(ax, (x0, -1.05), (x0, -_BOX_H / 2 - 0.05))
    _arrow(ax, (x0, _BOX_H / 2 + 0.05), (x0, 1.05))
    ax.text(x0, 1.25, "$h_t$", ha="center", va="center", fontsize=12)
    # the loop: out of the right side, round, and back in; it carries h_{t-1} into the next step
    right = x0 + _BOX_W / 2 + 0.05
    _arrow(ax, (right, 0.3), (right, -0.3), color="#d95f02", connectionstyle="arc3,rad=-2.0")
    ax.text(right + 0.72, 0, "$h_{t-1}$", ha="left", va="center", fontsize=11, color="#d95f02")


def _draw_unrolled_at(ax: Axes, x0: float, steps: int, label: str, shared: bool) -> float:
    """The unrolled chain, first copy centred at (x0, 0); returns the x of the last copy."""
    import matplotlib as mpl

    colors = mpl.colormaps["Pastel1"] if not shared else None
    # h_0 comes in from the left
    ax.text(x0 - 1.25, 0, "$h_0$", ha="center", va="center", fontsize=11, color="#d95f02")
    _arrow(ax, (x0 - 1.0, 0), (x0 - _BOX_W / 2 - 0.05, 0), color="#d95f02")
    for t in range(1, steps + 1):
        x = x0 + (t - 1) * _SPACING
        if shared:
            text, color = label, _SHARED_COLOR
        else:
            text, color = f"${label}_{{{t}}}$", colors((t - 1) % colors.N)
        _box(ax, x, 0, text, color, gid=CELL_GID, fontsize=14)
        ax.text(x, -1.25, f"$x_{{{t}}}$", ha="center", va="center", fontsize=11)
        _arrow(ax, (x, -1.05), (x, -_BOX_H / 2 - 0.05))
        # the state handed to the next copy (after the last copy: the final state)
        start, end = x + _BOX_W / 2 + 0.05, x + _SPACING - _BOX_W / 2 - 0.05
        _arrow(ax, (start, 0), (end, 0), color="#d95f02")
        ax.text((start + end) / 2, 0.2, f"$h_{{{t}}}$", ha="center", va="bottom", fontsize=11, color="#d95f02")
    return x0 + (steps - 1) * _SPACING


def _finish(ax: Axes, left: float, right: float, *, resize: bool) -> Figure:
    if resize:  # a figure made here: size it to the drawing, so there is no empty margin
        ax.figure.set_size_inches(_INCHES_PER_UNIT * (right - left), _INCHES_PER_UNIT * 3.2)
    ax.set_xlim(left, right)
    ax.set_ylim(-1.6, 1.6)
    ax.set_aspect("equal")
    ax.axis("off")
    return ax.figure


def draw_rolled(ax: Axes | None = None, *, label: str = "A") -> Figure:
    """Draw the rolled-up network: one box, input below, state on top, a loop arrow.

    Parameters
    ----------
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is made when omitted.
    label : str, default "A"
        The text in the network box.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the drawing, with one box of gid :data:`CELL_GID`.
    """
    label = _check_label(label, "label")
    resize = ax is None
    ax = _axes_or_new(ax)
    _draw_rolled_at(ax, 0.0, label)
    return _finish(ax, -1.0, 2.6, resize=resize)


def draw_unrolled(steps: int, ax: Axes | None = None, *, label: str = "A", shared: bool = True) -> Figure:
    """Draw the network unrolled over ``steps`` steps: one copy per step, joined by the state.

    Parameters
    ----------
    steps : int
        T, how many copies to draw (1 to :data:`MAX_DRAWN_STEPS`).
    ax : matplotlib.axes.Axes, optional
        Where to draw; a new figure is made when omitted.
    label : str, default "A"
        The text in every network box.
    shared : bool, default True
        True draws every copy alike (one set of weights, as in a recurrent
        network); False gives each copy its own colour and a subscript, the
        picture of a hypothetical chain with separate weights per step.

    Returns
    -------
    matplotlib.figure.Figure
        The figure holding the drawing, with ``steps`` boxes of gid :data:`CELL_GID`.
    """
    steps = _check_steps(steps)
    label = _check_label(label, "label")
    if not isinstance(shared, bool):
        raise TypeError(f"shared must be True or False, got {shared!r}")
    resize = ax is None
    ax = _axes_or_new(ax)
    last = _draw_unrolled_at(ax, 0.0, steps, label, shared)
    return _finish(ax, -1.6, last + _SPACING - 0.2, resize=resize)


def draw_rolled_and_unrolled(steps: int = 4, *, label: str = "A") -> Figure:
    """Draw the rolled network, an equals sign, and the same network unrolled over ``steps`` steps.

    Parameters
    ----------
    steps : int, default 4
        T, how many copies the unrolled side shows (1 to :data:`MAX_DRAWN_STEPS`).
    label : str, default "A"
        The text in the network boxes.

    Returns
    -------
    matplotlib.figure.Figure
        A new figure with ``steps + 1`` boxes of gid :data:`CELL_GID`.
    """
    steps = _check_steps(steps)
    label = _check_label(label, "label")
    ax = _axes_or_new(None)
    _draw_rolled_at(ax, 0.0, label)
    ax.text(3.0, 0, "=", ha="center", va="center", fontsize=24)
    last = _draw_unrolled_at(ax, 5.0, steps, label, shared=True)
    return _finish(ax, -0.9, last + _SPACING - 0.2, resize=True)


def cell_boxes(fig: Figure) -> list[FancyBboxPatch]:
    """The network boxes of a figure drawn by this module (the patches with gid :data:`CELL_GID`).

    Parameters
    ----------
    fig : matplotlib.figure.Figure
        A figure returned by :func:`draw_rolled`, :func:`draw_unrolled` or
        :func:`draw_rolled_and_unrolled`.

    Returns
    -------
    list of matplotlib.patches.FancyBboxPatch
        One entry per drawn copy of the network, in drawing order.
    """
    from matplotlib.figure import Figure

    if not isinstance(fig, Figure):
        raise TypeError(f"fig must be a matplotlib Figure, got {type(fig).__name__}")
    return [patch for ax in fig.axes for patch in ax.patches if patch.get_gid() == CELL_GID]


def _check_steps(steps: object) -> int:
    steps = check_positive_int(steps, "steps")
    if steps > MAX_DRAWN_STEPS:
        raise ValueError(
            f"steps must be at most {MAX_DRAWN_STEPS} (more copies are too small to read), got {steps}"
        )
    return steps
