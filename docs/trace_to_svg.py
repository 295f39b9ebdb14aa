"""Draw a Chrome trace-event file (as ``--trace`` writes it) as an SVG timeline.

    python docs/trace_to_svg.py run.json run.svg

One row per lane (the run, the node lanes, each map worker), one box per complete event,
labelled with its name and duration. The README's picture is this drawing of a real trace,
turned into PNG by headless Chromium (see "Seeing a run" in the README).
"""

from __future__ import annotations

import json
import sys
from html import escape
from pathlib import Path
from typing import Any

WIDTH = 1200
LABEL_WIDTH = 190
ROW = 34
TOP = 58
COLOURS = {"run": "#9db4d6", "node": "#f2b15a", "attempt": "#e36d5f", "item": "#7cc49b"}


def lanes_of(events: list[dict[str, Any]]) -> list[tuple[int, str]]:
    names = {e["tid"]: e["args"]["name"] for e in events if e["ph"] == "M" and e["name"] == "thread_name"}
    used = sorted({e["tid"] for e in events if e["ph"] == "X"})
    return [(tid, names.get(tid, f"lane {tid}")) for tid in used]


def svg(trace: dict[str, Any]) -> str:
    events = trace["traceEvents"]
    boxes = [e for e in events if e["ph"] == "X"]
    lanes = lanes_of(events)
    row_of = {tid: index for index, (tid, _) in enumerate(lanes)}
    end = max(e["ts"] + e["dur"] for e in boxes)
    scale = (WIDTH - LABEL_WIDTH - 40) / end
    height = TOP + ROW * len(lanes) + 34
    short: list[str] = []
    title = f"workflow {trace['otherData']['workflow']}: {end / 1000:.1f} ms"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" font-family="sans-serif">',
        f'<rect width="{WIDTH}" height="{height}" fill="white"/>',
        f'<text x="10" y="22" font-size="16" font-weight="bold">{escape(title)}</text>',
    ]
    step = _tick_step(end / 1000)
    tick = 0.0
    while tick * 1000 <= end:
        x = LABEL_WIDTH + tick * 1000 * scale
        parts.append(f'<line x1="{x:.1f}" y1="{TOP - 8}" x2="{x:.1f}" y2="{height - 28}" stroke="#ddd"/>')
        parts.append(f'<text x="{x:.1f}" y="{TOP - 12}" font-size="11" fill="#555">{tick:g} ms</text>')
        tick += step
    for index, (_, name) in enumerate(lanes):
        y = TOP + index * ROW
        parts.append(f'<text x="10" y="{y + ROW / 2 + 4}" font-size="12">{escape(name)}</text>')
    for box in sorted(boxes, key=lambda e: ({"run": 0, "node": 1, "item": 1, "attempt": 2}[e["cat"]], e["ts"])):
        x = LABEL_WIDTH + box["ts"] * scale
        width = max(box["dur"] * scale, 2.0)
        inset = 8 if box["cat"] == "attempt" else 3
        y = TOP + row_of[box["tid"]] * ROW + inset
        failed = box["args"].get("success") is False or "error" in box["args"]
        colour = "#d9534f" if failed and box["cat"] != "node" else COLOURS[box["cat"]]
        stroke = ' stroke="#b52b27" stroke-width="2"' if failed else ' stroke="#666"'
        parts.append(
            f'<rect x="{x:.1f}" y="{y}" width="{width:.1f}" height="{ROW - 2 * inset}" rx="3"'
            f' fill="{colour}"{stroke}><title>{escape(box["name"])}</title></rect>'
        )
        label = f"{box['name']} ({_duration(box['dur'])})"
        baseline = y + (ROW - 2 * inset) / 2 + 4
        if width > 7 * len(label):
            parts.append(f'<text x="{x + 4:.1f}" y="{baseline}" font-size="11">{escape(label)}</text>')
        elif box["cat"] == "node":  # too short to hold its name: named under the chart
            short.append(f"{label} at {box['ts'] / 1000:.1f} ms")
    if short:
        caption = "too short to label: " + ", ".join(short)
        parts.append(f'<text x="10" y="{height - 6}" font-size="11" fill="#333">{escape(caption)}</text>')
    parts.append("</svg>")
    return "\n".join(parts) + "\n"


def _duration(microseconds: float) -> str:
    return f"{microseconds / 1000:.1f} ms" if microseconds >= 1000 else f"{microseconds:.0f} us"


def _tick_step(total_ms: float) -> float:
    for step in (0.1, 0.2, 0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000):
        if total_ms / step <= 12:
            return step
    return 10000.0


if __name__ == "__main__":
    source, target = Path(sys.argv[1]), Path(sys.argv[2])
    target.write_text(svg(json.loads(source.read_text())))
