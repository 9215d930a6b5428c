"""
Reading both ways: a bidirectional tagger
=========================================

The aligned many-to-many network of the four-shapes chapter tags each word of
a review *negated* when a "not" before it, in the same clause, applies to it.
What a one-directional tagger knows at a word is everything *before* it. A
bidirectional layer adds a second layer that reads the review from the end,
so at every word it also knows everything *after* it.

We train both taggers on two tasks: the chapter's (the tag depends on the
words before), and its mirror image (a word is tagged when a "not" *after* it,
in the same clause, points back at it). (Chapters: :ref:`four-shapes` and
:ref:`looking-back`; the
stacked layer is :class:`rnnbook.layers.stacked.Stacked`.)
"""

# %%
# Two taggers built on the stacked layer
# --------------------------------------
# ``Stacked("rnn", I, H, 1, bidirectional)`` is one recurrent layer, read one
# way or both ways. Its output has H numbers per word, or 2H when
# bidirectional (the forward states, then the reverse ones), and a dense
# read-out turns them into tag scores.
import matplotlib.pyplot as plt
import numpy as np

from rnnbook import Adam, fit
from rnnbook.data.datasets import TAGS, mirrored_negation_tags, negation_tags, sentiment_sentences, sentiment_vocabulary
from rnnbook.models.tagger import StackedTagger

# %%
# The data, and the mirrored task
# -------------------------------
# Reviews are padded at the start to 12 words. The mirrored tags are the
# chapter's tags of each review read backwards, turned round again.
words = sentiment_vocabulary()
reviews_train, _, _ = sentiment_sentences(2000, rng=0)
reviews_test, _, _ = sentiment_sentences(1000, rng=1)
x_train = words.one_hot(words.encode(reviews_train, length=12, end=False, pad_at="start"))
x_test = words.one_hot(words.encode(reviews_test, length=12, end=False, pad_at="start"))


tasks = {
    '"not" before the word': (negation_tags(reviews_train, length=12), negation_tags(reviews_test, length=12)),
    '"not" after the word': (
        mirrored_negation_tags(reviews_train, length=12),
        mirrored_negation_tags(reviews_test, length=12),
    ),
}

# %%
# Train and score
# ---------------
# The score is the fraction of negated words tagged right (answering "plain"
# everywhere would get none of them), for three runs of each tagger.
negated = TAGS.index("negated")
scores = {}
for task, (tags_train, tags_test) in tasks.items():
    for bidirectional in (False, True):
        found = []
        for seed in range(3):
            tagger = StackedTagger(len(words), 16, len(TAGS), bidirectional=bidirectional, rng=seed)
            fit(tagger, x_train, tags_train, Adam(lr=0.01), epochs=6, batch_size=50, rng=seed)
            predicted = tagger.logits(x_test).argmax(axis=-1)
            found.append(float(np.mean(predicted[tags_test == negated] == negated)))
        scores[task, bidirectional] = found
        print(f"{task:24s} {'both ways' if bidirectional else 'forward':9s} negated words found: {np.round(found, 3)}")

# %%
# Direction has to match where the information is: on the chapter's task the
# forward tagger has already read the "not" when it reaches the word, and both
# taggers find the negated words. On the mirrored task the forward tagger has
# not read the "not" yet when it must tag the word, so it can only guess from
# the words before; the tagger that also reads backwards has read it, and
# finds the negated words as easily as on the chapter's task.
fig, ax = plt.subplots(figsize=(7, 3.5), layout="constrained")
for k, task in enumerate(tasks):
    for shift, (bidirectional, color) in enumerate([(False, "#7570b3"), (True, "#1b9e77")]):
        values = scores[task, bidirectional]
        x = k + 0.35 * (shift - 0.5)
        ax.bar(x, np.median(values), width=0.33, color=color,
               label=("both ways" if bidirectional else "forward only") if k == 0 else None)
        ax.plot([x] * len(values), values, "o", color="black", ms=3)
ax.set_xticks(range(len(tasks)), list(tasks))
ax.set_ylabel("negated words tagged right (test)")
ax.set_ylim(0, 1.25)
ax.set_yticks([0, 0.25, 0.5, 0.75, 1])
ax.legend(frameon=False, loc="upper center", ncol=2)
plt.show()
