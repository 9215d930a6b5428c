"""Deep and bidirectional recurrent layers, laid out exactly as ``torch.nn.RNN``/``LSTM``/``GRU``.

A :class:`Stacked` layer is ``num_layers`` layers of one cell, each reading the
outputs of the one below; with ``bidirectional=True`` every layer has a second
cell that reads the sequence from the end to the start.  It is built on the
single-layer contract of :class:`rnnbook.layers.base.RecurrentLayer`: each
(layer, direction) is an ordinary layer of the registry whose parameters are
views into the stack's one dict, so the fast kernels do all the work.

Everything follows torch's conventions (:data:`DIRECTION_SUFFIX`):

* parameters ``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``,
  ``bias_hh_l{k}``, and the same with ``_reverse`` for the backward
  direction; layer 0's ``weight_ih`` is (G*H, I), every later layer's
  (G*H, D*H), D the number of directions;
* output (T, B, D*H): the forward direction's states, then the reverse
  direction's, whose state at position t has read x_T down to x_t;
* initial and final states (L*D, B, H), ordered layer 0 forward, layer 0
  reverse, layer 1 forward, ...; for the LSTM a tuple ``(h, c)`` of two such
  arrays.

So a ``state_dict`` of ``torch.nn.LSTM(I, H, num_layers=L,
bidirectional=...)`` and :attr:`Stacked.params` hold the same names and
shapes, and copy across as they are.  There is no dropout between layers:
the layer is deterministic, and a model that wants dropout applies it to the
inputs it feeds in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnbook._validation import check_array, check_instance, check_positive_int, check_rng
from rnnbook.layers.base import Params, State, check_params
from rnnbook.layers.registry import make_cell

#: The parameter-name suffix of each direction.
DIRECTION_SUFFIX = ("", "_reverse")
_PARTS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


@dataclass(frozen=True)
class StackedTrace:
    """What :meth:`Stacked.run` keeps for :meth:`Stacked.backprop`.

    Attributes
    ----------
    traces : list
        One trace per (layer, direction), in the order of the states.
    outputs : list of numpy.ndarray, each (T, B, D*H)
        Every layer's output, layer 0 first.
    """

    traces: list[Any]
    outputs: list[np.ndarray]

    @property
    def output(self) -> np.ndarray:
        """The top layer's output (T, B, D*H)."""
        return self.outputs[-1]


