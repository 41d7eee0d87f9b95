"""Server-side SVG plots of a submission's per-step series (grader.series): loss, and each parameter's gradient,
the student's line against the reference's, labelled in the viewer's language.

Written as SVG elements directly, not through matplotlib: a line, two axes and a legend take about a millisecond
this way, where matplotlib's layout measured every tick label and took a second or more per plot on a loaded
2-core machine, which is what kept the plots from arriving with the score. Text stays text: the browser draws
it, Chinese included, with its own fonts. Only presentation attributes (no <style>, no script), every label
escaped, so the SVG can be inlined in a page or served alone under a strict CSP.
"""
from __future__ import annotations

import collections
import math
import threading
from dataclasses import dataclass
from html import escape
from typing import Callable

from grader.i18n import N_, gettext

STUDENT, REFERENCE = "#d9480f", "#1c7ed6"
WIDTH, HEIGHT = 640, 300
LEFT, RIGHT, TOP, BOTTOM = 70, 14, 30, 44  # the plotting area's margins, px
TICK_GAP = 13  # px between two y tick labels, at the least
FONT = 'font-family="DejaVu Sans, Noto Sans CJK SC, WenQuanYi Micro Hei, sans-serif"'
SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def _points(values: list, stride: int) -> tuple[list[float], list[float]]:
    xs, ys = [], []
    for i, v in enumerate(values or []):
        xs.append(float(i * stride + 1))
        ys.append(float(v) if isinstance(v, (int, float)) and math.isfinite(v) else math.nan)
    return xs, ys


@dataclass
class Scale:
    """Values to a [0, 1] position along an axis, through `to` (identity, log10 or symmetric log)."""

    low: float
    high: float
    to: Callable[[float], float]
    kind: str = "linear"
    linthresh: float = 1.0

    def __call__(self, value: float) -> float:
        a, b = self.to(self.low), self.to(self.high)
        return 0.5 if b == a else (self.to(value) - a) / (b - a)


def _nice_step(span: float, count: int = 5) -> float:
    raw = span / max(count, 1)
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def _linear_ticks(low: float, high: float) -> list[float]:
    step = _nice_step(high - low)
    first = math.ceil(low / step - 1e-9) * step
    return [round(first + i * step, 12) for i in range(int((high - first) / step + 1e-9) + 1)]


def _linear(values: list[float]) -> Scale:
    low, high = min(values), max(values)
    if low == high:
        low, high = low - (abs(low) or 1.0) * 0.5, high + (abs(high) or 1.0) * 0.5
    pad = (high - low) * 0.05
    return Scale(low - pad, high + pad, lambda v: v)


def _log(values: list[float]) -> Scale:
    low, high = math.log10(min(values)), math.log10(max(values))
    if high - low < 1e-12:
        low, high = low - 0.5, high + 0.5
    pad = (high - low) * 0.05
    return Scale(10 ** (low - pad), 10 ** (high + pad), math.log10, "log")


