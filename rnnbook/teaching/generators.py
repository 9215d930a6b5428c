"""One generator per kind of problem: small numbers in, the package's own answer out.

Each generator draws "nice" numbers (one decimal, small integers) from the
numpy Generator it is given, prints every one of them in the question, and
computes the answer by calling the function of :mod:`rnnbook` that the book
teaches (never a formula of its own that could drift from the package).  The
worked steps print the intermediate values the same functions return.
"""

from __future__ import annotations

import functools

import numpy as np

from rnnbook.analysis.gradients import pascanu_bound, truncated_backprop_through_time
from rnnbook.analysis.trace import chain_parameter_count, count_parameters, trace_states
from rnnbook.layers import lstm
from rnnbook.layers.attention import attend
from rnnbook.layers.registry import CELLS, make_cell
from rnnbook.layers.rnn import backprop_through_time, unroll
from rnnbook.models.classifiers import SequenceClassifier
from rnnbook.models.seq2seq import Translator
from rnnbook.models.tagger import SequenceTagger
from rnnbook.teaching.drafts import Draft, Part, as_given, col, mat, num, pnum, seq, shape_text, tenths
from rnnbook.training.losses import softmax, softmax_cross_entropy
from rnnbook.training.optim import clip_gradients


def _layer_name(cell: str, gates: int) -> tuple[str, str]:
    """How a sheet names a layer ("an LSTM layer"), from the registry's name and its number of gate blocks."""
    name = "vanilla recurrent layer (tanh)" if gates == 1 else f"{cell.upper()} layer"
    article = "an" if name[0] in "AEFHILMNORSX" else "a"  # as the letters are spoken: an LSTM, a GRU
    return article, name


def state_trace(rng: np.random.Generator) -> Draft:
    """Two state units, one input, three steps of the state equation by hand (tanh, h_0 = 0)."""
    w_l = tenths(rng, -1, 1, (2, 1))
    w = tenths(rng, -0.9, 0.9, (2, 2))
    b = tenths(rng, -0.5, 0.5, 2)
    x = tenths(rng, -1, 1, 3)
    params = {"weight_ih": w_l, "weight_hh": w, "bias_ih": b, "bias_hh": np.zeros(2)}
    trace = trace_states(params, x[:, None], activation="tanh")
    text = (
        "A recurrent layer has two state units and one input, and uses $f = \\tanh$: "
        "$h_t = \\tanh(W_l x_t + W h_{t-1} + b)$ with "
        f"$W_l = {col(w_l)}$, $W = {mat(w)}$, $b = {col(b)}$ and $h_0 = 0$. "
        f"It reads the inputs $(x_1, x_2, x_3) = {seq(x)}$. "
        "Compute the state after each step (keep three decimals between steps)."
    )
    parts, steps = [], []
    for t in range(3):
        for unit in range(2):
            parts.append(Part(f"$h_{t + 1}$, unit {unit + 1}", float(trace.states[t, unit]), tol_abs=0.01))
        steps.append(
            f"Step {t + 1}: $W_l x_{t + 1} = {col(trace.input_part[t])}$, $W h_{t} = {col(trace.memory_part[t])}$, "
            f"so $a_{t + 1} = W_l x_{t + 1} + W h_{t} + b = {col(trace.preactivation[t])}$ and "
            f"$h_{t + 1} = \\tanh(a_{t + 1}) = {col(trace.states[t])}$."
        )
    given = {"W_l": as_given(w_l), "W": as_given(w), "b": as_given(b), "x": as_given(x)}
    return Draft("A hand trace of the state equation", text, given, parts, steps)


