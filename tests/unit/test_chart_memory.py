"""Rendering many charts keeps no per-render state: no pyplot figures, one render thread."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

from charts import sample_charts

from bot.render import charts as c


def test_many_renders_leave_no_pyplot_figures_and_one_render_thread() -> None:
    from matplotlib import _pylab_helpers

    samples = list(sample_charts().values())
    for chart in samples:
        c.render(chart)
    for i in range(30):
        png = c.render(samples[i % len(samples)])
        assert png.startswith(b"\x89PNG")
    assert _pylab_helpers.Gcf.get_num_fig_managers() == 0
    assert [t.name for t in threading.enumerate() if t.name.startswith("mktbot-charts")] == ["mktbot-charts_0"]
