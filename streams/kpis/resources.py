"""The resources and commissioning perspective: where the money and the places go.

Out-of-area placements, personal health budgets, and EHC plans held and new.
"""

from __future__ import annotations

from streams.kpi import POPULATION_0_25, Polarity, Unit, cohort, declare, measured

OUT_OF_AREA_SHARE = declare(
    id="out_of_area_share",
    name="Children and young people with SEND placed out of area",
    perspective="resources and commissioning",
    definition="Children and young people aged 0-25 with an EHC plan or SEN support whose "
    "current placement is outside the area, divided by all with SEND, as at the last "
    "month end of the period.",
    numerator="with SEND placed out of area at the month end",
    denominator="with SEND at the month end",
    period="as at each month end",
    target_percent=8.5,
    polarity=Polarity.LOWER_IS_BETTER,
    green_from=8.5,
    amber_from=10.6,
    owner="Joint commissioning (council and ICB)",
    source="PlacementStarted and PlacementEnded events in the cohort register",
    seeds="002",
    numerator_from=cohort("placement_area", "OUT_OF_AREA"),
    denominator_from=cohort(),
)

OUT_OF_AREA_PLACEMENTS = declare(
    id="out_of_area_placements",
    name="Out-of-area placements of children and young people with SEND",
    perspective="resources and commissioning",
    definition="Children and young people aged 0-25 with SEND placed outside the area as at "
    "the last month end of the period; RAG on the change over 12 months (target -5 % a "
    "year, rising to -15 %).",
    numerator="with SEND placed out of area at the month end",
    denominator="(a count: no denominator)",
    period="as at each month end",
    target_percent=-5.0,
    polarity=Polarity.LOWER_IS_BETTER,
    green_from=-5.0,
    amber_from=0.0,
    owner="Joint commissioning (council and ICB)",
    source="PlacementStarted and PlacementEnded events in the cohort register",
    seeds="001",
    unit=Unit.COUNT,
    numerator_from=cohort("placement_area", "OUT_OF_AREA"),
    denominator_from=cohort(),
)

PHB_UPTAKE = declare(
    id="phb_uptake",
    name="Personal health budgets agreed, share of the population aged 0-25",
    perspective="resources and commissioning",
    definition="Personal health budgets agreed in the 12 months to the period's end, "
    "divided by the reference "
    "population aged 0-25 for the year (target 0.1 %).",
    numerator="personal health budgets agreed in the 12 months",
    denominator="population aged 0-25 (reference mid-year estimate)",
    period="month the budget was agreed",
    target_percent=0.1,
    polarity=Polarity.HIGHER_IS_BETTER,
    green_from=0.1,
    amber_from=0.05,
    owner="Integrated care board",
    source="PersonalHealthBudgetAgreed events and the reference population",
    seeds="001",
    denominator_from=POPULATION_0_25,
)

EHCP_TOTAL = declare(
    id="ehcp_growth",
    name="Children and young people with an EHC plan",
    perspective="resources and commissioning",
    definition="Children and young people aged 0-25 with an EHC plan as at the last month "
    "end of the period, and its change over 12 months "
    "(monitored, not targeted: RAG green while growth stays within 12.5 %).",
    numerator="with an EHC plan at the month end",
    denominator="(a count: no denominator)",
    period="as at each month end",
    target_percent=12.5,
    polarity=Polarity.LOWER_IS_BETTER,
    green_from=12.5,
    amber_from=20.0,
    owner="Council SEN team",
    source="EhcPlanIssued and EhcPlanCeased events in the cohort register",
    seeds="003",
    unit=Unit.COUNT,
    numerator_from=cohort(statuses=("EHC_PLAN",)),
    denominator_from=cohort(statuses=("EHC_PLAN",)),
)

EHCP_NEW_SHARE = declare(
    id="ehcp_new_share",
    name="New EHC plans as a share of all plans",
    perspective="resources and commissioning",
    definition="EHC plans issued in the 12 months to the period's end, divided by children "
    "and young people with a "
    "plan as at the period's last month end (monitored: 003 had 16 %).",
    numerator="plans issued in the 12 months",
    denominator="with an EHC plan at the last month end",
    period="month the plan was issued",
    target_percent=13.8,
    polarity=Polarity.LOWER_IS_BETTER,
    green_from=16.0,
    amber_from=20.0,
    owner="Council SEN team",
    source="EhcPlanIssued events and the cohort register",
    seeds="003",
    numerator_from=measured("ehcp_20_weeks_incl_exceptions", "denominator"),
    denominator_from=cohort(statuses=("EHC_PLAN",)),
)