def parameter_count(rng: np.random.Generator, gated: bool = False) -> Draft:
    """The parameters of a layer from its sizes (PyTorch's layout: two bias vectors).

    ``gated=False`` asks about the vanilla layer (and a chain with separate weights
    per step), ``gated=True`` about one of the registry's layers with gate blocks.
    """
    cells = [name for name, cls in CELLS.items() if (cls.gates > 1) == gated]
    cell = str(rng.choice(cells))
    inputs, hidden, steps_t = int(rng.integers(2, 31)), int(rng.integers(2, 65)), int(rng.integers(5, 101))
    layer = make_cell(cell, inputs, hidden, rng=np.random.default_rng(0), dtype=np.dtype(np.float64))
    total = count_parameters(layer.params)
    article, name = _layer_name(cell, layer.gates)
    hint = "" if layer.gates == 1 else (
        f" It computes {layer.gates} gate blocks, each with its own input weights, recurrent weights and biases."
    )
    text = (
        f"{article.capitalize()} {name} has input size $I = {inputs}$ and hidden size $H = {hidden}$, and reads "
        f"sequences of $T = {steps_t}$ steps. Count its parameters the way PyTorch stores them: input "
        "weights, recurrent weights and two bias vectors (one added to the input part, one to the recurrent part)."
        + hint
    )
    shapes = ", ".join(f"`{key}` {shape_text(p.shape)}" for key, p in layer.params.items())
    parts = [Part("the number of parameters of the layer", total, type="integer")]
    steps = [f"The arrays are {shapes}: together {total} numbers. The same weights serve every step, "
             f"so $T = {steps_t}$ does not change the count."]
    if layer.gates == 1:
        separate = chain_parameter_count(inputs, hidden, steps_t, shared=False)
        parts.append(Part(f"the number a chain with separate weights for each of the {steps_t} steps would have",
                          separate, type="integer"))
        steps.append(f"With separate weights per step there are $T$ copies: {steps_t} $\\times$ {total} = {separate}.")
    else:
        recurrent = count_parameters({"weight_hh": layer.params["weight_hh"]})
        parts.append(Part("how many of them are recurrent weights (`weight_hh`)", recurrent, type="integer"))
        steps.append(f"`weight_hh` has shape {shape_text(layer.params['weight_hh'].shape)}: {recurrent} numbers.")
    given = {"I": inputs, "H": hidden, "T": steps_t}
    return Draft(f"Counting the parameters of {article} {name.split(' (')[0]}", text, given, parts, steps)


def gradient_factor(rng: np.random.Generator) -> Draft:
    """Pascanu's bound on the gradient factor over a lag of T - k steps, for a diagonal W."""
    activation = str(rng.choice(["tanh", "sigmoid"]))
    if activation == "tanh":
        diagonal, gamma = tenths(rng, 0.5, 1.5, 2) * rng.choice([-1, 1], 2), 1.0
    else:
        diagonal, gamma = tenths(rng, 2, 6, 2) * rng.choice([-1, 1], 2), 0.25
    lag = int(rng.integers(5, 31))
    w = np.diag(diagonal)
    per_step = float(pascanu_bound(w, np.array([1]), activation)[0])
    over_k = float(pascanu_bound(w, np.array([lag]), activation)[0])
    f_tex = "\\tanh" if activation == "tanh" else "\\sigma"
    text = (
        f"A recurrent layer with $f = {f_tex}$ (so $|f'| \\le \\gamma = "
        f"{num(gamma)}$) has the diagonal recurrent matrix $W = {mat(w)}$; the singular values of a diagonal "
        "matrix are the absolute values of its diagonal entries. Pascanu's bound says the gradient factor "
        f"from step $k$ to step $T$, a lag of $T - k$ steps, is at most $(\\gamma \\lambda_1)^{{T-k}}$. "
        f"Take $T - k = {lag}$."
    )
    parts = [
        Part("$\\gamma \\lambda_1$, the bound on one step's factor", per_step, tol_abs=0.001),
        Part(f"the bound $(\\gamma \\lambda_1)^{{T-k}}$ over $T - k = {lag}$ steps", over_k, tol_abs=1e-4,
             tol_rel=0.02),
        Part("does the bound guarantee that the gradient vanishes as the lag $T - k$ grows (yes or no)?", per_step < 1,
             type="yesno"),
    ]
    steps = [
        f"$\\lambda_1 = \\max |W_{{ii}}| = {num(per_step / gamma)}$, so $\\gamma \\lambda_1 = {num(gamma)} \\times "
        f"{num(per_step / gamma)} = {num(per_step)}$.",
        f"$(\\gamma \\lambda_1)^{{{lag}}} = {num(per_step)}^{{{lag}}} = {num(over_k, 6)}$.",
        ("Yes: $\\gamma \\lambda_1 < 1$, so the bound shrinks geometrically with the lag."
         if per_step < 1 else
         "No: $\\gamma \\lambda_1 \\ge 1$, so the bound does not shrink; the gradient may or may not vanish."),
    ]
    given = {"gamma": gamma, "W": as_given(w), "lag": lag}
    return Draft("The gradient factor over many steps", text, given, parts, steps)


