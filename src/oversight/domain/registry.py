"""Registry rules that refuse an action: prohibited placements, unauthorised installers.

Pure functions of (proposed record, related records, packs, day). They raise
``RuleViolation`` naming the rule and its article; nothing is written by the caller
when they do.
"""

from __future__ import annotations

from datetime import date

from oversight.domain.model import CameraRec, Org, SiteRec
from oversight.errors import InvalidInput, RuleViolation
from oversight.rules.layering import Cited, PackSet
from oversight.rules.schema import InstallerRestrictedRule


def check_placement(packs: PackSet, placement: str, on: date, category: str | None = None) -> None:
    """Refuse a placement that any pack in force prohibits (prohibitions combine)."""
    packs.require_placement(placement)
    prohibited = packs.prohibitions(placement, on, category=category)
    if prohibited:
        first = prohibited[0]
        raise RuleViolation(
            f"placement {placement!r} is prohibited by rule {first.rule_id} of {first.pack_id}",
            rule=first.rule_id,
            article=first.article,
        )


def installer_restriction(packs: PackSet, site: SiteRec, owner: Org, on: date) -> Cited | None:
    """The first rule in force that forbids this owner installing in this site, if any."""
    for pack, rule in packs.rules(InstallerRestrictedRule, on, category=site.category):
        category = pack.site_categories.get(site.category)
        if category is None or category.regime not in rule.params.regimes:
            continue
        if owner.kind not in rule.params.allowed_owner_kinds:
            return packs.cited(pack, rule)
    return None


def check_installer(packs: PackSet, site: SiteRec, owner: Org, on: date) -> None:
    cited = installer_restriction(packs, site, owner, on)
    if cited is not None:
        raise RuleViolation(
            f"owner {owner.id!r} ({owner.kind}) may not install cameras in site {site.id!r} of "
            f"category {site.category!r} (rule {cited.rule_id} of {cited.pack_id})",
            rule=cited.rule_id,
            article=cited.article,
        )


def check_new_camera(
    packs: PackSet, camera: CameraRec, site: SiteRec, owner: Org, installer: Org | None, on: date
) -> None:
    """Everything that refuses a camera at registration, in a fixed order."""
    packs.require_coverage_point(camera.coverage_point)
    if installer is not None and installer.kind != "installer":
        raise InvalidInput(f"organisation {installer.id!r} is a {installer.kind}, not an installer")
    check_placement(packs, camera.placement, on, site.category)
    check_installer(packs, site, owner, on)


def installer_qualified(installer: Org | None, on: date) -> bool:
    """An installer is qualified on a day if it holds an unexpired qualification."""
    if installer is None or not installer.qualification_no:
        return False
    expires = installer.qualification_expires
    return expires is None or on <= expires
