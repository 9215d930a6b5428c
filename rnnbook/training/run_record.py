"""What a checkpoint's metadata says about its run, read into a :class:`RunRecord`.

The command line reads a run's settings, step and validation losses through
:func:`read_record` (re-exported by :mod:`rnnbook.training.checkpoint`), so no
module outside the checkpoint's own needs to know the metadata's keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rnnbook.training.checkpoint_checks import CheckpointError

__all__ = ["RunRecord", "read_record"]


@dataclass(frozen=True)
class RunRecord:
    """What a checkpoint's metadata says about its run.

    Attributes
    ----------
    format_version : int
    cell : str
        A name from :data:`rnnbook.layers.registry.CELLS`.
    hidden_size, layers : int
    vocabulary : str
        The characters, in index order.
    step : int or None
        The training steps done.
    settings : dict or None
        The training settings the command line saved with the run (its own
        names and values, kept verbatim), None if it saved none.
    validation : list of [step, loss]
        The validation losses measured so far.
    elapsed : float
        Seconds of training so far.
    resumable : bool
        Whether the checkpoint holds the training state ``rnnbook train
        --resume`` needs (a folder written by ``export --weights`` does not).
    """

    format_version: int
    cell: str
    hidden_size: int
    layers: int
    vocabulary: str
    step: int | None = None
    settings: dict | None = None
    validation: list = field(default_factory=list)
    elapsed: float = 0.0
    resumable: bool = False


def read_record(meta: dict) -> RunRecord:
    """The :class:`RunRecord` of a checkpoint's metadata (as :func:`~rnnbook.training.checkpoint.load` returns it)."""
    try:
        settings = meta.get("run")
        return RunRecord(
            format_version=int(meta["format_version"]),
            cell=str(meta["model"]),
            hidden_size=int(meta["hidden_size"]),
            layers=int(meta["layers"]),
            vocabulary=str(meta["vocabulary"]),
            step=meta["trainer"]["step"] if "trainer" in meta else meta.get("step"),
            settings=settings if isinstance(settings, dict) else None,
            validation=list(meta.get("validation", [])),
            elapsed=float(meta.get("elapsed", 0.0)),
            resumable="trainer" in meta,
        )
    except (KeyError, TypeError, ValueError, AttributeError) as err:
        raise CheckpointError(f"the checkpoint's metadata is incomplete: {type(err).__name__}: {err}") from None
