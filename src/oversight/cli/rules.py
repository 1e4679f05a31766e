"""``oversight rules``: show, list and validate rule packs (the regulations as data)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.console import Console
from rich.table import Table
from rich.text import Text as RichText

from oversight.cli.common import (
    JsonOption,
    console,
    err_console,
    plain_console,
    print_json,
    settings_for,
)
from oversight.clock import SystemClock
from oversight.errors import RulePackError
from oversight.rules.loader import builtin_pack_ids, load_builtin, load_pack_file, load_packs
from oversight.rules.schema import (
    AccessApprovalRule,
    FilingDeadlineRule,
    Fine,
    PersonsPresentRule,
    RulePack,
    Text,
)

rules = typer.Typer(
    help="Rule packs: each regulation as data, every rule with its article.",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(rules, name="rules")


@rules.command("show")
def show(
    pack: Annotated[
        str | None,
        typer.Option("--pack", help="A builtin pack id (default: every configured pack)."),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Show a rule pack: vocabularies, deadlines, retention, access, penalties and rules."""
    packs = [load_builtin(pack)] if pack else load_packs(settings_for(None).pack_ids)
    if as_json:
        dumped = [p.model_dump(mode="json") for p in packs]
        print_json(dumped[0] if len(dumped) == 1 else dumped)
        return
    for index, p in enumerate(packs):
        if index:
            _out().print()
        _print_pack(p)


@rules.command("list")
def list_packs(as_json: JsonOption = False) -> None:
    """List the builtin rule packs and whether each is in force today."""
    now = SystemClock().now()
    packs = [load_builtin(pack_id) for pack_id in builtin_pack_ids()]
    rows = [
        {
            "id": p.pack.id,
            "title": p.pack.title.model_dump(),
            "effective": p.pack.effective.isoformat(),
            "repealed": p.pack.repealed.isoformat() if p.pack.repealed else None,
            "in_force": p.in_force(now.astimezone(ZoneInfo(p.pack.timezone)).date()),
        }
        for p in packs
    ]
    if as_json:
        print_json(rows)
        return
    _table(
        "Builtin rule packs",
        ["id", "title", "effective", "in force today"],
        [
            [p.pack.id, _text(p.pack.title), row["effective"], "yes" if row["in_force"] else "no"]
            for p, row in zip(packs, rows, strict=True)
        ],
    )


