"""Loading packs: every error names its YAML path and line; nothing is silently dropped."""

from __future__ import annotations

from pathlib import Path

import pytest

from oversight.errors import RulePackError
from oversight.rules.loader import (
    builtin_pack_ids,
    load_builtin,
    load_pack_file,
    load_packs,
    parse_pack,
)

# A small valid pack; rules[3] is a filing deadline. Tests break it one edit at a time.
GOOD = """\
schema_version: 1
pack:
  id: test-pack
  title: {zh: 测试办法, en: Test measures}
  jurisdiction: {country: CN, admin_division_code: "65"}
  instrument: {type: local_government_rule, rank: 40, issuer: 测试, number: "1"}
  promulgated: 2020-01-01
  effective: 2020-02-01
  timezone: Asia/Shanghai
  articles: 3
site_categories:
  plaza:
    name: {zh: 广场, en: Square}
    cite: "Art. 1"
    regime: government_managed
    required_coverage: [entrance]
coverage_points:
  entrance: {name: {zh: 出入口, en: Entrance}, cite: "Art. 1"}
placements:
  general: {name: {zh: 一般, en: General}, prohibited: false}
  toilet: {name: {zh: 卫生间, en: Toilet}, prohibited: true, cite: "Art. 2"}
retention_classes:
  standard: {name: {zh: 资料, en: Footage}, cite: "Art. 3", min_days: 30}
penalties:
  fine:
    cite: "Art. 3"
    summary: {zh: 罚款, en: Fine}
    staged: true
    fine: {min_cny: 200, max_cny: 1000}
rules:
  - id: no_toilets
    kind: placement_prohibited
    cite: "Art. 2"
    penalty: fine
    summary: {zh: 禁止, en: Prohibited}
    params: {placements: [toilet]}
  - id: coverage
    kind: coverage_required
    cite: "Art. 1"
    summary: {zh: 覆盖, en: Cover}
  - id: keep
    kind: retention_minimum
    cite: "Art. 3"
    summary: {zh: 存储, en: Keep}
    params: {retention_class: standard}
  - id: file_it
    kind: filing_deadline
    cite: "Art. 3"
    penalty: fine
    summary: {zh: 备案, en: File}
    params: {event: commissioning, days: 30}
"""


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line containing ``needle``."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def broken(old: str, new: str, text: str = GOOD) -> str:
    assert text.count(old) == 1, old
    return text.replace(old, new)


def problems_of(text: str) -> list[str]:
    with pytest.raises(RulePackError) as info:
        parse_pack(text, source="custom.yaml")
    assert info.value.problems, "a RulePackError from the loader lists its problems"
    assert str(info.value).startswith("custom.yaml")
    return info.value.problems


def test_good_pack_loads() -> None:
    pack = parse_pack(GOOD, source="custom.yaml")
    assert pack.pack.id == "test-pack"
    assert [r.id for r in pack.rules] == ["no_toilets", "coverage", "keep", "file_it"]
    assert pack.uncovered_articles() == []


def test_malformed_yaml_reports_the_line() -> None:
    text = broken("  articles: 3\n", "  articles: [3\n")
    with pytest.raises(RulePackError) as info:
        parse_pack(text, source="custom.yaml")
    message = str(info.value)
    assert message.startswith("custom.yaml: line ")
    assert "\n" not in message
    line = int(message.split("line ")[1].split(":")[0])
    assert line >= line_of(text, "articles: [3")


def test_tab_indentation_is_malformed() -> None:
    with pytest.raises(RulePackError, match=r"line 2"):
        parse_pack("schema_version: 1\n\tpack: {}\n", source="custom.yaml")


@pytest.mark.parametrize("text", ["- a\n- b\n", "just a string\n", "42\n", ""])
def test_not_a_mapping(text: str) -> None:
    assert problems_of(text) == ["<root>: not a mapping"]


def test_wrong_type_deep_inside_names_path_and_line() -> None:
    text = broken("commissioning, days: 30}", "commissioning, days: thirty}")
    [problem] = problems_of(text)
    assert problem.startswith(f"rules[3].params.days (line {line_of(text, 'days: thirty')}):")
    assert "integer" in problem


def test_missing_field_names_its_parent() -> None:
    text = broken(
        '    cite: "Art. 1"\n    regime: government_managed\n', "    regime: government_managed\n"
    )
    [problem] = problems_of(text)
    assert problem.startswith(f"site_categories.plaza.cite (line {line_of(text, '  plaza:') + 1}):")
    assert "Field required" in problem


def test_unknown_field_is_refused() -> None:
    text = broken("  articles: 3\n", "  articles: 3\n  artciles: 4\n")
    [problem] = problems_of(text)
    assert problem.startswith(f"pack.artciles (line {line_of(text, 'artciles')}):")


def test_unknown_rule_kind() -> None:
    text = broken("kind: coverage_required", "kind: teleport")
    [problem] = problems_of(text)
    assert problem.startswith(f"rules[1] (line {line_of(text, '- id: coverage')}):")
    assert "teleport" in problem


