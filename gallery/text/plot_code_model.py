"""
A longer run: an LSTM that writes Python
========================================

The chapter's character models are small and train in seconds while the book
builds. This is the model of its longer run: an LSTM trained for minutes by the
``rnnbook`` command on the large built-in corpus, whose weights the
repository keeps (``make code-model`` trains them again). We plot how it
learned and let it write. (Chapter: :ref:`char-model`.)
"""

# %%
# The model
# ---------
# ``load_model`` reads a run folder: the weights, the vocabulary and the
# record of the run (its settings, and the losses measured along the way).
# The folder is ``book/trained/code-lstm`` in the repository, which holds this
# script's folder (``gallery/text``) or the folder you run it from.
import math
import re
import sys
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from rnnbook.analysis.text import compiling_share
from rnnbook.models.charmodel import sample
from rnnbook.training import checkpoint

# This script's folder when run by hand; sphinx-gallery runs it from its folder.
starts = list(dict.fromkeys([Path(sys.argv[0]).resolve().parent, Path.cwd()]))
found = [p / "book" / "trained" / "code-lstm" for f in starts for p in (f, *f.parents)
         if (p / "book" / "trained" / "code-lstm").is_dir()]
if not found:
    sys.exit(f"expected book/trained/code-lstm in {' or '.join(map(str, starts))} or a folder above; "
             "run this script from the rnnbook repository")
run_folder = found[0]
model, vocab, record = checkpoint.load_model(run_folder)
run = record["run"]
print(f"{model.cell}, {model.hidden_size} units, vocabulary of {len(vocab)}; trained on the {run['corpus']} "
      f"built-in corpus for {record['step']} training steps of {run['batch']} streams x {run['seq_len']} characters")

# %%
# How it learned
# --------------
# The training loss of every training step (a running mean over 50), and the
# loss on the held-out last tenth of the corpus, measured now and then.
losses = checkpoint.load(run_folder)[0]["losses"]  # the training loss of every step
window = 50
running = np.convolve(losses, np.ones(window) / window, mode="valid")
held_out = np.array(record["validation"])
fig, ax = plt.subplots(figsize=(7, 3.8))
ax.plot(np.arange(window, len(losses) + 1), running, color="#7570b3", label="training (running mean)")
ax.plot(held_out[:, 0], held_out[:, 1], "o-", color="#d95f02", label="held-out text")
ax.axhline(math.log(len(vocab)), color="black", ls="--", lw=1, label=f"uniform guess, ln {len(vocab)}")
ax.set_xlabel(f"training step ({run['batch']} streams × {run['seq_len']} characters)")
ax.set_ylabel("loss (nats per character)")
ax.set_ylim(0, math.log(len(vocab)) + 0.3)
ax.set_title("An LSTM learning Python source, a longer run")
ax.legend(frameon=False)
fig.tight_layout()
plt.show()

# %%
# Writing at three temperatures
# -----------------------------
# Low temperatures play safe, high ones take risks. The same seed for all three,
# and the priming text starts a line, as ``class`` does in a module.
for temperature in (0.5, 0.8, 1.0):
    text = sample(model, vocab, 400, temperature=temperature, prime="\nclass ", rng=4)
    print(f"--- temperature {temperature} ---\nclass {text}\n")

# %%
# How much of it compiles
# -----------------------
# A line counts when Python compiles it on its own (a block opener such as
# ``def f(x):`` first gets a ``pass`` body); see ``compiles_alone``. Three
# samples, the chapter's. At this low temperature a sample can get stuck in
# spaces: after many spaces another one stays the safest guess, the run grows
# very long, and few lines are left to judge (the chapter's "A longer run").
for seed in (1, 2, 3):
    text = sample(model, vocab, 2000, temperature=0.5, prime="\n", rng=seed)
    share, n_lines = compiling_share(text)
    longest = max((len(spaces) for spaces in re.findall(" +", text)), default=0)
    print(f"sample {seed}: {100 * share:.0f}% of {n_lines} lines compile on their own; "
          f"{100 * text.count(' ') / len(text):.0f}% of it is spaces, at most {longest} in a row")
