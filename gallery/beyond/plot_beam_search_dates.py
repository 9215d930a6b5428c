"""
Greedy, sampling or a beam? Translating dates
=============================================

A translator writes its output one token at a time. *Greedy* decoding takes
the most likely token at every step and never looks back; *beam search* keeps
the few most likely partial outputs (by summed log-probability) and picks the
best complete one at the end. With a beam of one it is greedy decoding.
*Sampling* draws every token from the softmax of the scores divided by a
temperature. We compare the three on the date translators of the attention
chapter, with 32 state units. (Chapter: :ref:`looking-back`; the search is
:func:`rnnbook.models.decoding.beam_search`.)
"""

# %%
# Train the two translators without attention
# -------------------------------------------
# The same data and settings as the chapter: 3000 dates for training, 500 for
# testing, 12 epochs, three runs each.
import matplotlib.pyplot as plt
import numpy as np

from rnnbook import Adam, fit
from rnnbook.data.datasets import date_tokens, date_vocabularies, dates
from rnnbook.models.decoding import beam_search, sample_outputs
from rnnbook.models.seq2seq import Translator, sequence_accuracy

said, iso = date_vocabularies()
written_train, iso_train = dates(3000, rng=0)
written_test, iso_test = dates(500, rng=1)


def read(texts):
    return said.one_hot(said.encode([date_tokens(t) for t in texts], length=7, end=False, pad_at="start"), np.float32)


x_train, x_test = read(written_train), read(written_test)
y_train, y_test = iso.encode(iso_train), iso.encode(iso_test)



beams = [1, 2, 3, 5, 10]
taus = [0.5, 1.0]
exact, sampled = {}, {}
for name, feed_context in [("state at every step", True), ("state only at the start", False)]:
    exact[name], sampled[name] = [], []
    for seed in range(3):
        model = Translator(len(said), 32, len(iso), feed_context=feed_context, rng=seed, dtype=np.float32)
        fit(model, x_train, y_train, Adam(lr=0.003), epochs=12, batch_size=50, rng=seed, max_norm=5.0)
        exact[name].append([sequence_accuracy(beam_search(model, x_test, 11, k)[0], y_test) for k in beams])
        draw = np.random.default_rng(seed)
        sampled[name].append([sequence_accuracy(sample_outputs(model, x_test, 11, tau, draw), y_test) for tau in taus])
    exact[name], sampled[name] = np.array(exact[name]), np.array(sampled[name])  # (runs, beams), (runs, taus)
    print(name)
    for k, column in zip(beams, exact[name].T, strict=True):
        print(f"  beam {k:2d}:           exact dates {np.round(column, 3)}")
    for tau, column in zip(taus, sampled[name].T, strict=True):
        print(f"  sampling, tau={tau}: exact dates {np.round(column, 3)}")

# %%
# What a beam can and cannot do
# -----------------------------
# A beam repairs outputs where greedy decoding took a token that looked best
# but led to a less likely whole date; it cannot repair what the model never
# learned. The translator with the state only at the start mostly cannot
# carry the month and day to the end of the output, and no search over its own
# guesses finds them. Sampling (dashed: temperature 0.5, dotted: 1.0) writes
# fewer dates right than greedy decoding: every draw risks a digit.
fig, ax = plt.subplots(figsize=(6.5, 3.8), layout="constrained")
for (name, values), color in zip(exact.items(), ["#d95f02", "#7570b3"], strict=True):
    ax.plot(beams, np.median(values, axis=0), "o-", color=color, label=name)
    ax.fill_between(beams, values.min(axis=0), values.max(axis=0), color=color, alpha=0.2)
    for tau, style in zip(taus, ["--", ":"], strict=True):
        ax.axhline(np.median(sampled[name][:, taus.index(tau)]), color=color, ls=style, lw=1)
ax.set_xscale("log")
ax.set_xticks(beams, [str(k) for k in beams])
ax.set_xlabel("beam size (1 = greedy)")
ax.set_ylabel("exact dates (test)")
ax.set_ylim(0, 1)
ax.legend(frameon=False)
plt.show()