@pytest.mark.parametrize(
    ("old", "new", "path", "needle", "message"),
    [
        (
            "    penalty: fine\n    summary: {zh: 禁止",
            "    penalty: nope\n    summary: {zh: 禁止",
            "rules[0].penalty",
            "penalty: nope",
            "unknown penalty 'nope'",
        ),
        (
            "placements: [toilet]",
            "placements: [bathroom]",
            "rules[0].params.placements[0]",
            "placements: [bathroom]",
            "unknown placement 'bathroom'",
        ),
        (
            "placements: [toilet]",
            "placements: [general]",
            "rules[0].params.placements[0]",
            "placements: [general]",
            "placement 'general' is not marked prohibited",
        ),
        (
            "required_coverage: [entrance]",
            "required_coverage: [roof]",
            "site_categories.plaza.required_coverage[0]",
            "required_coverage: [roof]",
            "unknown coverage point 'roof'",
        ),
        (
            "retention_class: standard",
            "retention_class: forever",
            "rules[2].params.retention_class",
            "retention_class: forever",
            "unknown retention class 'forever'",
        ),
        (
            "required_coverage: [entrance]",
            "required_coverage: [entrance]\n    exempt_rules: [no_such_rule]",
            "site_categories.plaza.exempt_rules[0]",
            "exempt_rules",
            "unknown rule 'no_such_rule'",
        ),
        (
            "  - id: keep\n",
            "  - id: coverage\n",
            "rules[2].id",
            "- id: coverage",
            "duplicate rule id 'coverage'",
        ),
    ],
)
def test_dangling_references(old: str, new: str, path: str, needle: str, message: str) -> None:
    text = broken(old, new)
    [problem] = problems_of(text)
    lines = [i for i, line in enumerate(text.splitlines(), 1) if needle in line]
    assert problem.startswith(f"{path} (line {lines[-1]}):"), problem
    assert message in problem


def test_every_reference_problem_is_reported_on_its_own_line() -> None:
    text = broken("placements: [toilet]", "placements: [bathroom]")
    text = broken("retention_class: standard", "retention_class: forever", text)
    problems = problems_of(text)
    assert [p.split(" ")[0] for p in problems] == [
        "rules[0].params.placements[0]",
        "rules[2].params.retention_class",
    ]


def test_several_field_errors_are_all_reported() -> None:
    text = broken("commissioning, days: 30}", "commissioning, days: thirty}")
    text = broken("timezone: Asia/Shanghai", "timezone: Mars/Olympus_Mons", text)
    problems = problems_of(text)
    assert len(problems) == 2
    assert {p.split(" ")[0] for p in problems} == {"pack.timezone", "rules[3].params.days"}


def test_unknown_time_zone() -> None:
    text = broken("timezone: Asia/Shanghai", "timezone: Mars/Olympus_Mons")
    [problem] = problems_of(text)
    assert problem.startswith(f"pack.timezone (line {line_of(text, 'timezone:')}):")
    assert "unknown time zone 'Mars/Olympus_Mons'" in problem


def test_duplicate_mapping_keys_are_refused() -> None:
    # PyYAML would keep the second 'toilet' and drop the first without a word.
    text = broken(
        "  toilet: {name:",
        '  toilet: {name: {zh: 浴室, en: Bath}, prohibited: true, cite: "Art. 2"}\n'
        "  toilet: {name:",
    )
    [problem] = problems_of(text)
    assert problem == (
        f"placements.toilet (line {line_of(text, 'Bath') + 1}): duplicate key 'toilet'"
    )


@pytest.mark.parametrize(
    ("old", "new", "path", "message"),
    [
        ('prohibited: true, cite: "Art. 2"}', "prohibited: true}", "placements.toilet", "cite"),
        (
            "min_cny: 200, max_cny: 1000",
            "min_cny: 2000, max_cny: 1000",
            "penalties.fine.fine",
            "min_cny exceeds",
        ),
        ("effective: 2020-02-01", "effective: 2019-02-01", "pack", "precedes promulgation"),
        (
            'filing_deadline\n    cite: "Art. 3"',
            'filing_deadline\n    cite: "article 3"',
            "rules[3].cite",
            "pattern",
        ),
        ("  - id: file_it", "  - id: File-It", "rules[3].id", "pattern"),
        ("schema_version: 1", "schema_version: 2", "schema_version", "1"),
    ],
)
def test_field_validation(old: str, new: str, path: str, message: str) -> None:
    [problem] = problems_of(broken(old, new))
    assert problem.split(" ")[0] == path, problem
    assert message in problem


def test_builtin_ids_and_unknown_pack() -> None:
    ids = builtin_pack_ids()
    assert "xj-2014" in ids and "cn-2025" in ids
    with pytest.raises(RulePackError, match=r"unknown rule pack 'xx-1999' \(known: .*xj-2014"):
        load_builtin("xx-1999")


def test_load_packs_keeps_order_and_refuses_repeats() -> None:
    assert [p.pack.id for p in load_packs(["cn-2025", "xj-2014"])] == ["cn-2025", "xj-2014"]
    with pytest.raises(RulePackError, match="listed twice"):
        load_packs(["xj-2014", "xj-2014"])
    with pytest.raises(RulePackError, match="unknown rule pack"):
        load_packs(["xj-2014", "nope"])


def test_load_pack_file(tmp_path: Path) -> None:
    path = tmp_path / "custom.yaml"
    path.write_text(GOOD, encoding="utf-8")
    assert load_pack_file(path).pack.id == "test-pack"


def test_load_pack_file_missing(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    with pytest.raises(RulePackError, match=r"cannot read .*nope\.yaml"):
        load_pack_file(missing)


def test_load_pack_file_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "gbk.yaml"
    path.write_bytes(GOOD.encode("gbk"))
    with pytest.raises(RulePackError, match="not UTF-8"):
        load_pack_file(path)


def test_error_source_names_the_file(tmp_path: Path) -> None:
    path = tmp_path / "custom.yaml"
    path.write_text(
        broken("commissioning, days: 30}", "commissioning, days: thirty}"), encoding="utf-8"
    )
    with pytest.raises(RulePackError) as info:
        load_pack_file(path)
    assert str(info.value).startswith(f"{path}: 1 error: rules[3].params.days (line ")
