"""The layers refuse numpy array subclasses (issue 12, defect 9): a masked array's mask would be ignored."""

from __future__ import annotations

import numpy as np
import pytest

from rnnbook.layers.registry import CELLS


class Tagged(np.ndarray):
    """A subclass of the kind a library might hand over, with behaviour rnnbook knows nothing of."""


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_masked_input_is_refused(cell):
    layer = CELLS[cell](3, 4, rng=0)
    x = np.ma.masked_invalid(np.ones((5, 2, 3)))
    x[2, 1, 0] = np.ma.masked  # a masked NaN would pass a finiteness check made on the data alone
    x.data[2, 1, 0] = np.nan
    with pytest.raises(TypeError, match="MaskedArray"):
        layer.forward(x)


@pytest.mark.parametrize("cell", sorted(CELLS))
def test_other_subclasses_are_refused(cell):
    layer = CELLS[cell](3, 4, rng=0)
    with pytest.raises(TypeError, match="Tagged"):
        layer.forward(np.ones((5, 2, 3)).view(Tagged))
    state = layer.init_state(2)
    parts = {name: value.view(Tagged) for name, value in layer.state_parts(state).items()}
    with pytest.raises(TypeError, match="Tagged"):
        layer.forward(np.ones((5, 2, 3)), layer.state_from_parts(parts))


def test_plain_arrays_still_work():
    layer = CELLS["gru"](3, 4, rng=0)
    states, _ = layer.forward(np.ones((5, 2, 3)))
    assert type(states) is np.ndarray and states.shape == (5, 2, 4)
