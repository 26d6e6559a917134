"""What every chapter's figures share: the figure style and the few drawing primitives several
chapters use (image grid, curves with standard errors, time curves, convergence orders, HTML
table, offline player, explorer frame). Numbers and verdicts shown in the prose are in
:mod:`lib.chapters.prose`.

Every figure function of a companion is decorated with :func:`styled`: it draws with
:data:`STYLE` (fonts of at least 9 pt, white background for dark mode) and at most
:data:`COLUMN_WIDTH` inches wide at :data:`DPI`, so the PNG is shown near 1:1 in the column.
"""

from __future__ import annotations

import contextlib

import numpy as np

__all__ = [
    "COLUMN_WIDTH", "Curve", "Raster", "STYLE",
    "Explorer", "convergence_orders", "draw_curve", "explorer", "figure_style", "html_table",
    "image_grid", "log_step_axes", "player", "same_length", "show_image", "styled", "time_curves", "to_display",
    "report_table", "trajectory_grid",
]

# --------------------------------------------------------------------------------------------
# Figures: one style for every figure of the book, and the primitives several chapters share.
# --------------------------------------------------------------------------------------------

#: Widest figure, in inches at :data:`DPI`: 750 px, shown near 1:1 in the book's ~760 px column.
COLUMN_WIDTH = 7.5
#: Resolution of every figure; with it a 9 pt label is 12.5 px on screen.
DPI = 100
#: The shared rcParams. Fonts are at least 9 pt; the white figure background is explicit so
#: that black text stays readable when the book is read in the theme's dark mode.
STYLE = {
    "figure.dpi": DPI,
    "savefig.dpi": DPI,
    "figure.facecolor": "white",
    "savefig.facecolor": "white",
    "axes.facecolor": "white",
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "legend.title_fontsize": 9,
    "figure.titlesize": 10,
    "axes.grid": False,
    "image.interpolation": "nearest",
}
#: Smallest font size (points) a figure may use.
MIN_FONT_SIZE = 9.0


@contextlib.contextmanager
def figure_style(**extra):
    """Context manager applying :data:`STYLE` (and ``extra`` rcParams), restoring those keys
    only on exit.

    Not ``matplotlib.rc_context``: that restores *every* rcParam, and when the first figure of a
    notebook activates Jupyter's inline backend inside the context, it restores ``interactive``
    to False, after which the inline backend shows no figure of any later cell."""
    import matplotlib

    style = dict(STYLE, **extra)
    saved = {key: matplotlib.rcParams[key] for key in style}
    matplotlib.rcParams.update(style)
    try:
        yield
    finally:
        matplotlib.rcParams.update(saved)


def styled(function):
    """Decorator for a figure function: draws inside :func:`figure_style` and checks that the
    figure it returns (a matplotlib ``Figure`` or a :class:`Raster`) fits the column."""
    import functools

    @functools.wraps(function)
    def draw(*args, **kwargs):
        with figure_style():
            result = function(*args, **kwargs)
        fig = result.figure if isinstance(result, Raster) else result
        width = fig.get_size_inches()[0]
        if width > COLUMN_WIDTH + 1e-9:
            raise RuntimeError(f"{function.__name__} drew a figure {width:.2f} in wide; "
                               f"the column holds {COLUMN_WIDTH} in")
        return result

    return draw


def same_length(**sequences) -> list:
    """The keyword sequences as lists, checked to be non-empty and of one length: the arguments
    of a figure that go together (curves and their labels, say).

    >>> same_length(curves=[1, 2], labels=("a", "b"))
    [[1, 2], ['a', 'b']]
    """
    lists = [list(s) for s in sequences.values()]
    lengths = [len(s) for s in lists]
    if not lengths or min(lengths) == 0 or len(set(lengths)) != 1:
        raise ValueError(f"{', '.join(sequences)} must be non-empty and of one length, got lengths {lengths}")
    return lists


