"""``oversight capacity``: how many days of footage the store can hold."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from oversight.cli.common import (
    DataDirOption,
    JsonOption,
    console,
    open_system,
    print_json,
    print_table,
)
from oversight.domain.capacity import Capacity
from oversight.services import capacity as svc


def register(app: typer.Typer) -> None:
    app.command("capacity")(capacity)


def capacity(
    svg: Annotated[
        Path | None, typer.Option("--svg", help="Also draw projected use over time (SVG).")
    ] = None,
    json_out: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Measure each camera's bitrate and say how many days the store can hold."""
    with open_system(data_dir) as system:
        cap = svc.measure(system)
    if svg is not None:
        svg.write_text(render_svg(cap), encoding="utf-8")
    cameras: list[dict[str, Any]] = [
        {
            "camera": c.camera,
            "mbit_per_s": round(c.bytes_per_second * 8 / 1e6, 3),
            "bytes_per_day": round(c.bytes_per_day),
            "keep_days": c.keep_days,
            "needed_bytes": round(c.needed_bytes),
        }
        for c in cap.cameras
    ]
    data = {
        "cameras": cameras,
        "used_bytes": cap.used_bytes,
        "free_bytes": cap.free_bytes,
        "needed_bytes": round(cap.needed_bytes),
        "days": None if cap.days is None else round(cap.days, 1),
        "floor_days": cap.floor_days,
        "sufficient": cap.sufficient,
    }
    if json_out:
        print_json(data)
        return
    print_table(
        "Storage capacity",
        ["camera", "Mbit/s", "GB/day", "keep days", "needs GB"],
        [
            [
                c["camera"],
                c["mbit_per_s"],
                f"{c['bytes_per_day'] / 1e9:.2f}",
                c["keep_days"],
                f"{c['needed_bytes'] / 1e9:.2f}",
            ]
            for c in cameras
        ],
    )
    free = (
        "unbounded (object storage)" if cap.free_bytes is None else f"{cap.free_bytes / 1e9:.1f} GB"
    )
    console.print(
        f"used {cap.used_bytes / 1e9:.2f} GB, free {free}, needed {cap.needed_bytes / 1e9:.2f} GB"
    )
    if cap.days is None:
        console.print("No footage recorded in the last day: nothing to project yet.")
    elif cap.sufficient:
        console.print(f"OK: the store holds {cap.days:.1f} days (legal minimum {cap.floor_days}).")
    else:
        console.print(
            f"TOO SMALL: the store holds {cap.days:.1f} days; the law requires "
            f"{cap.floor_days} (Art. 14(5)). Add space before footage is lost."
        )


def render_svg(cap: Capacity, width: int = 640, height: int = 240) -> str:
    """Projected bytes stored per day against the store's size, as a plain SVG chart."""
    horizon = max([c.keep_days for c in cap.cameras] + [cap.floor_days]) + 10
    points = cap.projection(horizon)
    top = max([b for _, b in points] + [cap.total_bytes or 0, 1]) * 1.1
    pad = 40

    def xy(day: float, value: float) -> tuple[float, float]:
        x = pad + (width - 2 * pad) * day / horizon
        y = height - pad - (height - 2 * pad) * value / top
        return round(x, 1), round(y, 1)

    line = " ".join(f"{x},{y}" for x, y in (xy(d, b) for d, b in points))
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="11">',
        f"<title>Projected storage use over {horizon} days</title>",
        f'<polyline fill="none" stroke="#1f6feb" stroke-width="2" points="{line}"/>',
        f'<text x="{pad}" y="{pad - 10}">projected use (GB) by day</text>',
    ]
    if cap.total_bytes is not None:
        _, y = xy(0, cap.total_bytes)
        parts.append(
            f'<line x1="{pad}" x2="{width - pad}" y1="{y}" y2="{y}" stroke="#d1242f" '
            'stroke-dasharray="4 3"/>'
        )
        parts.append(
            f'<text x="{width - pad}" y="{y - 4}" text-anchor="end" fill="#d1242f">'
            f"store size {cap.total_bytes / 1e9:.1f} GB</text>"
        )
    x_floor, _ = xy(cap.floor_days, 0)
    parts.append(
        f'<line x1="{x_floor}" x2="{x_floor}" y1="{pad}" y2="{height - pad}" stroke="#888"/>'
        f'<text x="{x_floor + 3}" y="{height - pad - 4}">{cap.floor_days} days</text>'
    )
    parts.append("</svg>")
    return "\n".join(parts) + "\n"
