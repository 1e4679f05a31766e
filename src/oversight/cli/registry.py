"""``oversight orgs|sites|cameras|obstructions``: the registry of who films what, where."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from oversight.cli.common import (
    DataDirOption,
    JsonOption,
    acting,
    console,
    open_system,
    parse_date,
    print_field,
    print_json,
    print_table,
)
from oversight.errors import InvalidInput
from oversight.redaction import redact_url
from oversight.services import credentials
from oversight.services import registry as svc
from oversight.services.limits import MAX_ID

orgs = typer.Typer(
    help="Organisations: owner units, installers, police offices.", no_args_is_help=True
)
sites = typer.Typer(help="Sites: places with a category from the rule pack.", no_args_is_help=True)
cameras = typer.Typer(help="Cameras: placement, coverage point, stream.", no_args_is_help=True)
obstructions = typer.Typer(
    help="Reports that an advert, pipe, tree or other object blocks a camera (Art. 13).",
    no_args_is_help=True,
)


def register(app: typer.Typer) -> None:
    app.add_typer(orgs, name="orgs")
    app.add_typer(sites, name="sites")
    app.add_typer(cameras, name="cameras")
    app.add_typer(obstructions, name="obstructions")


def _opt_date(value: str | None, option: str) -> date | None:
    return parse_date(value, option) if value is not None else None


# ---- orgs ----


@orgs.command("add")
def orgs_add(
    org_id: Annotated[str, typer.Option("--id", help="Stable id, e.g. acme-security.")],
    name: Annotated[str, typer.Option("--name", help="Full name.")],
    kind: Annotated[str, typer.Option("--kind", help="owner | installer | police.")],
    qualification: Annotated[
        str | None,
        typer.Option("--qualification", help="Security-technology qualification number (Art. 11)."),
    ] = None,
    qualification_expires: Annotated[
        str | None, typer.Option("--qualification-expires", help="Expiry date (YYYY-MM-DD).")
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Register an organisation."""
    expires = _opt_date(qualification_expires, "--qualification-expires")
    with open_system(data_dir) as system:
        org = svc.add_org(
            system,
            acting(system),
            org_id=org_id,
            name=name,
            kind=kind,
            qualification_no=qualification,
            qualification_expires=expires,
        )
    console.print(f"Added organisation {org.id} ({org.kind}).")


@orgs.command("list")
def orgs_list(as_json: JsonOption = False, data_dir: DataDirOption = None) -> None:
    """List organisations."""
    with open_system(data_dir) as system:
        items = svc.list_orgs(system, acting(system))
    if as_json:
        print_json([asdict(o) for o in items])
        return
    print_table(
        "Organisations",
        ["id", "name", "kind", "qualification", "expires"],
        [(o.id, o.name, o.kind, o.qualification_no, o.qualification_expires) for o in items],
    )


@orgs.command("show")
def orgs_show(org_id: str, as_json: JsonOption = False, data_dir: DataDirOption = None) -> None:
    """Show one organisation."""
    with open_system(data_dir) as system:
        org = svc.get_org(system, acting(system), org_id)
    if as_json:
        print_json(asdict(org))
        return
    for key, value in asdict(org).items():
        print_field(key, value if value is not None else "-")


# ---- sites ----