class Raster:
    """A figure shown as one raster image in a chosen format, e.g. JPEG for photographs and
    noise (about five times smaller than PNG for the same look).

    The matplotlib figure is closed at once, so Jupyter's inline backend does not show it a
    second time; the figure stays available as :attr:`figure` (for tests and saving). Show it
    by making it the last expression of a cell.
    """

    def __init__(self, figure, format: str = "jpeg", quality: int = 85):
        import matplotlib.pyplot as plt

        if format not in ("jpeg", "png"):
            raise ValueError(f"format must be 'jpeg' or 'png', got {format!r}")
        self.figure, self.format, self.quality = figure, format, int(quality)
        plt.close(figure)

    def to_bytes(self) -> bytes:
        import io

        buffer = io.BytesIO()
        extra = {"pil_kwargs": {"quality": self.quality, "optimize": True}} if self.format == "jpeg" else {}
        self.figure.savefig(buffer, format=self.format, dpi=self.figure.dpi, bbox_inches="tight",
                            pad_inches=0.04, facecolor="white", **extra)
        return buffer.getvalue()

    def _repr_mimebundle_(self, include=None, exclude=None):
        return {f"image/{self.format}": self.to_bytes(), "text/plain": repr(self)}

    def __repr__(self) -> str:
        width, height = self.figure.get_size_inches() * self.figure.dpi
        return f"<{self.format.upper()} figure {width:.0f}×{height:.0f} px>"


def to_display(u) -> np.ndarray:
    """Map values in [−1, 1] to displayable intensities in [0, 1], clipping the rest."""
    return np.clip((np.asarray(u, dtype=np.float64) + 1.0) / 2.0, 0.0, 1.0)


def show_image(ax, u):
    """Draw an image with values in [−1, 1] (grey or RGB) on ``ax``, without ticks."""
    u = to_display(u)
    ax.set_xticks([])
    ax.set_yticks([])
    if u.ndim == 2:
        return ax.imshow(u, cmap="gray", vmin=0.0, vmax=1.0, interpolation="nearest")
    return ax.imshow(u, interpolation="nearest")


def image_grid(rows, *, titles=None, row_labels=None, width: float = COLUMN_WIDTH,
               format: str = "jpeg") -> Raster:
    """Grid of images with values in [−1, 1]: one list of images per row.

    Parameters
    ----------
    rows : sequence of sequences of arrays
        ``rows[r][c]`` is the image in row r, column c; rows may differ in length and panels in
        shape (each panel keeps its aspect ratio inside a cell of the first image's shape).
    titles : sequence of str, or sequence of sequences of str, optional
        Column titles over the first row, or one list of titles per row (shown over every row).
    row_labels : sequence of str, optional
        One label per row, left of its first panel.
    width : float
        Figure width in inches (at most :data:`COLUMN_WIDTH`).
    format : {"jpeg", "png"}
        JPEG for photographs and noise, PNG for small pixel images such as 8 × 8 digits.
    """
    import matplotlib.pyplot as plt

    rows = [list(r) for r in rows]
    if not rows or not all(rows):
        raise ValueError("rows must hold at least one row, each with at least one image")
    per_row = titles is not None and len(titles) > 0 and not isinstance(titles[0], str)
    if per_row:
        if len(titles) != len(rows) or any(len(t) != len(r) for t, r in zip(titles, rows)):
            raise ValueError("titles given per row must match the rows image for image")
    elif titles is not None and len(titles) != len(rows[0]):
        raise ValueError(f"got {len(titles)} titles for {len(rows[0])} columns")
    if row_labels is not None and len(row_labels) != len(rows):
        raise ValueError(f"got {len(row_labels)} row labels for {len(rows)} rows")
    if not 0 < width <= COLUMN_WIDTH:
        raise ValueError(f"width must be in (0, {COLUMN_WIDTH}] inches, got {width}")
    with figure_style():
        n_rows, n_cols = len(rows), max(len(r) for r in rows)
        first = np.asarray(rows[0][0])
        aspect = first.shape[0] / first.shape[1]
        gap, title_h = 0.05, (0.25 if titles is not None else 0.0)
        labels, left = None, 0.02
        for _ in range(2):  # wrap the row labels to the panel height, then size the panels
            panel = (width - left - 0.02 - gap * (n_cols - 1)) / n_cols
            height = panel * aspect
            if row_labels is not None:
                labels = [_wrap(str(label), height) for label in row_labels]
                left = 0.05 + 0.19 * max(label.count("\n") + 1 for label in labels)  # inches
        n_title_rows = n_rows if per_row else 1
        fig_h = n_rows * height + (n_rows - 1) * gap + title_h * n_title_rows + 0.02
        fig = plt.figure(figsize=(width, fig_h))
        y = fig_h
        for r, images in enumerate(rows):
            if r == 0 or per_row:
                y -= title_h
            y -= height
            for c, image in enumerate(images):
                x0 = left + c * (panel + gap)
                ax = fig.add_axes((x0 / width, y / fig_h, panel / width, height / fig_h))
                show_image(ax, image)
                for spine in ax.spines.values():
                    spine.set_visible(False)
                title = titles[r][c] if per_row else (titles[c] if titles is not None and r == 0 else None)
                if title:
                    ax.set_title(title, fontsize=MIN_FONT_SIZE + 1, pad=2)
                if c == 0 and labels is not None:
                    ax.set_ylabel(labels[r])
            y -= gap
    return Raster(fig, format=format)


