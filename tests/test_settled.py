"""One rule decides which follow-ups are settled at the as-of date (issue 24): the follow-up table, the
quality indicators, the experiment and the notebooks' statistics agree on the same extract."""

import numpy as np
import pandas as pd
import pytest
from helpers import make_extract

from opr_analysis.experiment import analyse, parse_spec
from opr_analysis.indicators.statistics import followup_answered
from opr_analysis.stats.followup import AWAITING_DAYS, followup_audit, followup_response, settled_at
from opr_analysis.stats.models import nonresponse_data

AS_OF = "2025-06-30"  # settled: sent (or, never sent, due) on or before 2025-05-31

#: patient: (RF date → rf_3m due date, sent date, answered date)
CASES = {
    "P1": ("2025-02-15", "2025-05-15", "2025-05-20"),  # sent 46 days before as-of, answered: settled, answered
    "P2": ("2025-02-15", "2025-05-15", None),  # sent 46 days before, unanswered: settled, not answered
    "P3": ("2025-03-10", "2025-06-10", "2025-06-12"),  # sent 20 days before, answered: window still open
    "P4": ("2025-03-10", "2025-06-10", None),  # sent 20 days before, unanswered: window still open
    "P5": ("2025-02-15", None, None),  # due 2025-05-15, never sent: settled, not answered
    "P6": ("2025-03-10", None, None),  # due 2025-06-10, never sent: not settled yet
}


@pytest.fixture(scope="module")
def reg(tmp_path_factory):
    treatments, followups, alloc = [], [], []
    for i, (pid, (date, sent, answered)) in enumerate(CASES.items()):
        treatments.append(dict(treatment_id=f"T{pid}", patient_id=pid, kind="rf", date=date))
        if sent:
            followups.append(dict(patient_id=pid, kind="rf_3m", anchor_id=f"T{pid}", sent_date=sent,
                                  responded_at=f"{answered}T10:00:00" if answered else ""))  # fmt: skip
        alloc.append(dict(experiment_id="e-settled", patient_id=pid, arm="kort" if i % 2 else "full",
                          allocated_date="2025-04-01", stratum="rf|18-64"))  # fmt: skip
    patients = [dict(patient_id=p, birth_year=1970) for p in CASES]
    return make_extract(
        tmp_path_factory.mktemp("settled"),
        patients=patients,
        treatments=treatments,
        followups=followups,
        allocations=alloc,
    )


def test_the_rule_itself():
    due = pd.to_datetime(["2025-05-15", "2025-05-15", "2025-06-10", "2025-05-31", "2025-06-01"])
    sent = pd.to_datetime(["2025-05-15", "2025-06-01", None, None, None])
    assert settled_at(due, sent, AS_OF).tolist() == [True, False, False, True, False]
    assert AWAITING_DAYS == 30
    # its own window for the experiment: 10 days
    assert settled_at(due, sent, AS_OF, window_days=10).tolist() == [True, True, True, True, True]


def test_table_indicator_experiment_and_notebook_statistics_count_the_same_follow_ups(reg):
    t = followup_response(reg, AS_OF).set_index(["year", "kind"]).loc[(2025, "rf_3m")]
    # table: owed 6, sent 4; window open for P3 and P4 (answered or not), so 2 sent are settled, 1 answered
    assert t[["owed", "sent_owed", "awaiting", "settled", "responded_settled"]].tolist() == [6, 4, 2, 2, 1]
    assert t["response_share_settled"] == 0.5  # P1 of P1, P2 (the rule before issue 24 kept P3: 2/3)
    assert t[["owed_settled", "owed_answered_share"]].tolist() == [3, pytest.approx(1 / 3)]  # P1, P2, P5
    # the audit marks the same three follow-ups
    audit = followup_audit(reg, AS_OF)
    assert sorted(audit.loc[audit["settled"], "patient_id"].astype(str)) == ["P1", "P2", "P5"]
    # indicator: the owed follow-ups settled, sent or not
    rows = followup_answered(reg, AS_OF, kind="rf_3m")
    assert rows[["numerator", "denominator"]].sum().tolist() == [t["responded_settled"], t["owed_settled"]]
    # the non-response model (notebooks/nonresponse.ipynb): the settled sends
    assert sorted(nonresponse_data(reg, as_of=AS_OF)["patient_id"].astype(str)) == ["P1", "P2"]
    assert int(nonresponse_data(reg, as_of=AS_OF)["responded"].sum()) == t["responded_settled"]
    # experiment, with its window equal to the table's: the patients whose outcome is known are the same
    spec = parse_spec(
        {"id": "e-settled", "question": "Q?", "window": {"first_due": "2025-05-01", "last_due": "2025-06-30"},
         "kinds": ["rf_3m"], "minimal_difference": 0.1, "baseline_share": 0.3,
         "primary_outcome": {"answered_within_days": AWAITING_DAYS}}
    )  # fmt: skip
    res = analyse(reg, spec, AS_OF)
    units = res.units.set_index("patient_id")
    assert sorted(units.index[units["status"] == "analysed"]) == ["P1", "P2", "P5"]
    assert int(res.itt["n"].sum()) == t["owed_settled"]
    assert int(res.itt["events"].sum()) == t["responded_settled"]  # P1 answered within 5 days


def test_the_same_rule_tomorrow_settles_more(reg):
    # on 2025-07-10 P3 and P4 (sent 2025-06-10) and P6 (due 2025-06-10) are settled too
    t = followup_response(reg, "2025-07-10").set_index(["year", "kind"]).loc[(2025, "rf_3m")]
    assert t[["settled", "responded_settled", "owed_settled"]].tolist() == [4, 2, 6]
    assert np.isclose(t["owed_answered_share"], 2 / 6)