@rules.command("validate")
def validate(
    file: Annotated[Path, typer.Argument(help="A rule-pack YAML file.", show_default=False)],
) -> None:
    """Check a custom rule-pack file; print every problem with its YAML path and line."""
    try:
        pack = load_pack_file(file, max_bytes=settings_for(None).rule_pack_max_bytes)
    except RulePackError as exc:
        if len(exc.problems) > 1:
            for problem in exc.problems:
                err_console.print(problem, markup=False, highlight=False, soft_wrap=True)
            raise RulePackError(f"{file}: {len(exc.problems)} errors", exc.problems) from exc
        raise
    uncovered = pack.uncovered_articles()
    if uncovered:
        listed = ", ".join(str(a) for a in uncovered)
        err_console.print(
            f"warning: {pack.pack.id}: articles cited by no rule, penalty, vocabulary entry "
            f"or informational note: {listed}",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    console.print(f"ok: {pack.pack.id} ({len(pack.rules)} rules)", markup=False, highlight=False)


# ---- text rendering ----

# Ids are what readers copy into configs and commands: never wrap or truncate them.
_KEEP = ("id", "rule", "requester")


def _out() -> Console:
    """The terminal's width on a terminal; a fixed, roomy width when piped to a file."""
    return console if console.is_terminal else plain_console(_PIPE_WIDTH)


_PIPE_WIDTH = 120


def _table(title: str, columns: list[str], rows: list[list[object]]) -> None:
    table = Table(title=RichText(title), title_justify="left", title_style="bold")
    for i, header in enumerate(columns):
        if header in _KEEP:
            widest = max([len(str(r[i])) for r in rows] + [len(header)])
            table.add_column(header, no_wrap=True, min_width=widest)
        else:
            table.add_column(header, overflow="fold")
    for row in rows:
        table.add_row(*[RichText(str(v)) for v in row])
    _out().print(table)


def _text(t: Text) -> str:
    return f"{t.zh}\n{t.en}"


def _cny(fine: Fine | None) -> str:
    if fine is None:
        return "-"
    if fine.min_cny == 0:
        return f"up to CNY {fine.max_cny:,}"
    return f"CNY {fine.min_cny:,}-{fine.max_cny:,}"


def _days(value: int | None) -> str:
    return "-" if value is None else str(value)


def _line(text: str) -> None:
    _out().print(text, markup=False, highlight=False, soft_wrap=True)


def _print_pack(p: RulePack) -> None:
    info = p.pack
    today = SystemClock().now().astimezone(ZoneInfo(info.timezone)).date()
    scope = info.jurisdiction.admin_division_code or "whole country"
    _out().rule(RichText(info.id, style="bold"), align="left")
    _line(info.title.zh)
    _line(info.title.en)
    _line(
        f"{info.instrument.issuer} {info.instrument.number} ({info.instrument.type}, "
        f"rank {info.instrument.rank}), {info.articles} articles"
    )
    _line(
        f"promulgated {info.promulgated}, effective {info.effective}{_repealed(info.repealed)}"
        f" ({'in force' if p.in_force(today) else 'not in force'} today)"
    )
    _line(f"time zone {info.timezone}; jurisdiction {info.jurisdiction.country}/{scope}")
    _table(
        "Site categories",
        ["id", "name", "regime", "article", "required coverage"],
        [
            [cid, _text(c.name), c.regime, c.cite, ", ".join(c.required_coverage) or "-"]
            for cid, c in p.site_categories.items()
        ],
    )
    for cid, c in p.site_categories.items():
        if c.exempt_rules:
            _line(f"{cid} is exempt from rules: {', '.join(c.exempt_rules)}")
    _table(
        "Coverage points",
        ["id", "name", "article"],
        [[pid, _text(c.name), c.cite] for pid, c in p.coverage_points.items()],
    )
    _table(
        "Placements",
        ["id", "name", "status", "article"],
        [
            [pid, _text(pl.name), "PROHIBITED" if pl.prohibited else "allowed", pl.cite or "-"]
            for pid, pl in p.placements.items()
        ],
    )
    _table(
        "Filing deadlines",
        ["rule", "event", "days", "legacy systems (days from effective date)", "article"],
        [
            [r.id, r.params.event, r.params.days, _days(r.params.legacy_days), r.cite]
            for r in p.rules
            if isinstance(r, FilingDeadlineRule)
        ],
    )
    _table(
        "Retention classes",
        ["id", "name", "min days", "max days", "delete when purpose met", "article"],
        [
            [
                cid,
                _text(c.name),
                c.min_days,
                _days(c.max_days),
                "yes" if c.delete_when_purpose_met else "no",
                c.cite,
            ]
            for cid, c in p.retention_classes.items()
        ],
    )
    _print_access(p)
    _table(
        "Penalties",
        ["id", "article", "fine", "fines by subject", "staged"],
        [
            [
                pid,
                pen.cite,
                _cny(pen.fine),
                "\n".join(f"{who}: {_cny(f)}" for who, f in pen.fines_by_subject.items()) or "-",
                "yes: order first, fine if not corrected" if pen.staged else "no",
            ]
            for pid, pen in p.penalties.items()
        ],
    )
    _table(
        "Rules",
        ["id", "kind", "article", "penalty"],
        [[r.id, r.kind, r.cite, r.penalty or "-"] for r in p.rules],
    )


def _print_access(p: RulePack) -> None:
    rows: list[list[object]] = []
    for r in p.rules:
        if isinstance(r, AccessApprovalRule):
            for who, entry in r.params.matrix.items():
                rows.append(
                    [
                        who,
                        ", ".join(entry.kinds),
                        ", ".join(entry.documents) or "-",
                        ", ".join(entry.approvals) or "-",
                        entry.cite,
                    ]
                )
        elif isinstance(r, PersonsPresentRule):
            rows.append(
                [
                    "(every access)",
                    f"at least {r.params.min_persons} persons present",
                    ", ".join(r.params.documents) or "-",
                    "-",
                    r.cite,
                ]
            )
    _table("Access", ["requester", "kinds", "documents", "approvals", "article"], rows)


def _repealed(day: date | None) -> str:
    return f", repealed {day}" if day else ""