def _wrap(label: str, height: float) -> str:
    """Break a row label into lines that fit along a panel ``height`` inches tall (10 pt text
    is about 0.075 in per character); explicit line breaks are kept."""
    import textwrap

    chars = max(4, int(height / 0.075))
    return "\n".join(textwrap.fill(line, chars, break_long_words=False, break_on_hyphens=False)
                     if len(line) > chars and "$" not in line else line
                     for line in label.split("\n"))


def trajectory_grid(rows, row_labels, steps, *, width: float = COLUMN_WIDTH) -> Raster:
    """Image grid as in the paper's Fig. 1: one row per trajectory (``rows[r][k]`` the image
    at ``steps[k]``, values in [−1, 1]), one column per step, shown as JPEG."""
    steps, rows, row_labels = list(steps), [list(r) for r in rows], list(row_labels)
    for label, snaps in zip(row_labels, rows):
        if len(snaps) != len(steps):
            raise ValueError(f"row {label!r} has {len(snaps)} snapshots for {len(steps)} steps")
    return image_grid(rows, titles=[f"$i = {s}$" for s in steps], row_labels=row_labels, width=width)


class Curve:
    """One curve of a figure: abscissae ``x``, values ``y``, optional standard errors ``se``
    (drawn as markers with ± z·SE bars instead of a line), and its legend ``label``."""

    __slots__ = ("x", "y", "se", "label")

    def __init__(self, x, y, se=None, label: str | None = None):
        self.x = np.asarray(x)
        self.y = np.asarray(y, dtype=np.float64)
        self.se = None if se is None else np.asarray(se, dtype=np.float64)
        if self.x.shape != self.y.shape or (self.se is not None and self.se.shape != self.y.shape):
            raise ValueError(f"x, y (and se) must have one shape, got {self.x.shape}, {self.y.shape}"
                             + ("" if self.se is None else f", {self.se.shape}"))
        self.label = label

    def __repr__(self) -> str:
        return f"Curve({self.label!r}, {self.x.size} points{'' if self.se is None else ', with SE'})"


def draw_curve(ax, curve: Curve, color=None, *, offset: float = 0.0, z: float = 2.0, label=True, **style):
    """Draw ``curve`` on ``ax``: a line if it has no standard errors, else markers ± z·SE on a
    thin line. Returns the artist for a legend."""
    y = curve.y - offset
    name = curve.label if label is True else (label or None)
    if curve.se is None:
        style.setdefault("lw", 1.6)
        return ax.plot(curve.x, y, color=color, label=name, **style)[0]
    line = ax.plot(curve.x, y, color=color, lw=0.7, alpha=0.6)[0]
    return ax.errorbar(curve.x, y, yerr=z * curve.se, fmt="o", ms=4, mfc="none", lw=1, capsize=2,
                       color=line.get_color(), label=name, **style)


