"""Which files `hub backfill` recognises, and the order of a first load."""

from pathlib import Path

from hub.commands.backfill import recognise


def touch(directory: Path, *names: str) -> None:
    for name in names:
        (directory / name).parent.mkdir(parents=True, exist_ok=True)
        (directory / name).write_text("")


def test_a_first_load_sends_plans_first_then_census_partners_and_person_details_last(
    tmp_path: Path,
) -> None:
    touch(
        tmp_path,
        "voice/survey_responses.csv",
        "education/person_details.csv",
        "health/therapy_referrals.csv",
        "education/sen_support_census.csv",
        "socialcare/cases_opened.csv",
        "education/ehc_plans_issued.csv",
        "education/assessment_requests.csv",
    )
    found, unknown = recognise(tmp_path)
    assert unknown == []
    assert [f"{f.source}/{f.extract}" for f in found] == [
        "education/assessment_requests",
        "education/ehc_plans_issued",
        "education/sen_support_census",
        "socialcare/cases_opened",
        "health/therapy_referrals",
        "voice/survey_responses",
        "education/person_details",
    ]


def test_only_source_slash_extract_csv_is_recognised(tmp_path: Path) -> None:
    touch(
        tmp_path,
        "education/exclusions.csv",
        "exclusions.csv",
        "health/exclusions.csv",
        "education/exclusions.txt",
        "education/2024/exclusions.csv",
        "education/.exclusions.csv",
    )
    found, unknown = recognise(tmp_path)
    assert [(f.source, f.extract) for f in found] == [("education", "exclusions")]
    assert sorted(map(str, unknown)) == [
        "education/.exclusions.csv",
        "education/2024/exclusions.csv",
        "education/exclusions.txt",
        "exclusions.csv",
        "health/exclusions.csv",
    ]
