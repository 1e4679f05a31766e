"""Access to footage (pure): what a request needs, who may approve it, what a grant allows.

Arts. 16-17 (xj-2014) and their counterparts in other packs are data: the pack's
``access_approval`` matrix says, per requester class and kind, which documents and
which approvals a request needs; ``persons_present`` how many distinct people must
take part. Every refusal is a RuleViolation naming the rule and its article. Several
packs combine: every pack in force must be satisfied (documents and approvals are
unions; a kind any pack refuses for a class is refused).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from oversight.domain.people import Person
from oversight.errors import InvalidInput, RuleViolation
from oversight.rules.layering import PackSet
from oversight.rules.schema import AccessApprovalRule, AccessBoundsRule, PersonsPresentRule

KINDS = ("view", "copy", "retrieve")
# A grant's lifetime where no pack in force says (the packs' own default as well).
DEFAULT_MAX_GRANT_DAYS = 30
ORG_CLASSES = ("police", "state_security", "emergency_response", "other_unit", "individual")


@dataclass(frozen=True)
class Requirements:
    documents: frozenset[str]
    approvals: frozenset[str]
    min_persons: int
    cites: tuple[str, ...]  # "pack rule (article)" that imposed them


@dataclass(frozen=True)
class Scope:
    kind: str
    cameras: frozenset[str]
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Grant:
    id: int
    request_id: int
    scope: Scope
    expires_at: datetime
    revoked: bool = False


def check_scope(kind: str, cameras: Sequence[str], start: datetime, end: datetime) -> Scope:
    if kind not in KINDS:
        raise InvalidInput(f"access kind {kind!r} is not one of {', '.join(KINDS)}")
    if not cameras:
        raise InvalidInput("a request names at least one camera")
    if start.tzinfo is None or end.tzinfo is None:
        raise InvalidInput("times must carry a time zone (e.g. Z or +08:00)")
    if end <= start:
        raise InvalidInput("the requested range ends before it starts")
    return Scope(kind, frozenset(cameras), start, end)


@dataclass(frozen=True)
class Bounds:
    """How far a request and a grant may reach, and the rule that says so."""

    max_grant: timedelta
    rule: str
    article: str
    source: str  # for messages: "rule access_bounds of xj-2014, operator policy"


def bounds(packs: PackSet, on: date) -> Bounds:
    """The strictest ``access_bounds`` rule in force (ties: the pack listed first); with
    none, the default lifetime under the first access-approval rule's article."""
    found = packs.rules(AccessBoundsRule, on)
    if found:
        pack, rule = min(found, key=lambda pr: pr[1].params.max_grant_days)
        policy = ", operator policy" if rule.basis == "operator_policy" else ""
        return Bounds(
            timedelta(days=rule.params.max_grant_days),
            rule.id,
            rule.cite,
            f"rule {rule.id} of {pack.pack.id}{policy}",
        )
    approvals = packs.rules(AccessApprovalRule, on)
    article = approvals[0][1].cite if approvals else "Art. 16"
    return Bounds(timedelta(days=DEFAULT_MAX_GRANT_DAYS), "access_bounds", article, "default bound")


def check_recorded(bound: Bounds, end: datetime, now: datetime, allowance: timedelta) -> None:
    """A request covers footage already recorded: its range may not end after ``now``
    (beyond ``allowance`` for clocks that differ a little)."""
    if end > now + allowance:
        raise RuleViolation(
            f"the requested range ends at {end.isoformat()}, after now: a request covers "
            f"recorded footage only ({bound.source})",
            rule=bound.rule,
            article=bound.article,
        )


def check_lifetime(bound: Bounds, valid_for: timedelta) -> None:
    """A grant stays valid at most ``bound.max_grant``: no standing grants."""
    if valid_for > bound.max_grant:
        raise RuleViolation(
            f"a grant may stay valid at most {bound.max_grant.days} days, not "
            f"{_days(valid_for)} ({bound.source})",
            rule=bound.rule,
            article=bound.article,
        )


def _days(span: timedelta) -> str:
    return f"{span.days} days" if span == timedelta(days=span.days) else str(span)


