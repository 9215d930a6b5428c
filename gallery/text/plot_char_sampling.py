"""
Sampling a character model at three temperatures
================================================

A vanilla RNN learns to write Python source, one character at a time; we
print what it writes at temperatures 0.5, 1.0 and 1.5 and plot its loss. It is
the chapter's first vanilla RNN: the same recipe and seed give the same model.
(Chapter: :ref:`char-model`.)
"""

# %%
# The text
# --------
# The built-in corpus is the source of a few standard-library modules, read
# from the Python that runs this script. The last tenth is held out: the model
# never trains on it, and we measure the loss there.
import math

import matplotlib.pyplot as plt
import numpy as np

from rnnbook.data.encoding import Vocabulary
from rnnbook.data.text import builtin_corpus, split_text
from rnnbook.models.charmodel import sample
from rnnbook.training.chartrainer import RECIPE, train_char_model

corpus = builtin_corpus()
vocab = Vocabulary.from_text(corpus)
train_text, valid_text = split_text(corpus, 0.1)
train_ids, valid_ids = vocab.encode(train_text), vocab.encode(valid_text[:6000])
print(f"{len(corpus):,} characters, vocabulary of {len(vocab)}: guessing costs ln {len(vocab)} = "
      f"{math.log(len(vocab)):.2f} nats per character")

# %%
# Training
# --------
# A vanilla RNN with 128 units reads 8 streams of the text side by side, 50
# characters per training step, carrying its state from one chunk to the next
# (truncated backpropagation through time). Adam does the rest, with a
# learning rate that falls along a cosine from 1e-2 over the 1500 training
# steps. ``train_char_model`` is the chapter's recipe: with seed 0 this is the
# chapter's first vanilla RNN.
model, trainer, curve = train_char_model(
    train_ids, len(vocab), cell="rnn", hidden_size=128, steps=1500, peak_lr=1e-2, seed=0,
    eval_ids=valid_ids, eval_every=150,
)
print(f"held-out loss after {trainer.step_count} training steps: {curve[-1, 1]:.3f} nats per character")

# %%
# Writing at three temperatures
# -----------------------------
# The scores are divided by the temperature before the softmax. Low is careful
# and repetitive, high is adventurous and misspelt; 1 is the model's own
# distribution. The seed is the same for all three.
for temperature in (0.5, 1.0, 1.5):
    text = sample(model, vocab, 200, temperature=temperature, prime="    def ", rng=1)
    print(f"--- temperature {temperature} ---\n    def {text}\n")

# %%
# The loss
# --------
# The training loss of every training step (a running mean) and the held-out
# loss every 150 training steps, against the cost of guessing blindly.
window = 25
running = np.convolve(trainer.losses, np.ones(window) / window, mode="valid")
fig, ax = plt.subplots(figsize=(7, 3.8))
ax.plot(np.arange(window, len(trainer.losses) + 1), running, color="#7570b3", label="training (running mean)")
ax.plot(curve[:, 0], curve[:, 1], "o-", color="#d95f02", label="held-out text")
ax.axhline(math.log(len(vocab)), color="black", ls="--", lw=1, label=f"uniform guess, ln {len(vocab)}")
ax.set_xlabel(f"training step ({RECIPE['batch_size']} streams × {RECIPE['seq_len']} characters)")
ax.set_ylabel("loss (nats per character)")
ax.set_title("A character-level RNN learning Python source")
ax.legend(frameon=False)
fig.tight_layout()
plt.show()
