"""Server-side SVG plots of a submission's per-step series (grader.series): loss, and each parameter's gradient,
the student's line against the reference's, labelled in the viewer's language. matplotlib's object API only (no
pyplot state), under a lock."""
from __future__ import annotations

import collections
import io
import math
import threading
import warnings

import matplotlib

matplotlib.use("Agg")
from matplotlib import font_manager  # noqa: E402
from matplotlib.backends.backend_svg import FigureCanvasSVG  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from grader.i18n import N_, gettext  # noqa: E402

STUDENT, REFERENCE = "#d9480f", "#1c7ed6"
_lock = threading.Lock()
CJK_FONTS = ("WenQuanYi Micro Hei", "Noto Sans CJK SC", "Source Han Sans SC", "Droid Sans Fallback")
# Text stays text in the SVG: the browser draws it, Chinese included, with its own fonts. A CJK font here
# only measures the labels for the layout; where none is installed the layout is a little off, not broken.
_FAMILIES = ["DejaVu Sans"] + [name for name in CJK_FONTS if name in {f.name for f in font_manager.fontManager.ttflist}]
_RC = {"svg.fonttype": "none", "svg.hashsalt": "backprop-grader", "font.size": 9, "font.family": _FAMILIES}
warnings.filterwarnings("ignore", message=r"Glyph \d+ .* missing from font", category=UserWarning)


def _points(values: list, stride: int) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for i, v in enumerate(values or []):
        xs.append(i * stride + 1)
        ys.append(float(v) if isinstance(v, (int, float)) and math.isfinite(v) else math.nan)
    return xs, ys


def _symlog_if_wild(ax, reference: list[float], values: list[float]) -> None:
    """A run that blows up (gradients of 1e38) would flatten the reference to a line at 0: switch to a
    symmetric log scale, linear near zero, so both stay readable."""
    ref_top = max((abs(v) for v in reference), default=0.0)
    top = max(abs(v) for v in values)
    if top > 1e3 * max(ref_top, 1e-12):
        small = sorted(abs(v) for v in reference if v) or [1.0]
        ax.set_yscale("symlog", linthresh=max(small[len(small) // 2] * 0.1, 1e-9))


def _figure(series: dict, key: str, title: str, ylabel: str, log: bool, lang: str) -> bytes:
    stride = int(series.get("stride") or 1)
    pair = series["loss"] if key == "loss" else series["grads"][key]
    with matplotlib.rc_context(_RC):
        fig = Figure(figsize=(6.4, 3.0), layout="constrained")
        FigureCanvasSVG(fig)
        ax = fig.add_subplot()
        sx, sy = _points(pair.get("student"), stride)
        rx, ry = _points(pair.get("reference"), stride)
        ax.plot(rx, ry, color=REFERENCE, linewidth=2.2, label=gettext(lang, N_("reference")), alpha=0.8)
        ax.plot(sx, sy, color=STUDENT, linewidth=1.2, label=gettext(lang, N_("yours")), linestyle="--")
        finite = [v for v in sy + ry if not math.isnan(v)]
        if log and finite and min(finite) > 0:
            ax.set_yscale("log")
        elif finite:
            _symlog_if_wild(ax, [v for v in ry if not math.isnan(v)], finite)
        if not finite:
            ax.text(0.5, 0.5, gettext(lang, N_("no finite values")), transform=ax.transAxes, ha="center", va="center")
        ax.set_title(title)
        ax.set_xlabel(gettext(lang, N_("step (backward() call)")))
        ax.set_ylabel(ylabel)
        ax.grid(True, alpha=0.3)
        ax.legend(loc="best", frameon=False)
        out = io.BytesIO()
        fig.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    return out.getvalue()


def render(series: dict, name: str, lang: str = "en") -> bytes | None:
    """The SVG for plot `name` ("loss" or "grad-<param>"), or None when the series has no such data."""
    try:
        with _lock:
            if name == "loss":
                return _figure(series, "loss", gettext(lang, N_("Loss per step")), gettext(lang, N_("loss")), log=True,
                               lang=lang)
            param = name.removeprefix("grad-")
            if name.startswith("grad-") and param in series.get("grads", {}):
                norm = param in series.get("norm", [])
                label = f"‖d loss / d {param}‖" if norm else f"{param}.grad"
                title = gettext(lang, N_("Gradient of %(param)s per step"), param=param)
                return _figure(series, param, title, label, log=False, lang=lang)
    except (KeyError, TypeError, ValueError, OverflowError, AttributeError):
        return None
    return None


CACHE_SIZE = 256
_cache: collections.OrderedDict[tuple, bytes | None] = collections.OrderedDict()


def render_cached(submission_id: int, version: str, name: str, series: dict, lang: str = "en") -> bytes | None:
    """render(), remembered per (submission, grading time, plot, language): a page shows several plots, reloads
    show them again."""
    key = (submission_id, version, name, lang)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    svg = render(series, name, lang)
    with _lock:
        _cache[key] = svg
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return svg