def clipping(rng: np.random.Generator) -> Draft:
    """One step of gradient clipping by the global norm."""
    weight = tenths(rng, -4, 4, 2)
    bias = tenths(rng, -4, 4, 1)
    theta = float(tenths(rng, 0.5, 5))
    grads = {"weight": weight.copy(), "bias": bias.copy()}
    total = clip_gradients(grads, theta)
    text = (
        f"Backpropagation gave the gradients $g_W = {seq(weight)}$ for a weight vector and $g_b = {num(bias[0])}$ "
        f"for a bias. They are clipped together by their global norm with threshold $\\theta = {num(theta)}$: when "
        "the norm $N$ of all entries together exceeds $\\theta$, every entry is multiplied by $\\theta / N$."
    )
    parts = [Part("the global norm $N$ before clipping", total, tol_abs=0.01, tol_rel=0.005)]
    labels = ["the first entry of $g_W$", "the second entry of $g_W$", "$g_b$"]
    clipped = [*grads["weight"], *grads["bias"]]
    parts += [Part(f"{label} after clipping", float(v), tol_abs=0.01) for label, v in zip(labels, clipped, strict=True)]
    squares = " + ".join(f"{pnum(v)}^2" for v in [*weight, *bias])
    steps = [f"$N = \\sqrt{{{squares}}} = {num(total)}$."]
    if total > theta:
        steps.append(f"$N > \\theta$: multiply by $\\theta / N = {num(theta)} / {num(total)} = {num(theta / total)}$, "
                     f"giving $g_W = {seq(grads['weight'])}$, $g_b = {num(grads['bias'][0])}$.")
    else:
        steps.append("$N \\le \\theta$: nothing changes.")
    given = {"g_W": as_given(weight), "g_b": float(bias[0]), "theta": theta}
    return Draft("One clipping step", text, given, parts, steps)


def lstm_step(rng: np.random.Generator) -> Draft:
    """One LSTM cell step with given gate values (two units)."""
    i, f, o = (tenths(rng, 0.1, 0.9, 2) for _ in range(3))
    g = tenths(rng, -0.9, 0.9, 2)
    c_prev = tenths(rng, -1.5, 1.5, 2)
    # The package's LSTM with zero weights and biases that put exactly these values out of its gates.
    logit = lambda p: np.log(p / (1 - p))  # noqa: E731
    bias = np.concatenate([logit(i), logit(f), np.arctanh(g), logit(o)])
    params = {"weight_ih": np.zeros((8, 1)), "weight_hh": np.zeros((8, 2)), "bias_ih": bias, "bias_hh": np.zeros(8)}
    states, trace = lstm.unroll(params, np.zeros((1, 1, 1)), (np.zeros((1, 2)), c_prev[None, :]))
    c_new, h_new = trace.cells[0, 0], states[0, 0]
    text = (
        "An LSTM cell with two units has computed its gates for step $t$: "
        f"$i_t = {col(i)}$, $f_t = {col(f)}$, $g_t = {col(g)}$, $o_t = {col(o)}$. "
        f"The previous cell state is $c_{{t-1}} = {col(c_prev)}$. Compute the new cell state "
        "$c_t = f_t \\odot c_{t-1} + i_t \\odot g_t$ and the new hidden state $h_t = o_t \\odot \\tanh(c_t)$ "
        "($\\odot$: multiply unit by unit)."
    )
    parts = [Part(f"$c_t$, unit {u + 1}", float(c_new[u]), tol_abs=0.005) for u in range(2)]
    parts += [Part(f"$h_t$, unit {u + 1}", float(h_new[u]), tol_abs=0.005) for u in range(2)]
    steps = [
        f"$f_t \\odot c_{{t-1}} = {col(f * c_prev)}$ and $i_t \\odot g_t = {col(i * g)}$, so $c_t = {col(c_new)}$.",
        f"$\\tanh(c_t) = {col(trace.tanh_cells[0, 0])}$, so $h_t = o_t \\odot \\tanh(c_t) = {col(h_new)}$.",
    ]
    given = {"i": as_given(i), "f": as_given(f), "g": as_given(g), "o": as_given(o), "c_prev": as_given(c_prev)}
    return Draft("One LSTM cell step", text, given, parts, steps)


