"""
Many-to-one: reviews where word order matters
=============================================

Counting words cannot tell "not long but good" from "long but not good"; a
recurrent network that reads the words in order can. (Chapter: :ref:`four-shapes`.)
"""

# %%
# Reviews from a small grammar
# ----------------------------
# Two clauses, one with a sentiment word and one with a neutral word; half of
# the reviews hold a "not", on either word with equal chance. Padding goes at
# the start, so the recurrent network reads the review last.
import matplotlib.pyplot as plt
import numpy as np

from rnnbook import Adam, MLPClassifier, SequenceClassifier, fit, softmax
from rnnbook.data.datasets import NO_NOT, bag_of_words, sentiment_sentences, sentiment_vocabulary
from rnnbook.layers.base import split
from rnnbook.layers.linear import linear_forward

words = sentiment_vocabulary()
reviews_train, verdicts_train, _ = sentiment_sentences(2000, rng=0)
reviews_test, verdicts_test, not_test = sentiment_sentences(1000, rng=1)
ids_train = words.encode(reviews_train, length=12, end=False, pad_at="start")
ids_test = words.encode(reviews_test, length=12, end=False, pad_at="start")
has_not = not_test != NO_NOT

# %%
# A bag of words and a recurrent reader
# -------------------------------------
# The bag of words sees only how often each word occurs; even with a hidden
# layer it cannot recover the order.
bag = MLPClassifier(len(words), 32, 2, rng=0)
fit(bag, bag_of_words(ids_train, len(words)), verdicts_train, Adam(lr=0.01), epochs=20, batch_size=50, rng=0)
bag_right = bag.logits(bag_of_words(ids_test, len(words))).argmax(axis=1) == verdicts_test

reader = SequenceClassifier(len(words), 32, 2, rng=0)
fit(reader, words.one_hot(ids_train), verdicts_train, Adam(lr=0.01), epochs=10, batch_size=50, rng=0)
reader_right = reader.logits(words.one_hot(ids_test)).argmax(axis=1) == verdicts_test
for name, right in [("bag of words", bag_right), ("recurrent", reader_right)]:
    print(f"{name:>12}: without 'not' {right[~has_not].mean():.3f}, with 'not' {right[has_not].mean():.3f}")

# %%
# Watch the verdict form, word by word
# ------------------------------------
# The read-out layer can be applied to every state, not only the last: that
# shows what the network would answer if the review stopped there. Two twins
# with the same words, counted, and opposite meanings. Before the sentiment
# word arrives the answer means little; what matters is the last word, where
# the twins end on opposite sides.
twins = ["the film was not long but the plot was good".split(), "the film was long but the plot was not good".split()]
x = words.one_hot(words.encode(twins, end=False))
states, _ = reader.layer.forward(x)
positive = softmax(linear_forward(split(reader.params, "readout"), states))[..., 1]  # (steps, 2)
print("same counts:", np.array_equal(*bag_of_words(words.encode(twins, end=False), len(words))))

fig = plt.figure(figsize=(11, 4))
grid = fig.add_gridspec(2, 2, width_ratios=[1, 1.5])
ax_bars = fig.add_subplot(grid[:, 0])
for shift, (name, right, color) in enumerate([("bag of words", bag_right, "#888888"),
                                              ("recurrent", reader_right, "#d95f02")]):
    ax_bars.bar(np.arange(2) + 0.38 * (shift - 0.5), [right[~has_not].mean(), right[has_not].mean()],
                width=0.38, color=color, label=name)
ax_bars.axhline(0.5, ls="--", color="black", lw=1)
ax_bars.set_xticks(range(2), ["without 'not'", "with 'not'"])
ax_bars.set_ylim(0, 1.25)
ax_bars.set_yticks([0, 0.25, 0.5, 0.75, 1])
ax_bars.set_ylabel("test accuracy")
ax_bars.legend(frameon=False, loc="upper center", ncol=2, fontsize=8)
for j, (review, color) in enumerate(zip(twins, ["#1b9e77", "#7570b3"], strict=True)):
    ax = fig.add_subplot(grid[j, 1])
    ax.plot(positive[:, j], "o-", color=color)
    ax.set_xticks(range(len(review)), review, fontsize=8)
    ax.set_ylim(-0.1, 1.1)
    ax.set_ylabel("P(positive)", fontsize=8)
    ax.axhline(0.5, ls=":", color="black", lw=0.8)
fig.tight_layout()
plt.show()