def document_kinds(packs: PackSet, org_class: str, on: date) -> frozenset[str] | None:
    """Every document or approval a request by ``org_class`` may need under the packs
    in force (whatever its kind): nothing else is accepted as an attachment. None when
    a pack gives the class no access at all (:func:`requirements` refuses it, citing
    the article)."""
    if org_class not in ORG_CLASSES:
        raise InvalidInput(
            f"organisation class {org_class!r} is not one of {', '.join(ORG_CLASSES)}"
        )
    kinds: set[str] = set()
    for _, rule in packs.rules(AccessApprovalRule, on):
        entry = rule.params.matrix.get(org_class)  # type: ignore[call-overload]
        if entry is None:
            return None
        kinds |= set(entry.documents) | set(entry.approvals)
    return frozenset(kinds)


def requirements(packs: PackSet, org_class: str, kind: str, on: date) -> Requirements:
    """What every pack in force requires of a request of ``kind`` by ``org_class``."""
    if org_class not in ORG_CLASSES:
        raise InvalidInput(
            f"organisation class {org_class!r} is not one of {', '.join(ORG_CLASSES)}"
        )
    documents: set[str] = set()
    approvals: set[str] = set()
    cites: list[str] = []
    for pack, rule in packs.rules(AccessApprovalRule, on):
        entry = rule.params.matrix.get(org_class)  # type: ignore[call-overload]
        if entry is None or kind not in entry.kinds:
            raise RuleViolation(
                f"{org_class.replace('_', ' ')} requesters may not {kind} footage "
                f"(rule {rule.id} of {pack.pack.id})",
                rule=rule.id,
                article=entry.cite if entry is not None else rule.cite,
            )
        documents |= set(entry.documents)
        approvals |= set(entry.approvals)
        cites.append(f"{pack.pack.id} {rule.id} ({entry.cite})")
    min_persons = max(
        (r.params.min_persons for _, r in packs.rules(PersonsPresentRule, on)), default=1
    )
    return Requirements(frozenset(documents), frozenset(approvals), min_persons, tuple(cites))


@dataclass(frozen=True)
class NeededDocument:
    """A document (or an approval, attached as a document of that name) a request
    needs: its kind, its name in the pack's languages and the article asking for it."""

    kind: str
    zh: str
    en: str
    cite: str

    def words(self, lang: str = "en") -> str:
        if lang == "zh":
            return self.zh
        first = self.en[:1]
        # "Work ID card" reads "work ID card" in a sentence; "ID card" stays as it is.
        lower = first.lower() + self.en[1:] if self.en[1:2].islower() else self.en
        return lower


class MissingDocuments(RuleViolation):
    """Every document a request lacks, named at once in words (never how an interface
    attaches them: the CLI adds its own ``--document KIND=FILE``)."""

    def __init__(self, missing: Sequence[NeededDocument], *, rule: str, article: str, where: str):
        self.missing = tuple(missing)
        self.summary = (
            "the request lacks documents the rules require; needs: "
            + ", ".join(f"{d.words()} ({d.cite})" for d in self.missing)
            + f" ({where})"
        )
        super().__init__(self.summary, rule=rule, article=article)

    @property
    def kinds(self) -> list[str]:
        return [d.kind for d in self.missing]


def describe(packs: PackSet, kind: str) -> NeededDocument:
    """A document kind in words, from the first pack that names it (rules are data)."""
    for loaded in packs.packs:
        doc = loaded.documents.get(kind)
        if doc is not None:
            return NeededDocument(kind, doc.name.zh, doc.name.en, doc.cite)
    plain = kind.replace("_", " ")
    return NeededDocument(kind, plain, plain, "")


def class_documents(packs: PackSet, org_class: str, on: date) -> tuple[NeededDocument, ...] | None:
    """What a request by ``org_class`` must attach under the packs in force, in the
    packs' order (documents, then approvals); None when a pack gives it no access."""
    kinds = document_kinds(packs, org_class, on)
    if kinds is None:
        return None
    ordered: list[str] = []
    for _, rule in packs.rules(AccessApprovalRule, on):
        entry = rule.params.matrix[org_class]  # type: ignore[index]
        ordered += [k for k in [*entry.documents, *entry.approvals] if k not in ordered]
    return tuple(describe(packs, k) for k in ordered)


def missing_documents(
    packs: PackSet, org_class: str, kind: str, on: date, documents: Collection[str]
) -> tuple[Requirements, tuple[NeededDocument, ...]]:
    """The requirements and every document or approval among them not in ``documents``
    (refuses, like :func:`requirements`, a kind the class may not have)."""
    needed = requirements(packs, org_class, kind, on)
    wanted = needed.documents | needed.approvals
    listed = class_documents(packs, org_class, on) or ()
    missing = [d for d in listed if d.kind in wanted and d.kind not in documents]
    return needed, tuple(missing)