def softmax_temperature(rng: np.random.Generator) -> Draft:
    """Softmax with a temperature over four scores."""
    scores = tenths(rng, -2, 3, 4, nonzero=False)
    tau = float(rng.choice([0.5, 0.8, 1.5, 2.0, 2.5]))
    probs = softmax(scores / tau)  # what rnnbook.models.charmodel.sample draws from
    text = (
        f"A character model gives the scores $(y_1, y_2, y_3, y_4) = {seq(scores)}$ to four characters. It samples "
        f"at temperature $\\tau = {num(tau)}$: $p_k = \\exp(y_k / \\tau) / \\sum_j \\exp(y_j / \\tau)$. "
        "Compute the four probabilities."
    )
    parts = [Part(f"$p_{k + 1}$", float(p), tol_abs=0.005) for k, p in enumerate(probs)]
    exps = np.exp(scores / tau)
    steps = [
        f"$y / \\tau = {seq(scores / tau)}$; $\\exp(y / \\tau) = {seq(exps)}$, which sum to {num(exps.sum())}.",
        f"Divide each by the sum: $p = {seq(probs)}$.",
    ]
    return Draft("Softmax with a temperature", text, {"y": as_given(scores), "tau": tau}, parts, steps)


def uniform_loss(rng: np.random.Generator) -> Draft:
    """The cross-entropy of a uniform guess, and of a model that gives the right answer probability p."""
    vocab = int(rng.integers(10, 101))
    p = float(tenths(rng, 0.1, 0.9))
    uniform, _ = softmax_cross_entropy(np.zeros((1, vocab)), np.array([0]))
    rest = np.full(vocab - 1, (1 - p) / (vocab - 1))
    model, _ = softmax_cross_entropy(np.log(np.concatenate([[p], rest]))[None, :], np.array([0]))
    text = (
        f"A vocabulary has $V = {vocab}$ characters. The loss of one prediction is the cross-entropy "
        "$L = -\\ln p$, where $p$ is the probability given to the character that really comes next (in nats). "
        f"A second model gives the right character the probability $p = {num(p)}$."
    )
    parts = [
        Part("the loss of a model that guesses uniformly (every character equally likely)", uniform, tol_abs=0.005),
        Part(f"the loss of the second model (right character with probability {num(p)})", model, tol_abs=0.005),
    ]
    steps = [f"Uniform: every character gets $1/V$, so $L = -\\ln(1/{vocab}) = \\ln {vocab} = {num(uniform)}$.",
             f"$L = -\\ln {num(p)} = {num(model)}$."]
    return Draft("The loss of a guess", text, {"V": vocab, "p": p}, parts, steps)


def four_shapes(rng: np.random.Generator) -> Draft:
    """The shape of each array in one of the shapes' models, read off the package's own model."""
    batch, steps_t, inputs, hidden = (int(rng.integers(lo, hi)) for lo, hi in [(2, 33), (3, 41), (2, 21), (4, 65)])
    answers = int(rng.integers(4, 30))  # the translator's vocabulary holds <pad>, <s>, </s> and at least one word
    model_rng = np.random.default_rng(0)
    x = np.zeros((steps_t, batch, inputs))
    shape = str(rng.choice(["many-to-one", "aligned many-to-many", "encoder-decoder"]))
    if shape == "many-to-one":
        model = SequenceClassifier(inputs, hidden, answers, rng=model_rng)
        states, _ = model.layer.forward(x)
        arrays = [("the input $x$", x.shape), ("the states $h_1 \\dots h_T$", states.shape),
                  ("the scores of the answer", model.logits(x).shape)]
        what = f"reads the whole sequence and then chooses one of {answers} possible answers from its last state"
        extra = ""
    elif shape == "aligned many-to-many":
        model = SequenceTagger(inputs, hidden, answers, rng=model_rng)
        states, _ = model.layer.forward(x)
        arrays = [("the input $x$", x.shape), ("the states $h_1 \\dots h_T$", states.shape),
                  ("the scores of the tags", model.logits(x).shape)]
        what = f"gives one of {answers} possible tags to every step"
        extra = ""
    else:
        out_steps = int(rng.integers(3, 41))
        model = Translator(inputs, hidden, answers, rng=model_rng)
        targets = np.full((out_steps, batch), 3)
        arrays = [("the input $x$", x.shape), ("the encoder's final state", model.encode(x).shape),
                  ("the decoder's scores", model.logits(x, targets).shape)]
        what = (f"reads the sequence with an encoder, then writes $T' = {out_steps}$ output tokens from a "
                f"vocabulary of $V = {answers}$")
        extra = " (every output token gets one score per vocabulary entry)"
    article = "An" if shape[0] in "ae" else "A"
    text = (
        f"{article} {shape} model (time-major arrays: time first, then the batch) with hidden size "
        f"$H = {hidden}$ {what}. "
        f"A batch holds $B = {batch}$ sequences of $T = {steps_t}$ steps with $I = {inputs}$ features each{extra}. "
        "Give the shape of each array, as a tuple like (2, 3, 4)."
    )
    parts = [Part(f"the shape of {label}", tuple(int(n) for n in s), type="shape") for label, s in arrays]
    steps = [f"{label[0].upper() + label[1:]}: {shape_text(s)}." for label, s in arrays]
    given = {"B": batch, "T": steps_t, "I": inputs, "H": hidden, "answers": answers}
    if shape == "encoder-decoder":
        given["T_out"] = out_steps
    return Draft(f"The arrays of {article.lower()} {shape} model", text, given, parts, steps)