@sites.command("add")
def sites_add(
    site_id: Annotated[str, typer.Option("--id", help="Stable id.")],
    name: Annotated[str, typer.Option("--name", help="Site name.")],
    category: Annotated[
        str, typer.Option("--category", help="Site category from the rule pack, e.g. school.")
    ],
    owner: Annotated[str, typer.Option("--owner", help="Owner organisation id.")],
    address: Annotated[str | None, typer.Option("--address", help="Postal address.")] = None,
    managing_body: Annotated[
        str | None, typer.Option("--managing-body", help="Body that manages the system.")
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Register a site."""
    with open_system(data_dir) as system:
        site = svc.add_site(
            system,
            acting(system),
            site_id=site_id,
            name=name,
            category=category,
            owner_id=owner,
            address=address,
            managing_body=managing_body,
        )
    console.print(f"Added site {site.id} ({site.category}).")


@sites.command("list")
def sites_list(as_json: JsonOption = False, data_dir: DataDirOption = None) -> None:
    """List sites."""
    with open_system(data_dir) as system:
        items = svc.list_sites(system, acting(system))
    if as_json:
        print_json([asdict(s) for s in items])
        return
    print_table(
        "Sites",
        ["id", "name", "category", "owner", "address"],
        [(s.id, s.name, s.category, s.owner_id, s.address) for s in items],
    )


@sites.command("show")
def sites_show(site_id: str, as_json: JsonOption = False, data_dir: DataDirOption = None) -> None:
    """Show a site and its cameras."""
    with open_system(data_dir) as system:
        site, cams = svc.get_site(system, acting(system), site_id)
    if as_json:
        print_json({**asdict(site), "cameras": [asdict(c) for c in cams]})
        return
    for key, value in asdict(site).items():
        print_field(key, value if value is not None else "-")
    print_table(
        "Cameras",
        ["id", "placement", "coverage", "commissioned", "removed"],
        [(c.id, c.placement, c.coverage_point, c.commissioned, c.removed) for c in cams],
    )


# ---- cameras ----


@cameras.command("add")
def cameras_add(
    camera_id: Annotated[str, typer.Option("--id", help="Stable id, e.g. cam1.")],
    site: Annotated[str, typer.Option("--site", help="Site id.")],
    placement: Annotated[
        str, typer.Option("--placement", help="Placement type from the pack, e.g. general.")
    ],
    coverage: Annotated[
        str, typer.Option("--coverage", help="entrance | main_passage | key_part | ...")
    ],
    stream: Annotated[
        str,
        typer.Option(
            "--stream",
            help="Stream URL (rtsp://, http://, file://). Credentials in it are split off "
            "and stored encrypted.",
        ),
    ],
    commissioned: Annotated[
        str, typer.Option("--commissioned", help="Date put into use (YYYY-MM-DD).")
    ],
    installer: Annotated[
        str | None, typer.Option("--installer", help="Installer organisation id.")
    ] = None,
    masks: Annotated[
        str | None,
        typer.Option("--masks", help="Privacy masks as JSON: [[[x,y],[x,y],[x,y]], ...], 0..1."),
    ] = None,
    username: Annotated[
        str | None, typer.Option("--username", help="Stream login, if not in the URL.")
    ] = None,
    password_file: Annotated[
        Path | None,
        typer.Option(
            "--password-file", help="File holding the stream password (kept off the command line)."
        ),
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Register a camera. A prohibited placement is refused with its article."""
    day = parse_date(commissioned, "--commissioned")
    password = None
    if password_file is not None:
        try:
            password = password_file.read_text(encoding="utf-8").rstrip("\r\n")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or "not UTF-8 text"
            raise InvalidInput(f"--password-file {password_file}: {reason}") from None
    stream = credentials.with_login(stream, username, password)
    polygons = []
    if masks is not None:
        try:
            polygons = json.loads(masks)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"--masks is not valid JSON: {exc.msg}") from None
        if not isinstance(polygons, list):
            raise InvalidInput("--masks must be a JSON list of polygons")
    with open_system(data_dir) as system:
        cam = svc.add_camera(
            system,
            acting(system),
            camera_id=camera_id,
            site_id=site,
            placement=placement,
            coverage=coverage,
            stream_url=stream,
            commissioned=day,
            installer_id=installer,
            privacy_masks=polygons,
        )
    console.print(f"Added camera {cam.id} at site {cam.site_id}.")


@cameras.command("remove")
def cameras_remove(
    camera_id: str,
    on: Annotated[str, typer.Option("--date", help="Date removed (YYYY-MM-DD).")],
    data_dir: DataDirOption = None,
) -> None:
    """Record that a camera was removed (its footage stays under retention)."""
    day = parse_date(on, "--date")
    with open_system(data_dir) as system:
        cam = svc.remove_camera(system, acting(system), camera_id, day)
    console.print(f"Camera {cam.id} removed on {cam.removed}; file the removal with the police.")


@cameras.command("priority")
def cameras_priority(
    camera_id: Annotated[str, typer.Argument(help="The camera.")],
    level: Annotated[str, typer.Argument(help="critical, normal (the default) or low.")],
    data_dir: DataDirOption = None,
) -> None:
    """Set how early a recorder pool short of capacity claims CAMERA: critical cameras
    are claimed first, low ones last (a registry leaf)."""
    with open_system(data_dir) as system:
        svc.set_priority(system, acting(system), camera_id, level)
    typer.echo(f"camera {camera_id}: priority {level}")


@cameras.command("redundant")
def cameras_redundant(
    camera_id: Annotated[str, typer.Argument(help="The camera.")],
    state: Annotated[str, typer.Argument(help="on (two nodes record it) or off.")],
    data_dir: DataDirOption = None,
) -> None:
    """Have a recorder pool record CAMERA on two nodes at once (on) or one (off): both
    copies are sealed and chained, playback and export use one, and killing either node
    costs the camera no footage (a registry leaf; needs two live nodes)."""
    if state not in ("on", "off"):
        raise InvalidInput(f"redundant {state!r} is not on or off")
    with open_system(data_dir) as system:
        svc.set_redundant(system, acting(system), camera_id, state == "on")
    typer.echo(f"camera {camera_id}: redundant {state}")


@cameras.command("list")
def cameras_list(
    site: Annotated[str | None, typer.Option("--site", help="Only this site.")] = None,
    as_json: JsonOption = False,
    data_dir: DataDirOption = None,
) -> None:
    """List cameras (stream credentials are redacted)."""
    with open_system(data_dir) as system:
        items = svc.list_cameras(system, acting(system), site)
    if as_json:
        print_json([{**asdict(c), "stream": redact_url(url)} for c, url in items])
        return
    print_table(
        "Cameras",
        ["id", "site", "placement", "coverage", "stream", "commissioned", "removed"],
        [
            (
                c.id,
                c.site_id,
                c.placement,
                c.coverage_point,
                redact_url(u),
                c.commissioned,
                c.removed,
            )
            for c, u in items
        ],
    )


@cameras.command("show")
def cameras_show(
    camera_id: str, as_json: JsonOption = False, data_dir: DataDirOption = None
) -> None:
    """Show one camera (stream credentials are redacted)."""
    with open_system(data_dir) as system:
        cam, url, polygons = svc.get_camera(system, acting(system), camera_id)
    data = {**asdict(cam), "stream": redact_url(url), "privacy_masks": polygons}
    if as_json:
        print_json(data)
        return
    for key, value in data.items():
        print_field(key, value if value not in (None, []) else "-")


# ---- obstructions ----


@obstructions.command("report")
def obstructions_report(
    camera: Annotated[str, typer.Option("--camera", help="Camera id.")],
    cause: Annotated[str, typer.Option("--cause", help="advert | pipeline | cable | tree | other")],
    on: Annotated[str, typer.Option("--date", help="Date observed (YYYY-MM-DD).")],
    description: Annotated[str | None, typer.Option("--description")] = None,
    responsible: Annotated[
        str | None, typer.Option("--responsible", help="Who put the obstruction there.")
    ] = None,
    data_dir: DataDirOption = None,
) -> None:
    """Record that something blocks a camera's view."""
    day = parse_date(on, "--date")
    with open_system(data_dir) as system:
        ob = svc.report_obstruction(
            system,
            acting(system),
            camera_id=camera,
            reported_on=day,
            cause=cause,
            description=description,
            responsible_party=responsible,
        )
    console.print(f"Recorded obstruction {ob.id} of camera {ob.camera_id}.")


@obstructions.command("resolve")
def obstructions_resolve(
    obstruction_id: Annotated[int, typer.Argument(help="Obstruction id.", min=1, max=MAX_ID)],
    on: Annotated[str, typer.Option("--date", help="Date cleared (YYYY-MM-DD).")],
    data_dir: DataDirOption = None,
) -> None:
    """Record that an obstruction was cleared."""
    day = parse_date(on, "--date")
    with open_system(data_dir) as system:
        ob = svc.resolve_obstruction(system, acting(system), obstruction_id, day)
    console.print(f"Obstruction {ob.id} resolved on {ob.resolved_on}.")


@obstructions.command("list")
def obstructions_list(as_json: JsonOption = False, data_dir: DataDirOption = None) -> None:
    """List obstruction reports."""
    with open_system(data_dir) as system:
        items = svc.list_obstructions(system, acting(system))
    if as_json:
        print_json([asdict(o) for o in items])
        return
    print_table(
        "Obstructions",
        ["id", "camera", "cause", "reported", "resolved", "responsible"],
        [
            (o.id, o.camera_id, o.cause, o.reported_on, o.resolved_on, o.responsible_party)
            for o in items
        ],
    )