def log_step_axes(*axes) -> None:
    """Logarithmic x axes labelled 1, 10, 100, 1000 without minor ticks (and at most six
    labelled decades on logarithmic y axes): plainer and more than twice as fast to draw."""
    from matplotlib import ticker

    for ax in axes:
        ax.set_xscale("log")
        ax.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        ax.xaxis.set_minor_locator(ticker.NullLocator())
        if ax.get_yscale() == "log":
            ax.yaxis.set_major_locator(ticker.LogLocator(numticks=6))
            ax.yaxis.set_minor_locator(ticker.NullLocator())


@styled
def time_curves(curves, *, ylabel: str, xlabel: str = "step $i$ or time $t$", yscale: str = "log",
                floor: float = 1e-17, hline: float | None = None, styles=None,
                width: float = 6.8, height: float = 3.3):
    """Curves against time on a logarithmic time axis (e.g. distances to a steady state).

    Parameters
    ----------
    curves : sequence of :class:`Curve`
    styles : sequence of dict, optional
        matplotlib line keywords per curve (colour, line style).
    yscale : {"log", "linear"}
        On a log axis values are clipped below at ``floor``.
    hline : float, optional
        A dashed horizontal reference line.
    """
    import matplotlib.pyplot as plt

    curves = list(curves)
    styles = list(styles) if styles is not None else [{}] * len(curves)
    if not curves or len(styles) != len(curves):
        raise ValueError("curves must be non-empty, with one style per curve")
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    for curve, style in zip(curves, styles):
        y = np.maximum(curve.y, floor) if yscale == "log" else curve.y
        ax.plot(curve.x, y, label=curve.label, **style)
    if hline is not None:
        ax.axhline(hline, color="k", lw=0.7, ls="--")
    ax.set(xscale="log", yscale=yscale, xlabel=xlabel, ylabel=ylabel)
    ax.legend()
    return fig


@styled
def convergence_orders(panels, *, ylabel: str = "max error", width: float = COLUMN_WIDTH,
                       height: float = 3.2):
    """Log–log error plots, one panel per study, each with its expected slope drawn dashed
    through the last point (observed orders of accuracy).

    Parameters
    ----------
    panels : sequence of (title, xlabel, x, errors, slope)
    """
    import matplotlib.pyplot as plt
    from matplotlib import ticker

    panels = list(panels)
    if not panels:
        raise ValueError("panels must hold at least one study")
    fig, axes = plt.subplots(1, len(panels), figsize=(width, height), squeeze=False,
                             layout="constrained")
    for ax, (title, xlabel, x, err, slope) in zip(axes[0], panels):
        x, err = np.asarray(x, dtype=float), np.asarray(err, dtype=float)
        ax.loglog(x, err, "o-", label="measured")
        ax.loglog(x, err[-1] * (x / x[-1]) ** slope, "k--", lw=1, label=f"slope {slope:g}")
        ax.xaxis.set_minor_formatter(ticker.NullFormatter())
        ax.yaxis.set_minor_formatter(ticker.NullFormatter())
        ax.set(title=title, xlabel=xlabel, ylabel=ylabel)
        ax.legend()
    return fig


# --------------------------------------------------------------------------------------------
# HTML: one table builder and the offline animation player.
# --------------------------------------------------------------------------------------------

_CELL = 'style="padding: 0.15em 0.8em 0.15em 0"'


