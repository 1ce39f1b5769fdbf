"""A register state as the warehouse stores it: a JSON object of its fields, and back.

The worker and replay both write states through `state_jsonb`, so a replay compared
with the live tables cannot see a change in this format; this pins it down.
"""

import orjson

from streams.cohort import PersonState, _evolve
from warehouse.cohort_store import state_from_json, state_jsonb


def test_a_state_is_stored_as_its_fields_and_read_back_equal() -> None:
    state = _evolve(
        PersonState(),
        send_status="EHC_PLAN",
        primary_need="ASD",
        month_of_birth="2015-04",
        sex="F",
        in_area=False,
        plan_open=True,
        open_cases=(("CHILD_IN_NEED", "2025-01-02"), ("EARLY_HELP", "2024-11-30")),
        neet=True,
        open_therapy_waits=(("SALT", "2025-02-03"),),
    )
    stored = state_jsonb(state)
    written = orjson.loads(stored.dumps(stored.obj))
    assert written == {
        "send_status": "EHC_PLAN",
        "primary_need": "ASD",
        "month_of_birth": "2015-04",
        "sex": "F",
        "ethnicity_group": None,
        "lsoa_code": None,
        "setting_type": None,
        "in_area": False,
        "plan_open": True,
        "census_status": None,
        "open_cases": [["CHILD_IN_NEED", "2025-01-02"], ["EARLY_HELP", "2024-11-30"]],
        "elective_home_education": False,
        "missing_education": False,
        "neet": True,
        "send_flag_on_health_record": False,
        "open_therapy_waits": [["SALT", "2025-02-03"]],
        "open_nd_assessments": [],
    }
    assert state_from_json(written) == state
