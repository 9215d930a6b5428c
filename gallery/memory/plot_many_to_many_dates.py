"""
Many-to-many: translating dates
===============================

An encoder reads "24 november 2026" and a decoder writes "2026-11-24"; which
characters come out right depends on how the decoder gets the encoder's state. (Chapter: :ref:`encoder-decoder`.)
"""

# %%
# Written dates and ISO dates
# ---------------------------
# Every day from 2000 to 2029 is equally likely. The encoder reads digits one
# at a time and the month as one token, padded at the start to 7 tokens; the
# decoder writes 10 characters and an end token.
import matplotlib.pyplot as plt
import numpy as np

from rnnbook import Adam, fit
from rnnbook.data.datasets import date_tokens, date_vocabularies, dates
from rnnbook.models.seq2seq import Translator, sequence_accuracy

said, iso = date_vocabularies()
written_train, iso_train = dates(3000, rng=0)
written_test, iso_test = dates(500, rng=1)


def read(texts):
    """One-hot source tokens, shape (7, N, tokens)."""
    return said.one_hot(said.encode([date_tokens(t) for t in texts], length=7, end=False, pad_at="start"))


x_train, x_test = read(written_train), read(written_test)
y_train, y_test = iso.encode(iso_train), iso.encode(iso_test)

# %%
# Two ways to hand over the state
# -------------------------------
# Sutskever et al. (2014) start the decoder from the encoder's final state and
# nothing more; Cho et al. (2014) also feed that state to the decoder as an
# extra input at every step. Same data, same number of training steps, same
# seed (the chapter trains five seeds of each and shows their spread).
results = {}
for feed_context in (False, True):
    model = Translator(len(said), 64, len(iso), feed_context=feed_context, rng=0)
    losses = fit(model, x_train, y_train, Adam(lr=0.003), epochs=12, batch_size=50, rng=0, max_norm=5.0)
    out = model.generate(x_test, length=11)
    results[feed_context] = (losses, out)
    print(f"state at every step: {feed_context!s:>5}, exact dates: {sequence_accuracy(out, y_test):.3f}")
for text, out in zip(written_test[:5], iso.decode(results[False][1][:, :5]), strict=True):
    print(f"  start only: {text:>18} -> {''.join(out)}")

# %%
# Which characters survive?
# -------------------------
# Accuracy at each output position. The year is read last and written first;
# the day is read first and written last, so with only a starting state it
# has to survive the longest, and it is the first to fade.
fig, (ax_pos, ax_loss) = plt.subplots(1, 2, figsize=(11, 3.6), gridspec_kw={"width_ratios": [1.3, 1]})
positions = [*"YYYY-MM-DD", "end"]
for shift, (feed_context, color, name) in enumerate([(False, "#7570b3", "state only at the start"),
                                                     (True, "#d95f02", "state at every step")]):
    right = (results[feed_context][1] == y_test).mean(axis=1)
    ax_pos.bar(np.arange(11) + 0.4 * (shift - 0.5), right, width=0.4, color=color, label=name)
    ax_loss.plot(results[feed_context][0], color=color, label=name)
ax_pos.set_xticks(range(11), positions)
ax_pos.set_ylabel("test accuracy")
ax_pos.set_ylim(0, 1.25)
ax_pos.set_yticks([0, 0.25, 0.5, 0.75, 1])
ax_pos.legend(frameon=False, ncol=2, fontsize=8, loc="upper center")
ax_pos.set_title("accuracy by output position", fontsize=10)
ax_loss.set_yscale("log")
ax_loss.set_xlabel("training step")
ax_loss.set_ylabel("loss (nats)")
ax_loss.set_title("training loss", fontsize=10)
fig.tight_layout()
plt.show()
