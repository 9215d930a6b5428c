"""Data, all generated in code or read from the running Python: nothing is downloaded.

- :mod:`~rnnbook.data.encoding`: the vocabulary and one-hot vectors;
- :mod:`~rnnbook.data.synthetic`: tasks that need memory (first symbol, adding problem, copy task);
- :mod:`~rnnbook.data.datasets`: digit images, film reviews, dates (the four shapes);
- :mod:`~rnnbook.data.text`: text for the character model.
"""

from rnnbook.data.encoding import Vocabulary, one_hot

__all__ = ["Vocabulary", "one_hot"]