def html_table(header, rows) -> str:
    """A plain HTML table: ``header`` is a list of column titles, ``rows`` a list of lists of
    cells (HTML allowed). Every row must have one cell per column."""
    header = list(header)
    out = ["<table><thead><tr>"] + [f"<th {_CELL}>{h}</th>" for h in header] + ["</tr></thead><tbody>"]
    for row in rows:
        row = list(row)
        if len(row) != len(header):
            raise ValueError(f"a row has {len(row)} cells for {len(header)} columns")
        out.append("<tr>" + "".join(f"<td {_CELL}>{cell}</td>" for cell in row) + "</tr>")
    return "".join(out) + "</tbody></table>"


def report_table(reports, names, alpha: float = 1e-3) -> str:
    """HTML table of :class:`lib.core.stats.TrajectoryReport` objects (does a sample follow the law
    of Eq. (4)?), one row per sampler."""
    reports, names = same_length(reports=reports, names=names)
    header = ["sampler", "marginals (Eq. 5): p", "innovations: p", "largest lag correlation",
              "combined p", f"law of Eq. (4) at α = {alpha:g}"]
    rows = [[name, f"{rep.marginal_pvalue:.3g}", f"{rep.innovations.pvalue:.3g}",
             f"{rep.max_lag_z:.1f} SE", f"{rep.pvalue:.3g}",
             "not rejected" if rep.passes(alpha) else "<b>rejected</b>"]
            for name, rep in zip(names, reports)]
    return html_table(header, rows)



# matplotlib's player loads Font Awesome 4 from a CDN for its button icons; the book must not
# touch the network, so the stylesheet link goes and the icons become plain Unicode symbols.
_PLAYER_ICONS = {  # symbols that common system fonts (DejaVu, Segoe, Helvetica) all have
    "fa fa-minus": "\u2212",
    "fa fa-fast-backward": "\u21e4",
    "fa fa-step-backward": "\u25c1",
    "fa fa-play fa-flip-horizontal": "\u25c0",
    "fa fa-pause": "\u2016",
    "fa fa-play": "\u25b6",
    "fa fa-step-forward": "\u25b7",
    "fa fa-fast-forward": "\u21e5",
    "fa fa-plus": "+",
}
# The player scales down with the column (phones): image and slider at most 100 % wide.
_PLAYER_CSS = (".animation { max-width: 100%; }\n"
               ".animation img { max-width: 100%; height: auto; }\n"
               "input[type=range].anim-slider { max-width: 100%; }\n")


def _offline_player(html: str, alt: str) -> str:
    import html as html_lib
    import re

    html, n_links = re.subn(r"<link[^>]*font-awesome[^>]*>", "", html)
    for css, symbol in _PLAYER_ICONS.items():
        html = html.replace(f'<i class="{css}"></i>', f'<span aria-hidden="true">{symbol}</span>')
    html, n_img = re.subn(r'<img id="(_anim_img\w+)">', rf'<img id="\1" alt="{html_lib.escape(alt)}">', html)
    html, n_slider = re.subn(r'(<input id="_anim_slider\w+" type="range")',
                             r'\1 aria-label="frame"', html)
    html, n_style = re.subn(r"<style>", "<style>\n" + _PLAYER_CSS, html, count=1)
    if n_links != 1 or (n_img, n_slider, n_style) != (1, 1, 1) or "fa fa-" in html or "https://" in html:
        raise RuntimeError("matplotlib's to_jshtml output changed; update lib.chapters.common._offline_player")
    return html