def _truncated_input_gradient(steps_t: int, window: int, dstates: np.ndarray) -> np.ndarray:
    """dL/dx of a one-unit ReLU layer with W = W_l = 1 under truncated BPTT (positive states: f' = 1)."""
    params = {"weight_ih": np.ones((1, 1)), "weight_hh": np.ones((1, 1)), "bias_ih": np.zeros(1),
              "bias_hh": np.zeros(1)}
    _, trace = unroll(params, np.ones((steps_t, 1, 1)), activation="relu")
    _, dx = truncated_backprop_through_time(params, trace, dstates[:, None, None], window)
    return dx[:, 0, 0]


def tbptt_chunks(rng: np.random.Generator) -> Draft:
    """How truncated backpropagation through time cuts a sequence, read off the package's truncated gradient."""
    steps_t = int(rng.integers(20, 201))
    window = int(rng.integers(5, 41))
    if window >= steps_t:  # no step after the first window to ask about: draw again (sheets that worked keep theirs)
        window = int(rng.integers(5, steps_t))
    # With W = W_l = 1 and f' = 1 the input gradient of step t is the number of steps from t to the end of
    # its chunk: exactly 1 at each chunk's last step.
    dx = _truncated_input_gradient(steps_t, window, np.ones(steps_t))
    ends = np.flatnonzero(dx == 1)
    chunks = len(ends)
    last = int(ends[-1] - ends[-2]) if chunks > 1 else steps_t
    late = int(rng.integers(window + 1, steps_t + 1))
    early = int(rng.integers(max(1, late - window), late))
    one_hot = np.zeros(steps_t)
    one_hot[late - 1] = 1
    reaches = bool(_truncated_input_gradient(steps_t, window, one_hot)[early - 1] != 0)
    text = (
        f"A sequence of $T = {steps_t}$ steps is trained with truncated backpropagation through time, with "
        f"windows of {window} steps: the backward pass is cut into consecutive chunks of {window} steps (steps 1 "
        f"to {window}, then the next {window}, and so on; the last chunk may be shorter), and no gradient flows "
        f"from one chunk into the one before. Consider the loss at step {late} and the input at step {early}."
    )
    parts = [
        Part("the number of chunks", chunks, type="integer"),
        Part("the length of the last chunk", last, type="integer"),
        Part(f"does the gradient of the loss at step {late} reach the input at step {early} (yes or no)?",
             reaches, type="yesno"),
    ]
    chunk_of = lambda s: (s - 1) // window + 1  # noqa: E731
    steps = [
        f"$\\lceil {steps_t} / {window} \\rceil = {chunks}$ chunks; the first {chunks - 1} have {window} steps, "
        f"the last {steps_t} - {(chunks - 1) * window} = {last}.",
        f"Step {late} is in chunk {chunk_of(late)}, step {early} in chunk {chunk_of(early)}: "
        + ("the same chunk, so yes." if reaches else "an earlier chunk, so no."),
    ]
    given = {"T": steps_t, "window": window, "late": late, "early": early}
    return Draft("Truncated backpropagation through time", text, given, parts, steps)


