"""The printable filing (备案) form for a site: everything the police ask for."""

from __future__ import annotations

from oversight.bootstrap import System
from oversight.domain.people import Person
from oversight.services import registry as svc
from oversight.services.compliance import due_filings
from oversight.services.reports import _env


def render(system: System, actor: Person, site_id: str) -> str:
    site, cameras = svc.get_site(system, actor, site_id)
    owner = svc.get_org(system, actor, site.owner_id)
    installers = {
        c.installer_id: svc.get_org(system, actor, c.installer_id)
        for c in cameras
        if c.installer_id
    }
    day, obligations = due_filings(system, include_filed=True)
    deadlines = {(o.camera_id, o.kind): o for o in obligations if o.site_id == site_id}
    categories = system.packs.site_categories().get(site.category, [])
    category_name = categories[0][1].name if categories else None
    return _env.get_template("filing_form.html").render(
        site=site,
        owner=owner,
        cameras=cameras,
        installers=installers,
        deadlines=deadlines,
        category_name=category_name,
        packs=system.packs.ids,
        generated=day,
    )
