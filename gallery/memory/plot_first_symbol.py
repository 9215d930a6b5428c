"""
Remembering the first symbol
============================

A feedforward network and a recurrent network try the same question: which
symbol came first? Only the one with a state can answer. (Chapter: :ref:`why-memory`.)
"""

# %%
# Make the data
# -------------
# Sequences of 10 symbols from an alphabet of 4, as one-hot vectors of shape
# (steps, sequences, symbols). The answer is the first symbol.
import matplotlib.pyplot as plt

from rnnbook import Adam, MLPClassifier, SequenceClassifier, accuracy, fit
from rnnbook.data.synthetic import first_symbol

x_train, y_train = first_symbol(2000, 10, 4, rng=0)
x_test, y_test = first_symbol(500, 10, 4, rng=1)

# %%
# Train both networks
# -------------------
# The feedforward network sees only the last symbol; the recurrent one reads
# the whole sequence and answers from its final state.
feedforward = MLPClassifier(4, 16, 4, rng=0)
ff_losses = fit(feedforward, x_train[-1], y_train, Adam(lr=0.01), epochs=15, batch_size=50, rng=0)
recurrent = SequenceClassifier(4, 16, 4, rng=0)
rnn_losses = fit(recurrent, x_train, y_train, Adam(lr=0.01), epochs=15, batch_size=50, rng=0)

print(f"feedforward accuracy: {accuracy(feedforward, x_test[-1], y_test):.3f}")
print(f"recurrent accuracy:   {accuracy(recurrent, x_test, y_test):.3f}")

# %%
# Compare the training losses
# ---------------------------
# The feedforward loss stays at ln 4, the loss of guessing; the recurrent one
# falls towards zero.
fig, ax = plt.subplots(figsize=(6, 3.5))
ax.plot(ff_losses, label="feedforward")
ax.plot(rnn_losses, label="recurrent")
ax.set_xlabel("training step")
ax.set_ylabel("cross-entropy (nats)")
ax.set_title("Which symbol came first?")
ax.legend()
fig.tight_layout()
plt.show()