def check_documents(
    packs: PackSet, org_class: str, kind: str, on: date, documents: Mapping[str, str]
) -> Requirements:
    """Refuse a request missing any document or approval the packs require, naming every
    one of them at once (:class:`MissingDocuments`), citing the class's article."""
    needed, missing = missing_documents(packs, org_class, kind, on, set(documents))
    if missing:
        pack, rule = packs.rules(AccessApprovalRule, on)[0]
        entry = rule.params.matrix[org_class]  # type: ignore[index]
        raise MissingDocuments(
            missing, rule=rule.id, article=entry.cite, where=f"rule {rule.id} of {pack.pack.id}"
        )
    return needed


def check_approver(
    requested_by: str, approver: str, approver_id_doc: str | None, requester_id_doc: str | None
) -> None:
    """Nobody approves their own request, under any of their accounts."""
    if approver == requested_by or (
        approver_id_doc is not None and approver_id_doc == requester_id_doc
    ):
        raise RuleViolation(
            "nobody may approve their own request", rule="no_self_approval", article="Art. 16"
        )


def check_persons(packs: PackSet, on: date, people: Sequence[tuple[str, str]]) -> None:
    """At least ``min_persons`` distinct people take part: (user id, identity document)
    pairs; one person with two accounts counts once (Art. 17(3))."""
    rules = packs.rules(PersonsPresentRule, on)
    if not rules:
        return
    pack, rule = max(rules, key=lambda pr: pr[1].params.min_persons)
    distinct_ids = {u for u, _ in people}
    distinct_docs = {d for _, d in people}
    if min(len(distinct_ids), len(distinct_docs)) < rule.params.min_persons:
        raise RuleViolation(
            f"at least {rule.params.min_persons} different people must take part "
            f"(rule {rule.id} of {pack.pack.id})",
            rule=rule.id,
            article=rule.cite,
        )


@dataclass(frozen=True)
class Requester:
    """Who wants the footage: the account that entered the request and every identity
    document known for them (the one named in the request, the account's own)."""

    user_id: str
    id_docs: frozenset[str]

    def is_(self, person: Person) -> bool:
        return person.id == self.user_id or (
            person.id_doc is not None and person.id_doc in self.id_docs
        )


def check_present(
    packs: PackSet, on: date, present: Sequence[Person], requester: Requester
) -> None:
    """The two-person rule, exactly (Art. 17(3)): the people present are distinct
    people of the operator (by account and by identity document); the requester may be
    present but never counts as one of them, under any account."""
    rules = packs.rules(PersonsPresentRule, on)
    counted = [p for p in present if not requester.is_(p)]
    need = max((r.params.min_persons for _, r in rules), default=1)
    if len(counted) < len(present) and len(counted) < need:
        if rules:
            pack, rule = max(rules, key=lambda pr: pr[1].params.min_persons)
            rule_id, cite, where = rule.id, rule.cite, f" (rule {rule.id} of {pack.pack.id})"
        else:
            rule_id, cite, where = "requester_not_counted", "Art. 17", ""
        raise RuleViolation(
            f"the requester ({requester.user_id}) never counts as one of the {need} "
            f"people present{where}",
            rule=rule_id,
            article=cite,
        )
    check_persons(packs, on, [(p.id, p.id_doc or f"account:{p.id}") for p in counted])


def check_use(
    grant: Grant, kind: str, camera: str, start: datetime, end: datetime, now: datetime
) -> None:
    """Refuse any use of footage the grant does not cover (Art. 16)."""

    def refuse(why: str) -> RuleViolation:
        return RuleViolation(f"grant {grant.id} {why}", rule="access_grant", article="Art. 16")

    if grant.revoked:
        raise refuse("was revoked")
    if now >= grant.expires_at:
        raise refuse(f"expired at {grant.expires_at.isoformat()}")
    if kind not in _INCLUDES[grant.scope.kind]:
        raise refuse(f"allows {grant.scope.kind}, not {kind}")
    if camera not in grant.scope.cameras:
        raise refuse(f"does not cover camera {camera}")
    if start < grant.scope.start or end > grant.scope.end:
        raise refuse(
            f"covers {grant.scope.start.isoformat()} .. {grant.scope.end.isoformat()} only"
        )


# A copy or a retrieval includes viewing what is copied; viewing allows no copy.
_INCLUDES = {"view": {"view"}, "copy": {"view", "copy"}, "retrieve": {"view", "retrieve"}}
