"""A learned term's shape as a small inline SVG with the account's value marked (server-rendered: the app's
CSP allows no script for it). Every number is formatted here and every text escaped; presentation attributes
only (no style attributes), so the strict CSP holds."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

W, H, PAD = 260, 64, 4
GREEN, MARK, LINE, CELL = "#2e7d32", "#c62828", "#37474f", "#90a4ae"


def _f(x: float) -> str:
    return f"{x:.1f}"


def _y(score: float) -> float:
    return PAD + (H - 2 * PAD) * (1 - max(0.0, min(100.0, float(score))) / 100.0)


def _label(term: dict[str, Any]) -> str:
    value = term.get("value")
    shown = "no value" if value is None else f"value {value}"
    where = ""
    if term.get("kind") == "shape" and term.get("bin") is not None:
        b = term["bin"]
        if b < 0:
            where = f", below the first bin ({term['bins'][0]['min']:g})"
        else:
            bb = term["bins"][b]
            upper = "and above" if bb["max"] is None else f"to {bb['max']:g}"
            where = f", bin {b + 1} of {len(term['bins'])} ({bb['min']:g} {upper})"
    elif term.get("kind") == "map" and term.get("bin") is not None:
        where = f", category {term['bin'] + 1} of {len(term['bins'])}"
    elif term.get("kind") == "interaction" and term.get("cell") is not None:
        where = f", cell {term['cell'][0] + 1} x {term['cell'][1] + 1}"
    score = term.get("score")
    return f"{term['metric']}: {shown}{where}; score {'-' if score is None else f'{score:g}'}"


def shape_svg(term: dict[str, Any]) -> Markup:
    """The term's shape (bins left to right, score up) with the account's bin marked; a map's categories as
    bars; an interaction's table as a grid with the account's cell outlined."""
    parts: list[str] = []
    kind = term.get("kind")
    if kind == "interaction":
        rows, cols = len(term["scores"]), len(term["scores"][0]) if term["scores"] else 0
        cw, ch = (W - 2 * PAD) / max(cols, 1), (H - 2 * PAD) / max(rows, 1)
        for i, row in enumerate(term["scores"]):
            for j, sc in enumerate(row):
                opacity = 0.15 + 0.85 * max(0.0, min(100.0, float(sc))) / 100.0
                parts.append(f'<rect x="{_f(PAD + j * cw)}" y="{_f(PAD + i * ch)}" width="{_f(cw - 1)}"'
                             f' height="{_f(ch - 1)}" fill="{GREEN}" fill-opacity="{opacity:.2f}"/>')
        if term.get("cell") is not None:
            i, j = term["cell"]
            parts.append(f'<rect x="{_f(PAD + j * cw)}" y="{_f(PAD + i * ch)}" width="{_f(cw - 1)}"'
                         f' height="{_f(ch - 1)}" fill="none" stroke="{MARK}" stroke-width="2"'
                         ' data-testid="shape-mark"/>')
    else:
        bins = term.get("bins") or []
        n = max(len(bins), 1)
        bw = (W - 2 * PAD) / n
        mark = term.get("bin")
        if kind == "shape":
            for k, b in enumerate(bins):
                x0, x1, y = PAD + k * bw, PAD + (k + 1) * bw, _y(b["score"])
                parts.append(f'<line x1="{_f(x0)}" y1="{_f(y)}" x2="{_f(x1)}" y2="{_f(y)}" stroke="{LINE}"'
                             ' stroke-width="2"/>')
                if k + 1 < len(bins):
                    parts.append(f'<line x1="{_f(x1)}" y1="{_f(y)}" x2="{_f(x1)}" y2="{_f(_y(bins[k + 1]["score"]))}"'
                                 f' stroke="{CELL}" stroke-width="1"/>')
        else:  # map: a bar per category
            for k, b in enumerate(bins):
                y = _y(b["score"])
                parts.append(f'<rect x="{_f(PAD + k * bw + 1)}" y="{_f(y)}" width="{_f(bw - 2)}"'
                             f' height="{_f(H - PAD - y)}" fill="{CELL}"/>')
        if mark is not None and bins:
            k = max(mark, 0)
            sc = term["below"] if kind == "shape" and mark < 0 else bins[k]["score"]
            x = PAD + k * bw + bw / 2
            parts.append(f'<rect x="{_f(PAD + k * bw)}" y="{PAD}" width="{_f(bw)}" height="{H - 2 * PAD}"'
                         f' fill="{MARK}" fill-opacity="0.12"/>')
            parts.append(f'<circle cx="{_f(x)}" cy="{_f(_y(sc))}" r="4" fill="{MARK}" data-testid="shape-mark"/>')
    title = escape(_label(term))
    body = "".join(parts)
    return Markup(f'<svg class="shape" xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}"'
                  f' viewBox="0 0 {W} {H}" role="img" aria-label="{title}"><title>{title}</title>'
                  f'<rect x="0" y="0" width="{W}" height="{H}" fill="none" stroke="{CELL}" stroke-width="1"/>'
                  f'{body}</svg>')