class Stacked:
    """``num_layers`` recurrent layers, optionally bidirectional, with torch's names and layouts.

    Parameters
    ----------
    cell : {"rnn", "lstm", "gru"}
    input_size : int
        I, features per input step.
    hidden_size : int
        H, the state size of every layer and direction.
    num_layers : int, default 1
        L.
    bidirectional : bool, default False
        Add a reverse direction to every layer (D = 2).
    rng : numpy.random.Generator or int
        Randomness for the initial weights, U(-1/sqrt(H), 1/sqrt(H)) as in torch.
    dtype : float32 or float64
    activation : str, default "tanh"
        The RNN's activation (gated cells have their own).

    Attributes
    ----------
    params : dict of str to numpy.ndarray
        ``weight_ih_l0`` (G*H, I), ``weight_hh_l0`` (G*H, H), ``bias_ih_l0``
        and ``bias_hh_l0`` (G*H,), then the same for ``_reverse`` and for every
        later layer (whose ``weight_ih`` is (G*H, D*H)).
    cells : list of RecurrentLayer
        The L*D single layers, layer 0 forward first; their ``params`` are views
        into :attr:`params`.
    """

    def __init__(
        self,
        cell: str,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        bidirectional: bool = False,
        *,
        rng: np.random.Generator | int,
        dtype: type | np.dtype = np.float64,
        activation: str = "tanh",
    ) -> None:
        rng = check_rng(rng)
        self.num_layers = check_positive_int(num_layers, "num_layers")
        if not isinstance(bidirectional, bool):
            raise TypeError(f"bidirectional must be True or False, got {bidirectional!r}")
        self.bidirectional = bidirectional
        self.directions = 2 if bidirectional else 1
        hidden_size = check_positive_int(hidden_size, "hidden_size")
        self.cells = []
        params: Params = {}
        for layer in range(self.num_layers):
            size = input_size if layer == 0 else self.directions * hidden_size
            for suffix in DIRECTION_SUFFIX[: self.directions]:
                one = make_cell(cell, size, hidden_size, rng=rng, dtype=dtype, activation=activation)
                self.cells.append(one)
                params |= {f"{part}_l{layer}{suffix}": one.params[part] for part in _PARTS}
        self.cell = cell
        self.params = params
        # The names of a state's parts ("h", and "c" for an LSTM), asked once: every step of a
        # training run stacks and unstacks states by them.
        self._parts = tuple(self.cells[0].state_parts(self.cells[0].init_state(1)))

    # -- parameters: one dict with torch's names, the cells see views ---------------------

    @property
    def params(self) -> Params:
        """The parameters by torch's names; assigning a dict with the same names rebinds every cell to it."""
        return self._params

    @params.setter
    def params(self, params: Params) -> None:
        names = set(self.parameter_names())
        if not isinstance(params, dict) or set(params) != names:
            got = sorted(params) if isinstance(params, dict) else type(params).__name__
            raise ValueError(f"params must hold exactly {sorted(names)}, got {got}")
        self._params = params
        for index, one in enumerate(self.cells):
            layer, direction = divmod(index, self.directions)
            suffix = DIRECTION_SUFFIX[direction]
            one.params = {part: params[f"{part}_l{layer}{suffix}"] for part in _PARTS}

    def check_params(self) -> None:
        """Check every cell's parameters (shapes of its kind of cell, finite, one dtype) and how the layers fit."""
        for index, one in enumerate(self.cells):
            layer, direction = divmod(index, self.directions)
            where = f"layer {layer}{DIRECTION_SUFFIX[direction]}"
            try:
                inputs, hidden, dtype = check_params(one.params, one.gates)
            except (TypeError, ValueError) as err:
                raise type(err)(f"{where}: {err}") from None
            want = (self.cells[0].input_size if layer == 0 else self.directions * hidden, self.cells[0].hidden_size,
                    self.cells[0].dtype)
            if (inputs, hidden, dtype) != want:
                raise ValueError(
                    f"{where}: parameters must have input size {want[0]}, hidden size {want[1]} and dtype "
                    f"{want[2]} to fit the stack, got {inputs}, {hidden} and {dtype}"
                )

    def parameter_names(self) -> list[str]:
        """torch's parameter names for this stack, in torch's order."""
        return [
            f"{part}_l{layer}{suffix}"
            for layer in range(self.num_layers)
            for suffix in DIRECTION_SUFFIX[: self.directions]
            for part in _PARTS
        ]

    @property
    def input_size(self) -> int:
        """I."""
        return self.cells[0].input_size

    @property
    def hidden_size(self) -> int:
        """H, per layer and direction."""
        return self.cells[0].hidden_size

    @property
    def output_size(self) -> int:
        """D*H, the features of each output step."""
        return self.directions * self.hidden_size

    @property
    def dtype(self) -> np.dtype:
        """The parameters' dtype."""
        return self.cells[0].dtype

    # -- states: (L*D, B, H) arrays, a tuple (h, c) for the LSTM --------------------------

    def _part_names(self) -> tuple[str, ...]:
        return self._parts

    def unstack_state(self, state: State) -> list[State]:
        """The stacked state as a list of one state per cell (views), layer 0 forward first."""
        arrays = (state,) if len(self._part_names()) == 1 else state
        return [
            one.state_from_parts({name: a[i] for name, a in zip(self._part_names(), arrays, strict=True)})
            for i, one in enumerate(self.cells)
        ]

    def stack_states(self, states: list[State]) -> State:
        """A list of one state per cell as the stacked state (copies)."""
        parts = [one.state_parts(s) for one, s in zip(self.cells, states, strict=True)]
        arrays = tuple(np.stack([p[name] for p in parts]) for name in self._part_names())
        return arrays[0] if len(arrays) == 1 else arrays

    def init_state(self, batch: int) -> State:
        """Zeros in the stacked layout, (L*D, B, H) (a tuple of two for the LSTM)."""
        return self.stack_states([one.init_state(batch) for one in self.cells])

    def check_state(self, state0: object, batch: int) -> State:
        """Check a stacked initial state for ``batch`` sequences (None means zeros); one-line errors."""
        if state0 is None:
            return self.init_state(batch)
        names = self._part_names()
        shape = (len(self.cells), batch, self.hidden_size)
        what = f"{len(self.cells)} = num_layers*directions, batch {batch}, hidden {self.hidden_size}"
        if len(names) > 1:
            if not isinstance(state0, tuple) or len(state0) != len(names):
                got = type(state0).__name__
                raise ValueError(f"state0 must be a tuple ({', '.join(names)}) of arrays {shape}, got {got}")
            return tuple(
                self._check_part(part, f"state0[{k}] ({name})", shape, what)
                for k, (name, part) in enumerate(zip(names, state0, strict=True))
            )
        return self._check_part(state0, "state0", shape, what)

    def _check_part(self, part: object, name: str, shape: tuple[int, ...], what: str) -> np.ndarray:
        if isinstance(part, np.ndarray) and part.shape != shape:
            raise ValueError(f"{name} must have shape {shape} ({what}), got {part.shape}")
        return check_array(part, name, ndim=3, shape=shape, dtype=self.dtype)

    # -- the passes ---------------------------------------------------------------------

    def run(self, x: np.ndarray, state0: State | None = None) -> tuple[np.ndarray, StackedTrace]:
        """The forward pass without input checks: the output (T, B, D*H) and a trace."""
        if state0 is None:
            state0 = self.init_state(x.shape[1])
        starts = self.unstack_state(state0)
        traces, layer_outputs = [], []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self.directions):
                index = layer * self.directions + direction
                source = x if direction == 0 else np.ascontiguousarray(x[::-1])
                states, trace = self.cells[index].run(source, starts[index])
                traces.append(trace)
                outputs.append(states if direction == 0 else states[::-1])
            x = outputs[0] if self.directions == 1 else np.concatenate(outputs, axis=-1)
            layer_outputs.append(x)
        return x, StackedTrace(traces=traces, outputs=layer_outputs)

    def backprop(
        self, trace: StackedTrace, doutput: np.ndarray, dfinal: State | None = None
    ) -> tuple[Params, np.ndarray, State]:
        """Backpropagation through every layer and direction, without input checks.

        Parameters
        ----------
        trace : StackedTrace
        doutput : numpy.ndarray, shape (T, B, D*H)
            The gradient with respect to the output.
        dfinal : state in the stacked layout, optional
            The gradient with respect to the final states.

        Returns
        -------
        grads : dict
            By torch's names.
        dx : numpy.ndarray, shape (T, B, I)
        dstate0 : the gradient with respect to the initial states, stacked layout.
        """
        hidden = self.hidden_size
        dfinals = [None] * len(self.cells) if dfinal is None else self.unstack_state(dfinal)
        grads: Params = {}
        dstarts: list[State] = [None] * len(self.cells)
        dabove = doutput
        for layer in range(self.num_layers - 1, -1, -1):
            dbelow = None
            for direction in range(self.directions):
                index = layer * self.directions + direction
                dstates = dabove[..., direction * hidden : (direction + 1) * hidden]
                if direction == 1:
                    dstates = dstates[::-1]
                g, dx, dstarts[index] = self.cells[index].backprop(
                    trace.traces[index], np.ascontiguousarray(dstates), dfinals[index]
                )
                if direction == 1:
                    dx = dx[::-1]
                dbelow = dx if dbelow is None else dbelow + dx
                suffix = DIRECTION_SUFFIX[direction]
                grads |= {f"{part}_l{layer}{suffix}": g[part] for part in _PARTS}
            dabove = dbelow
        return {name: grads[name] for name in self.parameter_names()}, dabove, self.stack_states(dstarts)

    def final_state(self, trace: StackedTrace) -> State:
        """The final states (copies), stacked: (L*D, B, H), a tuple of two for the LSTM.

        For the reverse direction that is its state after reading x_1, the last
        step it takes, as in torch.
        """
        return self.stack_states([one.final_state(t) for one, t in zip(self.cells, trace.traces, strict=True)])

    def step(self, x: np.ndarray, state: State) -> tuple[np.ndarray, State]:
        """One time step of a one-directional stack on ``x`` (B, I): ``(output (B, H), new state)``.

        Trusts its arrays, like the layers' ``step`` (meant for generating one
        token at a time; :meth:`rnnbook.models.charmodel.CharModel.step` checks
        them first).  A reverse direction needs the inputs that come later, so a
        bidirectional stack cannot step; it refuses.
        """
        if self.bidirectional:
            raise ValueError("a bidirectional stack cannot step: its reverse direction needs the inputs still to come")
        states = []
        for one, start in zip(self.cells, self.unstack_state(state), strict=True):
            x, new = one.step(x, start)
            states.append(new)
        return x, self.stack_states(states)

    def forward(self, x: np.ndarray, state0: State | None = None) -> tuple[np.ndarray, StackedTrace]:
        """Check the parameters, ``x`` (T, B, I) and ``state0``, then :meth:`run`."""
        self.check_params()
        x = check_array(x, "x", ndim=3, shape=(None, None, self.input_size), dtype=self.dtype)
        return self.run(x, self.check_state(state0, x.shape[1]))

    def backward(
        self, trace: StackedTrace, doutput: np.ndarray, dfinal: State | None = None
    ) -> tuple[Params, np.ndarray, State]:
        """Check ``doutput`` (T, B, D*H) and ``dfinal``, then :meth:`backprop`."""
        check_instance(trace, StackedTrace, "trace", "the StackedTrace that the forward pass returned")
        doutput = check_array(doutput, "doutput", ndim=3, shape=trace.output.shape, dtype=self.dtype)
        if dfinal is not None:
            dfinal = self.check_state(dfinal, doutput.shape[1])
        return self.backprop(trace, doutput, dfinal)

