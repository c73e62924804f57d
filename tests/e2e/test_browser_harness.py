"""The browser harness works end to end: real Lab, real kernel, the widget kinds nbtrack's UI uses.

One test on purpose: each Lab test costs seconds. It shows that ipywidgets, a Plotly FigureWidget and
an anywidget render in JupyterLab, that state flows both ways over the comms (browser -> kernel: a
slider moved by key presses and a button click; kernel -> browser: an anywidget trait), and that the
kernels of the test server import this checkout's nbtrack and write to the test store.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.e2e.lab import (
    kernel_eval,
    kernel_value,
    open_notebook,
    run_all,
    screenshot,
    wait_idle,
    wait_kernel_value,
    write_notebook,
)
from tests.e2e.labserver import LabServer

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

CELLS = [
    """\
import ipywidgets as w
slider = w.IntSlider(value=3, min=0, max=10, description="lr")
clicks = []
button = w.Button(description="record")
button.on_click(lambda _: clicks.append(slider.value))
w.HBox([slider, button])""",
    """\
import plotly.graph_objects as go
fig = go.FigureWidget(data=[go.Scatter(y=[1, 3, 2], mode="lines", name="loss")])
fig""",
    """\
import anywidget
import traitlets

class Probe(anywidget.AnyWidget):
    _esm = '''
    function render({ model, el }) {
      const span = document.createElement("span");
      span.className = "probe";
      const show = () => { span.textContent = "probe:" + model.get("label"); };
      show();
      model.on("change:label", show);
      el.appendChild(span);
      return () => model.off("change:label", show);
    }
    export default { render };
    '''
    label = traitlets.Unicode("hello").tag(sync=True)

probe = Probe()
probe""",
]


def test_widgets_render_and_sync_both_ways_in_real_lab(
    lab: LabServer, page: Page, page_errors: list[str], tmp_path: Path
) -> None:
    from playwright.sync_api import expect  # here, so that collection works without playwright

    open_notebook(page, lab, write_notebook(tmp_path / "harness.ipynb", CELLS))
    run_all(page)
    wait_idle(page)

    expect(page.locator(".widget-slider")).to_have_count(1)
    expect(page.locator(".js-plotly-plot")).to_have_count(1)
    expect(page.locator(".js-plotly-plot .scatterlayer .trace")).to_have_count(1)
    expect(page.locator("span.probe")).to_have_text("probe:hello")

    page.locator(".widget-slider .noUi-handle").focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    wait_kernel_value(page, "slider.value", 5)
    page.locator(".jupyter-button", has_text="record").click()
    wait_kernel_value(page, "clicks", [5])

    kernel_value(page, "setattr(probe, 'label', 'from kernel')")
    expect(page.locator("span.probe")).to_have_text("probe:from kernel")

    kernel_eval(page, "import os, sys, nbtrack")
    facts = kernel_value(page, "[sys.prefix, nbtrack.__file__, os.environ['NBTRACK_STORE']]")
    nbtrack_spec = importlib.util.find_spec("nbtrack")
    assert nbtrack_spec is not None
    assert facts == [sys.prefix, nbtrack_spec.origin, str(lab.store_path)]

    assert screenshot(page, "harness").stat().st_size > 10_000
    assert screenshot(page, "harness-probe", page.locator("span.probe")).exists()
    assert page_errors == []
