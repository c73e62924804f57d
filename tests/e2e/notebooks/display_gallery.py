"""A notebook of rich outputs: IPython.display types, live-updating outputs, widgets, async code.

Covers: HTML/Markdown/JSON/SVG displays and a Latex last expression, an object with ``_repr_html_``,
a display handle updated in a loop, ``clear_output(wait=True)`` status lines (replaced by the next
output, and left standing at the end of the cell), an ipywidgets slider and a progress bar, top-level
``await``, a ``%%html`` cell, a ``%%time`` cell ending with ``;``, mixed stdout/stderr with ANSI colours
and unicode, a cell whose last expression is None, an exception raised inside a ``%%time`` cell while
handling another one, ``Out``, and the namespace digest.
"""

from tests.e2e.notebooks import code, markdown, namespace_digest

SVG_BADGE = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="20">'
    '<rect width="40" height="20" fill="teal"/></svg>'
)

CELLS = [
    markdown("title", "# Display gallery\nEverything a notebook can show, tracked and untracked."),
    code(
        "imports",
        """
        import asyncio
        import sys

        import ipywidgets as widgets
        from IPython.display import HTML, JSON, SVG, Latex, Markdown, clear_output, display
        """,
    ),
    code(
        "rich",
        rf"""
        display(HTML("<b>bold</b> and <i>italic</i> &amp; escaped"))
        display(Markdown("## A heading\n\n- one\n- two"))
        display(JSON({{"nested": {{"list": [1, 2, 3], "ok": True}}}}, expanded=True))
        display(SVG('{SVG_BADGE}'))
        Latex(r"$e^{{i\pi}} + 1 = 0$")
        """,
    ),
    code(
        "repr_class",
        '''
        class Temperature:
            """A temperature that knows how to show itself."""

            def __init__(self, celsius):
                self.celsius = celsius

            def __repr__(self):
                return f"Temperature({self.celsius} °C)"

            def _repr_html_(self):
                colour = "red" if self.celsius > 25 else "blue"
                return f'<span style="color:{colour}">{self.celsius} °C</span>'

            def _repr_markdown_(self):
                return f"**{self.celsius} °C**"


        today = Temperature(31.5)
        today
        ''',
    ),
    code(
        "display_handle",
        """
        status = display(Markdown("starting…"), display_id=True)
        for step in range(1, 4):
            status.update(Markdown(f"step {step}/3 done"))
        """,
    ),
    code(
        "status_line",
        """
        for name in ["alpha.csv", "beta.csv", "gamma.csv"]:
            clear_output(wait=True)
            print(f"loading {name}")
        print("all files loaded")
        """,
    ),
    code(
        "last_status_stays",
        """
        files = ["alpha.csv", "beta.csv", "gamma.csv"]
        for i, name in enumerate(files, start=1):
            print(f"[{i}/{len(files)}] processed {name}")
            clear_output(wait=True)
        """,
    ),
    code(
        "slider",
        """
        threshold = widgets.IntSlider(value=3, min=0, max=10, description="threshold")
        threshold
        """,
    ),
    code(
        "progress",
        """
        bar = widgets.IntProgress(value=0, max=5, description="work")
        display(bar)
        for i in range(5):
            bar.value = i + 1
        print("progress:", bar.value)
        """,
    ),
    code(
        "async",
        """
        async def square_later(i):
            await asyncio.sleep(0)
            return i * i


        squares = await asyncio.gather(*(square_later(i) for i in range(6)))
        squares
        """,
    ),
    code(
        "html_magic",
        """
        %%html
        <table><tr><th>metric</th><th>value</th></tr><tr><td>accuracy</td><td>0.93</td></tr></table>
        """,
    ),
    code(
        "timed",
        """
        %%time
        total = sum(i * i for i in range(20_000))
        total;
        """,
    ),
    code(
        "streams",
        r"""
        print("stdout: 🚀 naïve café")
        print("stderr: ⚠ something to note", file=sys.stderr)
        print("\x1b[32mgreen text\x1b[0m via ANSI")
        sys.stdout.write("no newline at the end")
        """,
    ),
    code(
        "lookup",
        """
        settings = {"mode": "fast", "retries": 3}
        settings.get("timeout")
        """,
    ),
    code(
        "parser",
        """
        def parse_setting(raw):
            key, value = raw.split("=")
            return key.strip(), int(value)
        """,
    ),
    code(
        "parse_settings",
        """
        %%time
        parsed = {}
        for line in ["mode = 1", "retries = three"]:
            try:
                key, value = parse_setting(line)
            except ValueError:
                raise RuntimeError(f"cannot parse settings line {line!r}")
            parsed[key] = value
        """,
    ),
    code(
        "results_so_far",
        """
        sorted(k for k in Out if isinstance(k, int))
        """,
    ),
    namespace_digest(),
]
