"""How a figure reaches the learner's screen, with or without pyplot.

Every drawing function builds a bare ``matplotlib.figure.Figure`` (no pyplot: no global figure
manager, nothing the inline backend could show twice) and returns it wrapped in a `Drawing`.
A `Drawing` renders itself to PNG through the Agg canvas in ``_repr_mimebundle_``, so IPython
shows the image whatever the kernel imported before; pyplot's inline backend is not needed.

A cell that ends with ``;`` suppresses its result, and chapters do write ``draw_world(world);``.
So a Drawing made while a cell runs and not shown by the end of that cell is displayed then
(IPython's ``post_execute`` event), as pyplot's inline backend does with its own figures: the
figure appears once either way. Outside IPython (the CLI, unit tests) nothing is registered.
"""
from __future__ import annotations

import functools
import io
import logging
import warnings
from pathlib import Path

from helpers.language import current, translate

DPI = 100                   # 9 inches -> 900 px: the width of a notebook's output area
# Strong references on purpose: the result of `draw_world(world);` is dropped at once by the cell.
_pending: list[Drawing] = []
_hooked: set[int] = set()   # id() of the IPython shells whose post_execute hook is registered


class Drawing:
    """A figure as a notebook shows it: a PNG image plus one short line of text.

    `figure` is the matplotlib Figure (``.axes``, ``.savefig``, ``.get_size_inches`` are passed
    through for scripts and tests); `text` is what a text-only front end shows instead of the
    image (never matplotlib's ``<Figure size ...>``).
    """

    def __init__(self, figure, text: str) -> None:
        self.figure = figure
        self.text = text
        self.shown = False
        self._png: bytes | None = None
        _watch(self)

    # --- what IPython asks for ----------------------------------------------------------------
    def _repr_mimebundle_(self, include=None, exclude=None) -> dict:
        self.shown = True
        return {"image/png": self.png(), "text/plain": self.text}

    def _repr_png_(self) -> bytes:
        self.shown = True
        return self.png()

    def __repr__(self) -> str:
        return self.text

    # --- rendering ----------------------------------------------------------------------------
    def png(self) -> bytes:
        """The figure as PNG bytes, rendered once by the Agg canvas (no pyplot)."""
        if self._png is None:
            from matplotlib.backends.backend_agg import FigureCanvasAgg

            if not isinstance(self.figure.canvas, FigureCanvasAgg):
                FigureCanvasAgg(self.figure)  # attaches itself as the figure's canvas
            buffer = io.BytesIO()
            self.figure.savefig(buffer, format="png", dpi=DPI, bbox_inches="tight")
            self._png = buffer.getvalue()
        return self._png

    def size_px(self) -> tuple[int, int]:
        """(width, height) of the PNG in pixels, as the notebook shows it."""
        import struct

        data = self.png()
        return struct.unpack(">II", data[16:24])  # the PNG IHDR chunk: width, height

    def consume(self):
        """The Figure, for a caller that shows it another way (the explorer's SVG): the cell
        must not display it a second time."""
        self.shown = True
        return self.figure

    # --- the Figure's own API, for scripts and tests ------------------------------------------
    @property
    def axes(self) -> list:
        return self.figure.axes

    def get_size_inches(self):
        return self.figure.get_size_inches()

    def savefig(self, *args, **kwargs):
        """Write the figure to a file, cropped to what is drawn (as the notebook shows it)."""
        self.shown = True
        kwargs.setdefault("bbox_inches", "tight")
        return self.figure.savefig(*args, **kwargs)


# Japanese glyphs: Debian's fonts-ipafont-gothic (12 MB installed; fonts-noto-cjk would be 91 MB),
# installed by scripts/install.sh. DejaVu (matplotlib's own) stays first, so Latin text, addresses and
# the arrows look as in English; matplotlib (>= 3.6) takes a glyph DejaVu lacks from the next family.
JAPANESE_FONTS = {"IPAPGothic": "/usr/share/fonts/opentype/ipafont-gothic/ipagp.ttf",    # proportional
                  "IPAGothic": "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf"}      # fixed width
FONT_PACKAGE = "fonts-ipafont-gothic"


@functools.cache
def _japanese_fonts() -> bool:
    """Register the Japanese fonts with matplotlib (by file: its font cache may predate their install);
    False, with a warning naming the fix, when they are not installed."""
    from matplotlib import font_manager

    known = {f.name for f in font_manager.fontManager.ttflist}
    for name, path in JAPANESE_FONTS.items():
        if name not in known:
            if not Path(path).exists():
                warnings.warn(f"no Japanese font for the figures ({path} is missing): their Japanese would "
                              f"show as empty boxes. Fix: sudo apt-get install {FONT_PACKAGE}", stacklevel=3)
                return False
            font_manager.fontManager.addfont(path)
    # IPA Gothic has one weight: a bold title's Japanese is drawn at the regular weight (its Latin stays
    # bold in DejaVu). matplotlib logs that at every new size; in a notebook the log is red text under
    # the figure, so that one message about these fonts is dropped.
    logging.getLogger("matplotlib.font_manager").addFilter(_no_bold_ipa)
    return True


