"""
Inside the memory: hidden units over text
=========================================

A briefly trained LSTM (the chapter's first LSTM: the same recipe and seed
give the same model) reads code it never trained on; we draw, as a heatmap
over the characters, the cell unit that follows the position in the line best.
(Chapter: :ref:`char-model`.)
"""

# %%
# Train a small LSTM
# ------------------
# 64 units, 1500 training steps of 8 streams by 50 characters on the built-in
# corpus, with the chapter's recipe (``train_char_model``, seed 0). The last
# module of the corpus lies in the held-out tenth: the model reads it below
# for the first time.
import sysconfig
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import TwoSlopeNorm

from rnnbook.data.encoding import Vocabulary
from rnnbook.data.text import BUILTIN_FILES, builtin_corpus, read_text, split_text
from rnnbook.training.chartrainer import train_char_model

corpus = builtin_corpus()
vocab = Vocabulary.from_text(corpus)
train_text, valid_text = split_text(corpus, 0.1)
model, trainer, _ = train_char_model(
    vocab.encode(train_text), len(vocab), cell="lstm", hidden_size=64, steps=1500, peak_lr=2e-2, seed=0
)
print(f"training loss at the end: {np.mean(trainer.losses[-50:]):.3f} nats per character")

# %%
# Record every unit at every character
# ------------------------------------
# ``model.run`` returns each layer's hidden states and a trace; the LSTM's
# trace also holds its cells, the long memory.
source = read_text(Path(sysconfig.get_paths()["stdlib"]) / BUILTIN_FILES[-1])
assert corpus.endswith(source) and len(source) < len(valid_text)
_, states, traces, _ = model.run(vocab.encode(source)[:, None])
cells = traces[0].cells[:, 0].astype(float)  # (characters, units)

# %%
# Which unit follows the column?
# ------------------------------
# The column is how many characters into its line each character is. The
# Pearson correlation of every unit with it picks the best one.
lines = source.splitlines(keepends=True)
column = np.concatenate([np.arange(len(line)) for line in lines]).astype(float)
z_cells = (cells - cells.mean(0)) / (cells.std(0) + 1e-12)
z_column = (column - column.mean()) / column.std()
r = z_cells.T @ z_column / len(column)
unit = int(np.abs(r).argmax())
print(f"cell unit {unit} has correlation {r[unit]:+.2f} with the column")

# %%
# The heatmap
# -----------
# Each character sits on a square coloured by the unit's value when the model
# has just read it (red above its median, blue below), in the style of
# Karpathy's figures.
# We show the 12 consecutive lines with the most text, where a unit that
# follows the line has room to show it; the colour scale spans the unit's
# 1st to 99th percentile, so a few extreme values do not wash it out.
filled = np.convolve([min(len(line), 70) for line in lines], np.ones(12), mode="valid")
first = int(filled.argmax())
shown = [line.rstrip("\n")[:70] for line in lines[first : first + 12]]
starts = np.cumsum([0] + [len(line) for line in lines])
grid = np.full((len(shown), 70), np.nan)
low, high = np.percentile(cells[:, unit], [1, 99])
fig, ax = plt.subplots(figsize=(10, 4.6))
for row, line in enumerate(shown):
    for col, ch in enumerate(line):
        grid[row, col] = cells[starts[first + row] + col, unit]
        ax.text(col, row, ch, ha="center", va="center", family="monospace", fontsize=7)
norm = TwoSlopeNorm(vcenter=float(np.median(cells[:, unit])), vmin=low, vmax=high)
image = ax.imshow(grid, cmap="RdBu_r", norm=norm, aspect="auto", interpolation="nearest")
ax.set_xticks([])
ax.set_yticks([])
fig.colorbar(image, ax=ax, fraction=0.025, pad=0.01, label=f"cell unit {unit}")
ax.set_title(f"LSTM cell unit {unit} over held-out code (r = {r[unit]:+.2f} with the column)")
fig.tight_layout()
plt.show()
