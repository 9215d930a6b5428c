"""
One-to-one: which digit is this?
================================

A network with no state names the digit in small noisy pictures drawn from a
built-in pixel font, one picture in, one class out. (Chapter: :ref:`four-shapes`.)
"""

# %%
# Draw the pictures
# -----------------
# Each digit is a 5x7 glyph on a 7x9 canvas, shifted by up to one pixel and
# covered in Gaussian noise, so that no two pictures of a digit are the same.
import matplotlib.pyplot as plt
import numpy as np

from rnnbook import Adam, MLPClassifier, accuracy, fit
from rnnbook.data.datasets import digit_glyphs, digit_images

images_train, digits_train = digit_images(3000, rng=0)
images_test, digits_test = digit_images(1000, rng=1)
pixels_train = images_train.reshape(len(images_train), -1)  # one vector of 63 numbers per picture
pixels_test = images_test.reshape(len(images_test), -1)

# %%
# Train a one-to-one network
# --------------------------
# One hidden layer of 32 units, trained with Adam on the flattened pixels.
# There is no sequence here, so there is nothing for a state to remember.
classifier = MLPClassifier(63, 32, 10, rng=0)
losses = fit(classifier, pixels_train, digits_train, Adam(lr=0.01), epochs=20, batch_size=50, rng=0)
print(f"test accuracy: {accuracy(classifier, pixels_test, digits_test):.3f} (guessing: 0.1)")

# %%
# Where does it go wrong?
# -----------------------
# The clean glyphs, a few noisy test pictures, and the confusion matrix: row
# = true digit, column = the network's answer.
predicted = classifier.logits(pixels_test).argmax(axis=1)
confusion = np.zeros((10, 10), dtype=int)
np.add.at(confusion, (digits_test, predicted), 1)

glyphs = digit_glyphs()
fig, axes = plt.subplots(2, 10, figsize=(9, 2.6))
for d in range(10):
    axes[0, d].imshow(glyphs[d], cmap="gray_r")
    axes[1, d].imshow(images_test[d], cmap="gray_r", vmin=-0.5, vmax=1.5)
    right = predicted[d] == digits_test[d]
    axes[1, d].set_title(f"answer {predicted[d]}", fontsize=8, color="black" if right else "red")
    for ax in axes[:, d]:
        ax.set_xticks([])
        ax.set_yticks([])
axes[0, 0].set_ylabel("font", fontsize=9)
axes[1, 0].set_ylabel("test", fontsize=9)
fig.tight_layout()

fig, (ax_loss, ax_conf) = plt.subplots(1, 2, figsize=(9, 3.8), gridspec_kw={"width_ratios": [1.4, 1]})
ax_loss.plot(losses)
ax_loss.set_xlabel("training step")
ax_loss.set_ylabel("loss (nats)")
ax_loss.set_title("training loss", fontsize=10)
ax_conf.imshow(confusion, cmap="Blues")
ax_conf.set_xticks(range(10))
ax_conf.set_yticks(range(10))
ax_conf.set_xlabel("answer")
ax_conf.set_ylabel("true digit")
ax_conf.set_title("confusion on 1000 test pictures", fontsize=10)
fig.tight_layout()
plt.show()