def player(frames, captions, *, alt: str, width: float = 4.0, interval: int = 250) -> str:
    """A self-contained HTML player (matplotlib ``to_jshtml``) stepping through image frames.

    It needs no kernel and no network: frames are embedded as JPEG data and driven by inline
    JavaScript, so the slider and buttons work in the static HTML book. The player scales
    down to the column; its image carries ``alt`` and its slider an accessible name.

    Parameters
    ----------
    frames : sequence of arrays
        Images with values in [−1, 1], all of one shape.
    captions : sequence of str
        One caption per frame, shown above it (e.g. ``"i = 50"``).
    alt : str
        What the animation shows, for readers who do not see it.
    width : float
        Frame width in inches at :data:`DPI` (pixels = 100 · width).

    Returns
    -------
    str
        HTML to show with ``IPython.display.HTML``.
    """
    import matplotlib.pyplot as plt
    from matplotlib import animation

    frames = np.asarray(frames)
    captions = list(captions)
    if len(captions) != len(frames):
        raise ValueError(f"got {len(frames)} frames for {len(captions)} captions")
    if not alt or not isinstance(alt, str):
        raise ValueError("alt must be a non-empty description of the animation")
    aspect = frames.shape[1] / frames.shape[2]
    with figure_style(**{"animation.frame_format": "jpeg"}):  # Pillow's default quality, 75
        fig = plt.figure(figsize=(width, width * aspect + 0.3))
        ax = fig.add_axes((0, 0, 1, width * aspect / (width * aspect + 0.3)))
        image = show_image(ax, frames[0])
        ax.set_axis_off()
        label = fig.text(0.5, 1 - 0.15 / (width * aspect + 0.3), captions[0], ha="center", va="center")

        def update(k):
            image.set_data(to_display(frames[k]))
            label.set_text(captions[k])
            return image, label

        anim = animation.FuncAnimation(fig, update, frames=len(captions), interval=interval, blit=False)
        html = anim.to_jshtml(default_mode="once")
        plt.close(fig)
    return _offline_player(html, alt)


# --------------------------------------------------------------------------------------------
# Explorers (Jupyter only; the HTML book shows a kernel-free counterpart).
# --------------------------------------------------------------------------------------------


class Explorer:
    """Sliders and menus over one figure that is redrawn when a control is *released*.

    Every control gets ``continuous_update=False`` (a drag recomputes once, at the end, instead
    of queueing one figure per intermediate value) and the full width of the output area; a
    status line says "computing…" while the figure is redrawn and how long it took after. The
    figure is shown as a PNG in an ``ipywidgets.Image``.

    Parameters
    ----------
    draw : callable
        ``draw(**values) -> (figure, result)``, with ``values`` the controls' current values;
        it is called inside :func:`figure_style` and its figure is closed after rendering.
    controls : dict
        ``keyword -> ipywidgets control`` (keywords of ``draw``).

    Attributes
    ----------
    result
        What ``draw`` returned with the figure shown now (tests read it).
    seconds : float
        Time of the last redraw (computation and rendering).
    widget : ipywidgets.VBox
        What Jupyter displays.
    """

    def __init__(self, draw, controls: dict):
        import ipywidgets as widgets

        self._draw = draw
        self.controls = dict(controls)
        for control in self.controls.values():
            if hasattr(control, "continuous_update"):
                control.continuous_update = False
            control.layout.width = "100%"
            control.style.description_width = "7em"
            control.observe(self.update, names="value")
        self.status = widgets.HTML(layout=widgets.Layout(min_height="1.6em"))
        self.image = widgets.Image(format="png", layout=widgets.Layout(max_width="100%", height="auto"))
        self.widget = widgets.VBox(list(self.controls.values()) + [self.status, self.image],
                                   layout=widgets.Layout(width="100%"))
        self.result, self.seconds = None, float("nan")
        self.update()

    def update(self, change=None) -> None:
        """Recompute and redraw with the controls' current values."""
        import io
        import time

        import matplotlib.pyplot as plt

        start = time.perf_counter()
        self.status.value = '<span role="status">⏳ computing…</span>'
        values = {name: control.value for name, control in self.controls.items()}
        with figure_style():
            fig, self.result = self._draw(**values)
            buffer = io.BytesIO()
            fig.savefig(buffer, format="png", dpi=DPI, facecolor="white")
        plt.close(fig)
        self.image.value = buffer.getvalue()
        self.seconds = time.perf_counter() - start
        self.status.value = f'<span role="status">shown in {self.seconds:.2f} s</span>'

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)


def explorer(draw, **controls) -> Explorer:
    """Build an :class:`Explorer` from ``draw`` and keyword controls."""
    return Explorer(draw, controls)
