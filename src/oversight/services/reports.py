"""Rendering of compliance reports for people: a terminal table and a printable page."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape
from rich.console import Console
from rich.table import Table
from rich.text import Text

from oversight.services.compliance import Report

_env = Environment(
    loader=PackageLoader("oversight.web", "templates"),
    autoescape=select_autoescape(["html"]),
    keep_trailing_newline=True,
)

_STYLE = {"critical": "bold red", "major": "yellow", "minor": "cyan", "info": "dim"}


def _penalty(min_cny: int | None, max_cny: int | None) -> str:
    if min_cny is None or max_cny is None:
        return "-"
    return f"CNY {min_cny:,}-{max_cny:,}"


def print_compliance(console: Console, report: Report) -> None:
    # Styled Text, not markup: the CLI's consoles print markup literally (issue 18).
    console.print(
        Text.assemble(
            ("Compliance report", "bold"),
            f" as of {report.at} under {', '.join(report.packs)}: "
            f"{len(report.findings)} finding(s)",
        )
    )
    if not report.findings:
        console.print("No findings.")
        return
    table = Table(show_lines=False)
    for col in ("severity", "subject", "article", "finding", "deadline", "penalty"):
        table.add_column(col, overflow="fold")
    for f in report.findings:
        table.add_row(
            Text(f.severity, style=_STYLE[f.severity]),
            f.subject,
            f"{f.pack} {f.article}",
            f.message,
            f.deadline.isoformat() if f.deadline else "-",
            _penalty(f.min_cny, f.max_cny)
            + (f" ({f.penalty_article})" if f.penalty_article else ""),
        )
    console.print(table)


def compliance_html(report: Report) -> str:
    return _env.get_template("compliance_report.html").render(report=report, penalty=_penalty)