def _no_bold_ipa(record: logging.LogRecord) -> bool:
    message = record.getMessage()
    return not ("Failed to find font weight" in message and any(n in message for n in JAPANESE_FONTS))


def sans() -> str | list[str]:
    """The font family of a figure's text in the language in force."""
    return ["DejaVu Sans", "IPAPGothic"] if current() == "ja" and _japanese_fonts() else "sans-serif"


def mono() -> str | list[str]:
    """The fixed-width family (headers, interfaces, rules): a list, as matplotlib only falls back
    along a list of families, never inside the generic "monospace"."""
    return ["DejaVu Sans Mono", "IPAGothic"] if current() == "ja" and _japanese_fonts() else "monospace"


def fonts() -> dict:
    """rcParams for a figure drawn in the language in force: `with matplotlib.rc_context(fonts()):`
    around the code that makes its texts (a text takes its family when it is made)."""
    return {"font.family": sans()}


def in_language(draw):
    """Decorate a drawing function: its texts are made with the fonts of the language in force."""
    @functools.wraps(draw)
    def drawn(*args, **kwargs):
        import matplotlib

        with matplotlib.rc_context(fonts()):
            return draw(*args, **kwargs)
    return drawn


def columns(text: str) -> int:
    """The width of `text` in columns: a Japanese character takes two, as it is drawn about twice as
    wide as a Latin letter (the figures size boxes and wrap lines by characters)."""
    import unicodedata

    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def wrap(text: str, width: int, **options) -> list[str]:
    """`textwrap.wrap(text, width, **options)`, counting a Japanese character as two columns and
    breaking Japanese between any two characters (it has no spaces between words)."""
    import re
    import textwrap

    if columns(text) == len(text):
        return textwrap.wrap(text, width, **options)
    indent = options.get("subsequent_indent", "")
    lines, line = [], ""
    for token in re.findall(r"[\u3000-\u30ff\u4e00-\u9fff\uff00-\uffef]|\S+\s*|\s+", text):
        if line and columns(line + token.rstrip()) > width:
            lines.append(line.rstrip())
            line = indent + token.lstrip()
        else:
            line += token
    return lines + ([line.rstrip()] if line.strip() else [])


def canvas(width: float, height: float):
    """A figure of `width` x `height` inches whose axes count in inches, y downwards from 0 at the top,
    with no frame; it has a renderer from the start, so boxes can be sized to their text. Returns
    (figure, ax)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height))
    FigureCanvasAgg(figure)
    ax = figure.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, width)
    ax.set_ylim(-height, 0)
    ax.axis("off")
    return figure, ax


def _watch(drawing: Drawing) -> None:
    """Remember a drawing made inside an IPython cell, so the end of the cell can show it."""
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:   # a script or a terminal: nothing shows a drawing at the end of a cell
        return
    if id(shell) not in _hooked:
        shell.events.register("post_execute", _flush)
        _hooked.add(id(shell))
    _pending.append(drawing)


def _flush() -> None:
    """End of a cell: display every drawing it made that neither the cell's result nor an
    explicit display() showed (e.g. ``draw_world(world);``)."""
    from IPython.display import display

    waiting = [d for d in _pending if not d.shown]
    _pending.clear()
    for drawing in waiting:
        display(drawing)


class Folded:
    """A short headline with a long text folded under it (an HTML <details>): the text twin of
    a figure stays one click away instead of fifty lines above the image."""

    def __init__(self, headline: str, text: str, label: str | None = None) -> None:
        self.headline, self.text = headline, text
        self.label = label or translate("draw:folded:label", "hop by hop, as text")

    def _repr_html_(self) -> str:
        import html

        lines = self.text.count("\n") + 1
        return (f"<div class='dnlab-folded'><div>{html.escape(self.headline)}</div>"
                f"<details><summary>{html.escape(self.label)} "
                f"{html.escape(translate('draw:folded:open', '({lines} lines, click to open)', lines=lines))}</summary>"
                f"<pre>{html.escape(self.text)}</pre></details></div>")

    def __repr__(self) -> str:
        return self.headline


def show_folded(headline: str, text: str, label: str | None = None) -> None:
    """Display a `Folded` in a notebook; print the whole text elsewhere (a terminal, a script)."""
    from IPython import get_ipython

    if get_ipython() is not None:
        from IPython.display import display

        display(Folded(headline, text, label))
    else:
        print(text)
