"""Models: a recurrent layer (or a stack, or two) plus a read-out.

Every model keeps its parameters in one flat dict, ``params``, whose names say
where each array lives (``"rnn.weight_hh"``, ``"readout.weight"``), and offers
``loss_and_grads``; that is all an optimiser and
:func:`rnnbook.training.loop.fit` need.

- :mod:`~rnnbook.models.classifiers`: one-to-one and many-to-one classifiers;
- :mod:`~rnnbook.models.regressor`: many-to-one regression (the adding problem);
- :mod:`~rnnbook.models.seq2seq`: models that write a sequence (captioner, translator);
- :mod:`~rnnbook.models.tagger`: one tag per step, read one way or both ways;
- :mod:`~rnnbook.models.attention`: the translator with attention;
- :mod:`~rnnbook.models.decoding`: beam search, sampling and the likelihood of outputs, for the translators;
- :mod:`~rnnbook.models.charmodel`: the character-level language model and sampling;
- :mod:`~rnnbook.models.ngram`: the counting n-gram baseline for it.
"""
