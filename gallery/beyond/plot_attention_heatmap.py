"""
Where does a translator with attention look?
============================================

A date translator with additive attention, trained on written dates such as
"24 november 2026", writes the ISO date "2026-11-24" one character at a time.
Before each character it weighs the encoder's states, one per input token.
This script trains one and draws those weights for a few dates it has never
seen, and their average over the whole test set. (Chapter: :ref:`looking-back`.)
"""

# %%
# The data and the model
# ----------------------
# The same dates as in the chapter: 3000 for training, 500 for testing, each
# written date read as 7 tokens (digits one by one, the month as one word,
# padded at the start), each ISO date written as 10 characters and an end token.
import matplotlib.pyplot as plt
import numpy as np

from rnnbook import Adam, fit
from rnnbook.data.datasets import date_tokens, date_vocabularies, dates
from rnnbook.models.attention import AttentionTranslator
from rnnbook.models.seq2seq import sequence_accuracy

said, iso = date_vocabularies()
written_train, iso_train = dates(3000, rng=0)
written_test, iso_test = dates(500, rng=1)
source_train = said.encode([date_tokens(t) for t in written_train], length=7, end=False, pad_at="start")
source_test = said.encode([date_tokens(t) for t in written_test], length=7, end=False, pad_at="start")
x_train, x_test = said.one_hot(source_train), said.one_hot(source_test)
y_train, y_test = iso.encode(iso_train), iso.encode(iso_test)

model = AttentionTranslator(len(said), 32, len(iso), rng=0)
fit(model, x_train, y_train, Adam(lr=0.003), epochs=12, batch_size=50, rng=0, max_norm=5.0)
tokens, weights = model.translate(x_test, 11)  # weights: (11 outputs, 7 inputs, 500 dates)
print(f"exact dates on the test set: {sequence_accuracy(tokens, y_test):.3f}")

# %%
# Four dates
# ----------
# Each row is one output character, each column one input token; a row sums to
# one. Dates with a one-digit day start with a padding token.
fig, axes = plt.subplots(1, 4, figsize=(13, 3.8), layout="constrained")
for ax, b in zip(axes, range(4), strict=True):
    inputs = ["pad" if i == said.pad else said.symbols[i][:3] for i in source_test[:, b]]
    image = ax.imshow(weights[:, :, b], cmap="Greys", vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(7), inputs, fontsize=8)
    ax.set_yticks(range(11), [*iso_test[b], "end"], fontsize=8)
    ax.set_title(written_test[b], fontsize=9)
axes[0].set_ylabel("written character")
fig.colorbar(image, ax=axes, label="attention weight", shrink=0.8)
plt.show()

# %%
# On average, by field
# --------------------
# Group the input tokens by the field they belong to (day, month, year,
# padding) and average, over the test set, the weight each output character
# puts on each field. Most of the weight of the year's characters falls on the
# year; the first character of the month and of the day looks hardest at its own
# field, while the second can lean on a neighbouring one: an encoder state has
# already read every token before it, so a later state also knows earlier tokens.
fields = ["pad", "day", "month", "year"]
by_field = np.zeros((11, 4))
for b in range(x_test.shape[1]):
    day = len(written_test[b].split()[0])
    field_of = ["pad"] * (2 - day) + ["day"] * day + ["month"] + ["year"] * 4
    for k, name in enumerate(fields):
        columns = [t for t, f in enumerate(field_of) if f == name]
        by_field[:, k] += weights[:, columns, b].sum(axis=1)
by_field /= x_test.shape[1]

fig, ax = plt.subplots(figsize=(6, 4.5), layout="constrained")
image = ax.imshow(by_field, cmap="Greys", vmin=0, vmax=1, aspect="auto")
ax.set_xticks(range(4), fields)
ax.set_yticks(range(11), [*"YYYY-MM-DD", "end"])
ax.set_xlabel("input field")
ax.set_ylabel("output character")
for j in range(11):
    for k in range(4):
        ax.text(k, j, f"{by_field[j, k]:.2f}", ha="center", va="center", fontsize=7,
                color="white" if by_field[j, k] > 0.5 else "black")
fig.colorbar(image, ax=ax, label="mean attention weight", shrink=0.8)
plt.show()
