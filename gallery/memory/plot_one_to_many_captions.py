"""
One-to-many: name the digit, letter by letter
=============================================

A picture sets the first state of a recurrent decoder, which then writes the
digit's name one letter at a time, feeding back each letter it wrote. (Chapter: :ref:`four-shapes`.)
"""

# %%
# Pictures and captions
# ---------------------
# The captions are the digits' names. A vocabulary numbers the letters and
# adds three special tokens: padding, start and end. Captions are padded at
# their end to the longest one, "three"/"seven" plus the end token.
import matplotlib.pyplot as plt

from rnnbook import Adam, fit, softmax
from rnnbook.data.datasets import DIGIT_NAMES, digit_images
from rnnbook.data.encoding import Vocabulary
from rnnbook.models.seq2seq import Captioner, sequence_accuracy

images_train, digits_train = digit_images(3000, rng=0)
images_test, digits_test = digit_images(500, rng=1)
pixels_train = images_train.reshape(len(images_train), -1)
pixels_test = images_test.reshape(len(images_test), -1)
letters = Vocabulary("".join(DIGIT_NAMES))
captions_train = letters.encode([DIGIT_NAMES[d] for d in digits_train])  # (6, 3000)
captions_test = letters.encode([DIGIT_NAMES[d] for d in digits_test])

# %%
# Train with teacher forcing
# --------------------------
# During training the decoder is always fed the correct previous letter; the
# loss leaves out the padded positions. ``fit`` batches the pictures along
# their first axis and the captions along their second.

captioner = Captioner(63, 32, len(letters), rng=0)
losses = fit(captioner, pixels_train, captions_train, Adam(lr=0.01), epochs=20, batch_size=50, rng=0)

# %%
# Write captions greedily
# -----------------------
# At test time the decoder feeds back its own most likely letter. A caption
# counts as right only if every letter and the end token are right.
written = captioner.generate(pixels_test, length=7)
print(f"exact captions: {sequence_accuracy(written, captions_test):.3f}")

# %%
# What the decoder believes at each step
# --------------------------------------
# The picture it was least sure about at the first letter, and the
# probability of every letter at every step while it wrote its own caption
# (each row sums to one). After a "t" it must still choose between "two" and
# "three", and after an "s" between "six" and "seven": that choice can only
# come from the picture, carried in the state.
probs = softmax(captioner.logits(pixels_test, written))  # (7, 500, letters), fed its own caption
k = int(probs[0].max(axis=1).argmin())
caption = letters.decode(written[:, k : k + 1])[0]
rows = probs[: len(caption) + 1, k]  # the letters and the end token

fig, axes = plt.subplots(1, 8, figsize=(10, 1.9))
for i, ax in enumerate(axes):
    ax.imshow(images_test[i], cmap="gray_r", vmin=-0.5, vmax=1.5)
    ax.set_title("".join(letters.decode(written[:, i : i + 1])[0]), fontsize=9)
    ax.axis("off")
fig.tight_layout()

fig, (ax_image, ax_probs, ax_loss) = plt.subplots(
    1, 3, figsize=(11, 3.4), gridspec_kw={"width_ratios": [0.5, 1.6, 1.1]}
)
ax_image.imshow(images_test[k], cmap="gray_r", vmin=-0.5, vmax=1.5)
ax_image.set_title(f"a {digits_test[k]}, written\n'{''.join(caption)}'", fontsize=9)
ax_image.axis("off")
ax_probs.imshow(rows, cmap="Greens", aspect="auto", vmin=0, vmax=1)
ax_probs.set_xticks(range(len(letters)), letters.symbols, rotation=90, fontsize=8)
ax_probs.set_yticks(range(len(rows)), [f"after {s}" for s in ["<s>", *caption]], fontsize=8)
ax_probs.set_title("next-letter probabilities", fontsize=10)
ax_loss.plot(losses)
ax_loss.set_yscale("log")
ax_loss.set_xlabel("training step")
ax_loss.set_ylabel("loss (nats)")
ax_loss.set_title("training loss", fontsize=10)
fig.tight_layout()
plt.show()
