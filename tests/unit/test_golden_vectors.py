"""Golden vectors: a fixed key and fixed inputs give these pseudonyms and ids, forever.

Partners pseudonymise on their own machines and the hub joins a child's records up
across health, education and social care only by these values; event ids make a
re-published row a duplicate rather than a second plan, and extract ids tie a manifest
to its file. So changing how any of them is computed (the HMAC's domain prefix, the
separator, the UUID's bytes or version, the normalisation of an NHS number or UPN)
silently breaks linkage and idempotency with every event already sent. If one of these
tests fails, the change is a migration to plan with every partner, not a test to update.

The expected values were computed once with plain `hmac` from the recipe in
docs/extracts/ehc-plans-issued.md ("Pseudonymisation") and written here literally. The
key is a test key; the NHS number is in the 999 test range with a valid mod-11 check
digit; the UPN is synthetic (LA 855, establishment 0000).
"""

from __future__ import annotations

import datetime as dt

from producers.ehc_plans import PublishContext, plan_record
from producers.extract_reader import ExtractRow
from producers.identity import Pseudonymiser, valid_nhs_number, valid_upn
from producers.revisions import content_digest

TEST_KEY = b"TEST KEY for golden vectors only, never used for real data"
NHS_NUMBER = "9990000018"
UPN = "Y855000014001"
PLAN_REFERENCE = "TEST-PLAN-0001"
CONTRACT, SOURCE = "leics-send-sharing-2026", "education"
EXTRACT = (
    b"plan_reference,nhs_number,upn,request_date,issue_date\n"
    b"TEST-PLAN-0001,999 000 0018,y855 0000 14001,2025-01-06,2025-05-01\n"
)

# HMAC-SHA256(TEST_KEY, "nhs:9990000018"), hex
NHS_PSEUDONYM = "3d9924404070fd458e9baaeb3e74239cea9d23e868b4ab30099adab31d05265c"
# HMAC-SHA256(TEST_KEY, "upn:Y855000014001"), hex
UPN_PSEUDONYM = "ba59b6bcb84d40257e2fe8c7666f2354580e2403773986e6266430a1d990db30"
# HMAC-SHA256(TEST_KEY, "event:leics-send-sharing-2026|education|EhcPlanIssued|TEST-PLAN-0001"),
# first 16 bytes as a version-5 UUID, hex: the plan's record id (its event id before records
# had revisions, so a plan sent then is the same record now)
EVENT_ID = "ff9cb09fbc445c25a3ef1043aabfca56"
# The row's content as canonical JSON (top-level empty fields left out, keys sorted):
# {"issue_date":"2025-05-01","occurred_at":"2025-05-01T00:00:00+00:00",
#  "permitted_exception":false,"request_date":"2025-01-06","subject":{"key_id":"key-test",
#  "nhs_pseudonym":NHS_PSEUDONYM,"upn_pseudonym":UPN_PSEUDONYM}}, whose SHA-256 is
CONTENT_DIGEST = "eb7b1a3b1c46ac195bf991178e05c0bf01579db67fc349ce19686d01db70834c"
# HMAC-SHA256(TEST_KEY, "event:...|TEST-PLAN-0001|revision:" + CONTENT_DIGEST), as above:
# this revision's event id (docs/extracts/ehc-plans-issued.md, "Corrections")
REVISION_EVENT_ID = "e1cd849fee8451999af04f55320c8b79"
# HMAC-SHA256(TEST_KEY, b"extract:" + EXTRACT), first 16 bytes as a version-5 UUID, hex
EXTRACT_ID = "79daef4b3d2d522d8d5988bc5c9952f8"

PSEUDONYMISER = Pseudonymiser(TEST_KEY, "key-test")


def test_nhs_pseudonym() -> None:
    assert PSEUDONYMISER.nhs_pseudonym(NHS_NUMBER) == NHS_PSEUDONYM


def test_upn_pseudonym() -> None:
    assert PSEUDONYMISER.upn_pseudonym(UPN) == UPN_PSEUDONYM


def test_event_id() -> None:
    event_id = PSEUDONYMISER.event_id(CONTRACT, SOURCE, "EhcPlanIssued", PLAN_REFERENCE)
    assert event_id.hex == EVENT_ID
    assert event_id.version == 5


def test_extract_id() -> None:
    extract_id = PSEUDONYMISER.extract_id(EXTRACT)
    assert extract_id.hex == EXTRACT_ID
    assert extract_id.version == 5


def test_identifiers_written_with_spaces_or_in_lower_case_give_the_same_pseudonyms() -> None:
    assert PSEUDONYMISER.nhs_pseudonym(valid_nhs_number("999 000 0018")) == NHS_PSEUDONYM
    assert PSEUDONYMISER.nhs_pseudonym(valid_nhs_number("999-000-0018")) == NHS_PSEUDONYM
    assert PSEUDONYMISER.upn_pseudonym(valid_upn("y855 0000 14001")) == UPN_PSEUDONYM


def test_a_plan_row_is_published_under_the_golden_ids_and_pseudonyms() -> None:
    """The producer's own path: the event id's parts, in their order, and the normalised
    identifiers, as `hub produce` computes them from a row of the extract above."""
    context = PublishContext(
        source_system=SOURCE,
        contract_id=CONTRACT,
        area_code="E10000018",
        extract_id=PSEUDONYMISER.extract_id(EXTRACT),
        recorded_at=dt.datetime(2025, 5, 2, tzinfo=dt.UTC),
        today=dt.date(2025, 5, 2),
    )
    row = ExtractRow(
        line=2,
        values={
            "plan_reference": PLAN_REFERENCE,
            "nhs_number": "999 000 0018",
            "upn": "y855 0000 14001",
            "request_date": "2025-01-06",
            "issue_date": "2025-05-01",
        },
    )
    record = plan_record(row, context, PSEUDONYMISER)
    assert record["record_id"].replace("-", "") == EVENT_ID
    assert content_digest(record) == CONTENT_DIGEST
    assert record["event_id"].replace("-", "") == REVISION_EVENT_ID
    assert record["extract_id"].replace("-", "") == EXTRACT_ID
    assert record["subject"]["nhs_pseudonym"] == NHS_PSEUDONYM
    assert record["subject"]["upn_pseudonym"] == UPN_PSEUDONYM
