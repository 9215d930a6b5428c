"""Training: losses, optimisers, the fit loop, the character model's trainer and its checkpoints.

- :mod:`~rnnbook.training.losses`: how wrong, and which way is better;
- :mod:`~rnnbook.training.optim`: optimisers and gradient clipping;
- :mod:`~rnnbook.training.loop`: the one training loop and the one divergence exception;
- :mod:`~rnnbook.training.chartrainer`: truncated BPTT over streams of text;
- :mod:`~rnnbook.training.checkpoint`: the checkpoint file format and the torch export.
"""
