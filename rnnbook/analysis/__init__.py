"""What the book needs to look inside the networks: gradient checks, Jacobians, traces, diagrams, experiments.

- :mod:`~rnnbook.analysis.gradcheck`: numerical gradients;
- :mod:`~rnnbook.analysis.gradients`: Jacobians through time, their norms and bounds, truncated BPTT,
  the LSTM's belt alone (:func:`~rnnbook.analysis.gradients.forget_gate_products`);
- :mod:`~rnnbook.analysis.trace`: the state step by step, parameter counts;
- :mod:`~rnnbook.analysis.diagrams`: the rolled and unrolled pictures;
- :mod:`~rnnbook.analysis.experiments`: training on the adding problem at many lags and seeds;
- :mod:`~rnnbook.analysis.adding`: the best memoryless answer to the adding problem, and a probe of a trained one;
- :mod:`~rnnbook.analysis.text`: per-character surprise and long-range characters of Python source.
"""
