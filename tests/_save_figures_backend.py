"""A matplotlib backend for the gallery tests: Agg, whose ``show()`` saves every figure.

Used as ``MPLBACKEND=module://_save_figures_backend`` with the folder in the
environment variable ``RNNBOOK_FIGURE_DIR``, so that a script run exactly as a
reader runs it (``python gallery/part/plot_x.py``) leaves its figures on disk.
"""

import os
from pathlib import Path

from matplotlib._pylab_helpers import Gcf
from matplotlib.backends.backend_agg import FigureCanvasAgg, FigureManagerBase

FigureCanvas = FigureCanvasAgg
FigureManager = FigureManagerBase


def show(*args, **kwargs):
    folder = Path(os.environ["RNNBOOK_FIGURE_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for manager in Gcf.get_all_fig_managers():
        manager.canvas.figure.savefig(folder / f"figure_{manager.num}.png")
