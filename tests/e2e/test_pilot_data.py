"""The synthetic pilot itself (no stack needed): the same every run, valid by the registry's and
the catalogue's own rules, and never written out in production."""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from deploy.pilot import data, demo, seed
from services.opportunities.catalogue.models import OpportunityFields
from services.opportunities.catalogue.rules import check
from services.registry.residents import nik as nik_rules
from services.registry.residents.models import ResidentCreate
from shared.programme.regions import is_known

RESIDENTS = data.generate_residents(1500)


def test_the_same_pilot_every_run() -> None:
    assert data.generate_residents(1500) == RESIDENTS
    assert data.village_plans(RESIDENTS) == data.village_plans(data.generate_residents(1500))
    assert data.opportunities() == data.opportunities()


def test_niks_follow_the_rules_and_encode_birth_date_and_sex() -> None:
    assert len({r.nik for r in RESIDENTS}) == len(RESIDENTS)
    for resident in RESIDENTS:
        assert nik_rules.format_problem(resident.nik) is None
        assert (
            nik_rules.consistency_problem(resident.nik, resident.sex, resident.birth_date) is None
        )
        day = resident.birth_date.day + (40 if resident.sex == "F" else 0)
        assert resident.nik[6:12] == f"{day:02d}{resident.birth_date:%m%y}"
        assert resident.nik[12:] != "0000"
    issuers = Counter(r.nik[:6] for r in RESIDENTS)
    assert issuers["630206"] + issuers["630217"] > 0.85 * len(RESIDENTS)


def test_residents_are_valid_registry_records() -> None:
    for resident in RESIDENTS[:300]:
        ResidentCreate.model_validate(resident.as_json())


def test_households_share_a_family_card() -> None:
    households: dict[str, list[data.ResidentRecord]] = defaultdict(list)
    for resident in RESIDENTS:
        households[resident.family_card_number].append(resident)
    assert any(len(members) >= 2 for members in households.values())
    for card, members in households.items():
        assert len(card) == 16 and card.isdigit()
        assert len({(m.village_code, m.welfare_decile, m.household_size) for m in members}) == 1
        assert len(members) <= members[0].household_size


def test_a_plausible_spread_of_the_target_group() -> None:
    deciles = Counter(r.welfare_decile for r in RESIDENTS)
    assert sum(deciles[d] for d in (1, 2, 3, 4)) > 0.7 * len(RESIDENTS)
    assert set(deciles) <= set(range(1, 11)) and len(deciles) >= 8
    ages = [r.age_on(data.AGE_REFERENCE) for r in RESIDENTS]
    assert sum(15 <= a <= 64 for a in ages) > 0.9 * len(RESIDENTS)
    assert min(ages) >= 15 and max(ages) > 64
    assert {r.sex for r in RESIDENTS} == {"M", "F"}
    assert 0.01 < sum(bool(r.disability) for r in RESIDENTS) / len(RESIDENTS) < 0.1
    assert {r.village_code for r in RESIDENTS} == {v.code for v in data.pilot_villages()}


def test_the_import_file_names_every_column() -> None:
    rows = list(csv.DictReader(io.StringIO(data.residents_csv(RESIDENTS[:5]).decode())))
    assert list(rows[0]) == list(data.CSV_COLUMNS)
    assert rows[0]["nik"] == RESIDENTS[0].nik


def test_villages_verify_and_rank_within_their_target_group() -> None:
    by_nik = {r.nik: r for r in RESIDENTS}
    plans = data.village_plans(RESIDENTS)
    assert len(plans) == 19
    for plan in plans:
        assert set(plan.ranking) <= set(plan.verify)
        assert len(set(plan.ranking)) == len(plan.ranking)
        assert all(by_nik[n].village_code == plan.village_code for n in plan.verify)
        deciles = [by_nik[n].welfare_decile for n in plan.ranking]
        assert deciles == sorted(deciles) and all(d <= 4 for d in deciles)


def test_the_pilot_organisations() -> None:
    specs = data.organisations()
    assert len({s.name for s in specs}) == len(specs)
    villages = [s for s in specs if s.type == "village_government"]
    assert len(villages) == 19
    assert all(s.region_code and is_known(s.region_code, "village") for s in villages)
    assert {s.type for s in specs} >= {"government_agency", "company", "university", "school"}


def test_about_eighty_valid_offers_open_for_the_demo() -> None:
    specs = data.opportunities()
    assert 75 <= len(specs) <= 85
    assert len({(s.provider, s.external_id) for s in specs}) == len(specs)
    assert {s.fields["kind"] for s in specs} == {
        "job",
        "internship",
        "training",
        "business_capital",
        "mentoring",
    }
    keys = {s.key for s in data.organisations()}
    assert {s.provider for s in specs} <= keys
    today = date(2026, 11, 28)
    close = data.applications_close(today)
    assert close > today
    for spec in specs:
        fields = OpportunityFields.model_validate(spec.body(close))
        assert check(fields, regency_code=data.REGENCY, now=datetime.now(UTC)) == [], spec
        assert date.fromisoformat(spec.fields["start_date"]).year == 2025
        assert spec.fields.get("end_date") is None


def test_stages_follow_the_pilots_calendar() -> None:
    assert list(data.STAGES) == [
        "preparation",
        "data_integration",
        "program_sync",
        "distribution_trial",
        "monitoring_evaluation",
    ]
    assert data.STAGES["program_sync"]["planned_start"].startswith("2025-08")
    assert data.STAGES["distribution_trial"]["planned_start"].startswith("2025-09")
    assert data.STAGES["monitoring_evaluation"]["planned_end"] == "2025-10-31"


def test_production_never_gets_the_seed_or_its_secrets(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SINERGI_ENV", "production")
    path = tmp_path / "demo-credentials.json"
    credentials = seed.PilotCredentials(gateway="http://127.0.0.1:9")
    with pytest.raises(seed.ProductionRefused):
        credentials.save(path)
    assert not path.exists()
    # Refused before any connection is tried (nothing listens on port 9).
    assert seed.main(["--gateway", "http://127.0.0.1:9", "--credentials", str(path)]) == 2
    assert demo.main(["--gateway", "http://127.0.0.1:9", "--credentials", str(path)]) == 2
    monkeypatch.setenv("SINERGI_ENV", "development")
    assert demo.main(["--credentials", str(path), "--wait", "0"]) == 2, "no seed, no story"
    assert not path.exists()


def test_the_demo_masks_niks() -> None:
    assert demo.mask("6302174512030001") == "630217******0001"
