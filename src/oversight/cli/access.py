"""``oversight access``: requests, decisions and grants (Arts. 16-17)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Annotated

import typer

from oversight.cli.common import (
    DataDirOption,
    JsonOption,
    acting,
    console,
    open_system,
    parse_instant,
    print_json,
    print_table,
    require_login,
)
from oversight.domain.access import MissingDocuments
from oversight.errors import InvalidInput, RuleViolation
from oversight.services import access as svc
from oversight.services.documents import size_text
from oversight.services.limits import MAX_ID

access = typer.Typer(
    help="Access to footage: requests, approvals, denials, grants.", no_args_is_help=True
)

RequestArg = Annotated[int, typer.Argument(help="Access request id.", min=1, max=MAX_ID)]


def register(app: typer.Typer) -> None:
    app.add_typer(access, name="access")


def _documents(values: list[str], limit: int) -> dict[str, bytes]:
    """The files named by --document KIND=FILE; one over ``limit`` bytes is refused
    before it is read (the service bounds size, count and kinds for every interface)."""
    out: dict[str, bytes] = {}
    for value in values:
        kind, sep, name = value.partition("=")
        if not sep or not kind.strip() or not name:
            raise InvalidInput(f"--document {value!r}: use KIND=FILE, e.g. unit_letter=letter.pdf")
        if kind.strip() in out:
            raise InvalidInput(f"--document {kind.strip()} is given twice")
        try:
            if Path(name).stat().st_size > limit:
                raise InvalidInput(
                    f"document {kind.strip()!r} is larger than {size_text(limit)} "
                    "(document_max_bytes)"
                )
            out[kind.strip()] = Path(name).read_bytes()
        except OSError as exc:
            raise InvalidInput(
                f"--document {kind.strip()}: cannot read {name}: {exc.strerror}"
            ) from None
    return out


@access.command("request")
def request(
    kind: Annotated[str, typer.Option("--kind", help="view | copy | retrieve.")],
    cameras: Annotated[str, typer.Option("--cameras", help="Camera ids, comma-separated.")],
    start: Annotated[str, typer.Option("--from", help="Start (ISO 8601 with a time zone).")],
    end: Annotated[str, typer.Option("--to", help="End (ISO 8601 with a time zone).")],
    requester_name: Annotated[str, typer.Option("--requester-name", help="Who asks.")],
    work_id: Annotated[str, typer.Option("--work-id", help="Their work-ID number.")],
    id_doc: Annotated[str, typer.Option("--id-doc", help="Their identity-document number.")],
    org: Annotated[str, typer.Option("--org", help="Their organisation.")],
    org_class: Annotated[
        str,
        typer.Option(
            "--org-class",
            help="police | state_security | emergency_response | other_unit | individual.",
        ),
    ],
    purpose: Annotated[str, typer.Option("--purpose", help="Why the footage is needed.")],
    destination: Annotated[str, typer.Option("--destination", help="Where any copy goes.")] = "",
    document: Annotated[
        list[str] | None,
        typer.Option(
            "--document",
            help="KIND=FILE (repeatable): unit_letter, work_id, identity_document, "
            "own_agency_head, ... as the rule pack requires.",
        ),
    ] = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """Record an access request (logged in); prints its id."""
    with open_system(data_dir) as system:
        actor = require_login(system)
        docs = _documents(document or [], system.settings.document_max_bytes)
        try:
            rec = svc.submit_request(
                system,
                actor,
                kind=kind,
                cameras=cameras.split(","),
                start=parse_instant(start, "--from"),
                end=parse_instant(end, "--to"),
                requester_name=requester_name,
                work_id=work_id,
                id_doc=id_doc,
                organisation=org,
                org_class=org_class,
                purpose=purpose,
                destination=destination,
                documents=docs,
            )
        except MissingDocuments as exc:
            # How to attach is the CLI's own phrasing; the service names them in words.
            flags = " ".join(f"--document {k}=FILE" for k in exc.kinds)
            raise RuleViolation(
                f"{exc.summary}; attach them with {flags}", rule=exc.rule, article=exc.article
            ) from None
    if as_json:
        print_json(rec.to_json())
    else:
        typer.echo(rec.id)


@access.command("approve")
def approve(
    request_id: RequestArg,
    note: Annotated[str, typer.Option("--note", help="A note kept with the decision.")] = "",
    valid_days: Annotated[
        int, typer.Option("--valid-days", help="Days the grant stays valid.", min=1, max=365)
    ] = 7,
    data_dir: DataDirOption = None,
) -> None:
    """Approve a pending request (custodian or admin, trained, not the requester);
    prints the grant id."""
    with open_system(data_dir) as system:
        actor = require_login(system)
        grant = svc.approve(
            system, actor, request_id, note=note, valid_for=timedelta(days=valid_days)
        )
    typer.echo(grant.id)


@access.command("deny")
def deny(
    request_id: RequestArg,
    reason: Annotated[str, typer.Option("--reason", help="Why it is denied.")],
    data_dir: DataDirOption = None,
) -> None:
    """Deny a pending request (custodian or admin, not the requester)."""
    with open_system(data_dir) as system:
        actor = require_login(system)
        svc.deny(system, actor, request_id, reason=reason)
    console.print(f"Denied request {request_id}.")


@access.command("revoke")
def revoke(
    grant_id: Annotated[int, typer.Argument(help="Grant id.", min=1, max=MAX_ID)],
    reason: Annotated[str, typer.Option("--reason", help="Why it is revoked.")],
    data_dir: DataDirOption = None,
) -> None:
    """Revoke a grant (custodian or admin): it can no longer be used."""
    with open_system(data_dir) as system:
        actor = require_login(system)
        svc.revoke(system, actor, grant_id, reason=reason)
    console.print(f"Revoked grant {grant_id}.")


@access.command("list")
def list_requests(
    status: Annotated[
        str | None, typer.Option("--status", help="pending | approved | denied.")
    ] = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """List access requests (custodians, admins, auditors)."""
    with open_system(data_dir) as system:
        require_login(system)
        recs = svc.list_requests(system, acting(system), status)
    if as_json:
        print_json([r.to_json() for r in recs])
        return
    print_table(
        "Access requests",
        ["id", "kind", "cameras", "from", "to", "organisation", "status", "grant"],
        [
            (
                r.id,
                r.kind,
                ",".join(r.cameras),
                r.start.isoformat(),
                r.end.isoformat(),
                r.organisation,
                r.status,
                r.grant.id if r.grant else "",
            )
            for r in recs
        ],
    )


@access.command("show")
def show(request_id: RequestArg, data_dir: DataDirOption = None) -> None:
    """Show one request and its grant as JSON (identity document masked)."""
    with open_system(data_dir) as system:
        require_login(system)
        print_json(svc.get_request(system, acting(system), request_id).to_json())