def bptt_gradient(rng: np.random.Generator) -> Draft:
    """Backpropagation through time by hand: one unit, two steps, the loss is the last state."""
    w_l, w, b, h0 = (float(v) for v in tenths(rng, -1, 1, 4))
    x = tenths(rng, -1, 1, 2)
    params = {"weight_ih": np.array([[w_l]]), "weight_hh": np.array([[w]]), "bias_ih": np.array([b]),
              "bias_hh": np.zeros(1)}
    states, trace = unroll(params, x[:, None, None], np.array([[h0]]))
    dstates = np.zeros((2, 1, 1))
    dstates[1] = 1  # L = h_2
    grads, _, _ = backprop_through_time(params, trace, dstates)
    h1, h2 = float(states[0, 0, 0]), float(states[1, 0, 0])
    text = (
        "A recurrent layer with one unit computes $h_t = \\tanh(w_l x_t + w h_{t-1} + b)$ with "
        f"$w_l = {num(w_l)}$, $w = {num(w)}$, $b = {num(b)}$, starting from $h_0 = {num(h0)}$. It reads "
        f"$(x_1, x_2) = {seq(x)}$, and the loss is the last state, $L = h_2$. Use $\\tanh'(a) = 1 - \\tanh(a)^2$."
    )
    parts = [
        Part("$h_1$", h1, tol_abs=0.005),
        Part("$h_2$", h2, tol_abs=0.005),
        Part("$\\partial L / \\partial w$ (through both steps)", float(grads["weight_hh"][0, 0]), tol_abs=0.01,
             tol_rel=0.02),
    ]
    d2 = 1 - h2 * h2
    d1 = 1 - h1 * h1
    steps = [
        f"$h_1 = \\tanh({num(w_l)} \\cdot {pnum(x[0])} + {pnum(w)} \\cdot {pnum(h0)} + {pnum(b)}) = {num(h1)}$; "
        f"$h_2 = \\tanh({num(w_l)} \\cdot {pnum(x[1])} + {pnum(w)} \\cdot {pnum(h1)} + {pnum(b)}) = {num(h2)}$.",
        f"$\\partial L / \\partial a_2 = 1 - h_2^2 = {num(d2)}$; $\\partial L / \\partial h_1 = w \\cdot {num(d2)} = "
        f"{num(w * d2)}$; $\\partial L / \\partial a_1 = {pnum(w * d2)} \\cdot (1 - h_1^2) = {num(w * d2 * d1)}$.",
        f"$w$ is used at both steps: $\\partial L / \\partial w = {num(d2)} \\cdot h_1 + "
        f"{pnum(w * d2 * d1)} \\cdot h_0 = {num(grads['weight_hh'][0, 0])}$.",
    ]
    given = {"w_l": w_l, "w": w, "b": b, "h0": h0, "x": as_given(x)}
    return Draft("Backpropagation through time by hand", text, given, parts, steps)


def attention_weights(rng: np.random.Generator) -> Draft:
    """Dot-product attention by hand: three encoder states, one decoder state, weights and context."""
    keys = tenths(rng, -1, 1, (3, 2))  # h_1, h_2, h_3, two units each
    query = tenths(rng, -1, 1, 2)  # the decoder state h'
    context, cache = attend({}, query[None, :], keys[:, None, :], None, score="dot")  # the package's look back
    weights, context = cache.weights[:, 0], context[0]
    rows = ", ".join(f"${seq(k)}$" for k in keys)
    text = (
        f"An encoder has read three tokens and left the states {rows} (call them $h_t$, in that order). "
        "The decoder's state is "
        f"$h' = {seq(query)}$. With the dot score $e_t = h' \\cdot h_t$, the weights "
        "$\\alpha_t = \\exp(e_t) / \\sum_{t'} \\exp(e_{t'})$ and the context $\\bar h = \\sum_t \\alpha_t h_t$, "
        "compute the three weights and the two numbers of the context."
    )
    parts = [Part(f"$\\alpha_{t + 1}$", float(a), tol_abs=0.005) for t, a in enumerate(weights)]
    parts += [Part(f"context, unit {j + 1}", float(c), tol_abs=0.01) for j, c in enumerate(context)]
    scores = keys @ query
    steps = [
        f"Scores $e = {seq(scores)}$; $\\exp(e) = {seq(np.exp(scores))}$, which sum to {num(np.exp(scores).sum())}.",
        f"Weights $\\alpha = {seq(weights)}$ (they sum to 1).",
        f"Context $\\bar h = \\alpha_1 h_1 + \\alpha_2 h_2 + \\alpha_3 h_3 = {seq(context)}$.",
    ]
    return Draft("Attention weights by hand", text, {"h": as_given(keys), "h'": as_given(query)}, parts, steps)


#: Problem kind -> generator.
KINDS = {
    "state_trace": state_trace,
    "parameter_count": parameter_count,
    "gated_parameter_count": functools.partial(parameter_count, gated=True),
    "gradient_factor": gradient_factor,
    "clipping": clipping,
    "lstm_step": lstm_step,
    "softmax_temperature": softmax_temperature,
    "uniform_loss": uniform_loss,
    "four_shapes": four_shapes,
    "tbptt_chunks": tbptt_chunks,
    "bptt_gradient": bptt_gradient,
    "attention_weights": attention_weights,
}