def _symlog(values: list[float], reference: list[float]) -> Scale:
    """Linear near zero, logarithmic beyond `linthresh`: a run that blows up (gradients of 1e38) would flatten
    the reference to a line at 0 on a linear scale."""
    small = sorted(abs(v) for v in reference if v) or [1.0]
    linthresh = max(small[len(small) // 2] * 0.1, 1e-9)

    def to(v: float) -> float:
        return math.copysign(math.log10(1 + abs(v) / linthresh), v)

    low, high = min(values + [0.0]), max(values + [0.0])
    return Scale(low, high, to, "symlog", linthresh)


def y_scale(student: list[float], reference: list[float], log: bool) -> Scale | None:
    """The y axis: log for a positive loss, symmetric log for a run far wilder than the reference, else linear;
    None when no value is finite."""
    finite = [v for v in student + reference if not math.isnan(v)]
    if not finite:
        return None
    if log and min(finite) > 0:
        return _log(finite)
    ref = [v for v in reference if not math.isnan(v)]
    if max(abs(v) for v in finite) > 1e3 * max(max((abs(v) for v in ref), default=0.0), 1e-12):
        return _symlog(finite, ref)
    return _linear(finite)


def _power_label(exponent: int) -> str:
    return f"10{str(exponent).translate(SUPERSCRIPT)}"


def _number_label(value: float) -> str:
    if value == 0:
        return "0"
    text = f"{value:.4g}"
    if "e" in text:
        mantissa, exponent = text.split("e")
        return (f"{mantissa}×" if mantissa != "1" else "") + _power_label(int(exponent))
    return text


def y_ticks(scale: Scale) -> list[tuple[float, str]]:
    """(value, label) of each tick inside the axis."""
    if scale.kind == "log":
        low, high = math.ceil(math.log10(scale.low) - 1e-9), math.floor(math.log10(scale.high) + 1e-9)
        if high - low >= 1:
            step = max(1, math.ceil((high - low + 1) / 6))
            return [(10.0 ** e, _power_label(e)) for e in range(low, high + 1, step)]
        values = [v for v in _linear_ticks(scale.low, scale.high) if v > 0]
        return [(v, _number_label(v)) for v in values]
    if scale.kind == "symlog":
        ticks = [(0.0, "0")]
        for sign in (1, -1):
            top = scale.high if sign > 0 else -scale.low
            if top <= scale.linthresh:
                continue
            low, high = math.ceil(math.log10(scale.linthresh)), math.floor(math.log10(top))
            step = max(1, math.ceil((high - low + 1) / 3))
            ticks += [(sign * 10.0 ** e, ("-" if sign < 0 else "") + _power_label(e)) for e in range(low, high + 1, step)]
        return sorted(ticks)
    return [(v, _number_label(v)) for v in _linear_ticks(scale.low, scale.high)]


def _polylines(xs: list[float], ys: list[float], px: Callable[[float], float], py: Callable[[float], float]) -> list[str]:
    """The line as polylines' points, broken where a value is not finite."""
    lines, current = [], []
    for x, y in zip(xs, ys):
        if math.isnan(y):
            if current:
                lines.append(" ".join(current))
            current = []
        else:
            current.append(f"{px(x):.1f},{py(y):.1f}")
    if current:
        lines.append(" ".join(current))
    return lines


def _figure(series: dict, key: str, title: str, ylabel: str, log: bool, lang: str) -> bytes:
    stride = int(series.get("stride") or 1)
    pair = series["loss"] if key == "loss" else series["grads"][key]
    sx, sy = _points(pair.get("student"), stride)
    rx, ry = _points(pair.get("reference"), stride)
    right, bottom = WIDTH - RIGHT, HEIGHT - BOTTOM
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" '
           f'height="{HEIGHT}" role="img" aria-label="{escape(title)}" {FONT} font-size="11">',
           f"<title>{escape(title)}</title>",
           f'<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="#ffffff"/>',
           f'<text x="{(LEFT + right) / 2:.0f}" y="18" text-anchor="middle" font-size="13">{escape(title)}</text>']
    xs = sx + rx or [1.0]
    x_low, x_high = min(xs), max(xs)
    if x_high == x_low:
        x_high = x_low + 1

    def px(x: float) -> float:
        return LEFT + (x - x_low) / (x_high - x_low) * (right - LEFT)

    for x in [v for v in _linear_ticks(x_low, x_high) if x_low <= v <= x_high]:
        out.append(f'<line x1="{px(x):.1f}" y1="{TOP}" x2="{px(x):.1f}" y2="{bottom}" stroke="#e3e3e3"/>')
        out.append(f'<text x="{px(x):.1f}" y="{bottom + 15}" text-anchor="middle">{_number_label(x)}</text>')
    scale = y_scale(sy, ry, log)
    if scale is None:
        nothing = escape(gettext(lang, N_("no finite values")))  # (outside the f-string: Babel reads no f-strings)
        out.append(f'<text x="{(LEFT + right) / 2:.0f}" y="{(TOP + bottom) / 2:.0f}" text-anchor="middle">'
                   f'{nothing}</text>')
    else:
        def py(y: float) -> float:
            return bottom - scale(y) * (bottom - TOP)

        placed: list[float] = []
        # zero first, then the largest: where labels would overlap (a symmetric log's decades near zero),
        # the ones kept say the most
        for value, label in sorted(y_ticks(scale), key=lambda t: (t[0] != 0, -abs(t[0]))):
            if not 0 <= scale(value) <= 1 or any(abs(py(value) - y) < TICK_GAP for y in placed):
                continue
            placed.append(py(value))
            out.append(f'<line x1="{LEFT}" y1="{py(value):.1f}" x2="{right}" y2="{py(value):.1f}" stroke="#e3e3e3"/>')
            out.append(f'<text x="{LEFT - 6}" y="{py(value) + 4:.1f}" text-anchor="end">{escape(label)}</text>')
        for points in _polylines(rx, ry, px, py):
            out.append(f'<polyline points="{points}" fill="none" stroke="{REFERENCE}" stroke-width="2.2" '
                       'stroke-opacity="0.8" stroke-linejoin="round"/>')
        for points in _polylines(sx, sy, px, py):
            out.append(f'<polyline points="{points}" fill="none" stroke="{STUDENT}" stroke-width="1.2" '
                       'stroke-dasharray="5 3" stroke-linejoin="round"/>')
    out.append(f'<rect x="{LEFT}" y="{TOP}" width="{right - LEFT}" height="{bottom - TOP}" fill="none" '
               'stroke="#888888"/>')
    xlabel = escape(gettext(lang, N_("step (backward() call)")))
    out.append(f'<text x="{(LEFT + right) / 2:.0f}" y="{HEIGHT - 8}" text-anchor="middle">{xlabel}</text>')
    out.append(f'<text transform="translate(14 {(TOP + bottom) / 2:.0f}) rotate(-90)" text-anchor="middle">'
               f'{escape(ylabel)}</text>')
    for row, (label, color, dash, width) in enumerate(((gettext(lang, N_("reference")), REFERENCE, "", 2.2),
                                                      (gettext(lang, N_("yours")), STUDENT, ' stroke-dasharray="5 3"', 1.2))):
        y = TOP + 14 + row * 16
        out.append(f'<line x1="{right - 120}" y1="{y - 4}" x2="{right - 96}" y2="{y - 4}" stroke="{color}" '
                   f'stroke-width="{width}"{dash}/>')
        out.append(f'<text x="{right - 90}" y="{y}">{escape(label)}</text>')
    out.append("</svg>")
    return "\n".join(out).encode()


def render(series: dict, name: str, lang: str = "en") -> bytes | None:
    """The SVG for plot `name` ("loss" or "grad-<param>"), or None when the series has no such data."""
    try:
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
_lock = threading.Lock()
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
