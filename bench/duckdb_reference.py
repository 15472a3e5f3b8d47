"""The floor: the seven contract report tables by hand-written DuckDB SQL, straight from the CSVs.

A reference for the benchmark (how fast can a single machine compute these
numbers at all?) and a cross-check of ``opr tables`` (tests/test_duckdb_reference.py
asserts that every number agrees). It reads a *clean* extract as ``opr synth``
writes it in either dialect (``iso``: comma CSV, ISO dates, naive datetimes, ``true``/``false``;
``norsk``: semicolons, BOM, ``31.12.2023 14:05:09``, ``ja``/``nei``, CRLF): it does no
validation, quarantine or identity-number check, which is exactly the work
``opr tables`` does on top. Code lists are the data contract's, written out here
on purpose rather than read from the codebook.

Usage::

    python bench/duckdb_reference.py EXTRACT_DIR --out DIR [--as-of YYYY-MM-DD]

Examples
--------
>>> con = connect("data/synthetic", "2025-12-31")              # doctest: +SKIP
>>> con.sql(SQL["referrals_assessed"]).df()                      # doctest: +SKIP
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import duckdb

# Dates and datetimes in either of the contract's spellings that ``opr synth --dialect`` writes
# (ISO, or Norwegian 31.12.2023 / 31.12.2023 14:05:09); DuckDB detects ``,``/``;``, the BOM and CRLF.
MACROS = [
    "CREATE MACRO d(x) AS CASE WHEN x LIKE '__.__.____' THEN strptime(x, '%d.%m.%Y')::DATE ELSE CAST(x AS DATE) END",
    "CREATE MACRO ts(x) AS CASE WHEN x LIKE '__.__.____ %' THEN strptime(x, '%d.%m.%Y %H:%M:%S') "
    "ELSE CAST(x AS TIMESTAMP) END",
]

# Each table's columns as read (everything as text, then cast explicitly).
VIEWS = {
    "patients": """
        SELECT patient_id, CAST(birth_year AS INTEGER) AS birth_year,
               lower(trim(interpreter_needed)) IN ('true', '1', 'ja') AS interpreter_needed,
               lower(trim(cognitive_impairment)) IN ('true', '1', 'ja') AS cognitive_impairment,
               lower(trim(research_participant)) IN ('true', '1', 'ja') AS research_participant,
               d(reserved_date) AS reserved_date
        FROM read_csv('{dir}/patients.csv', header = true, all_varchar = true)""",
    "referrals": """
        SELECT referral_id, d(assessed_date) AS assessed_date, decision, region
        FROM read_csv('{dir}/referrals.csv', header = true, all_varchar = true)""",
    "enrolments": """
        SELECT enrolment_id, patient_id, d(granted_date) AS granted_date,
               d(closed_date) AS closed_date
        FROM read_csv('{dir}/enrolments.csv', header = true, all_varchar = true)""",
    "baseline_responses": """
        SELECT ts(submitted_at) AS submitted_at, CAST(duration_ms AS BIGINT) AS duration_ms
        FROM read_csv('{dir}/baseline_responses.csv', header = true, all_varchar = true)""",
    "short_forms": """
        SELECT d(date) AS date, reason
        FROM read_csv('{dir}/short_forms.csv', header = true, all_varchar = true)""",
    "treatments": """
        SELECT treatment_id, patient_id, kind, d(date) AS date
        FROM read_csv('{dir}/treatments.csv', header = true, all_varchar = true)""",
    "followups": """
        SELECT followup_id, kind, anchor_id, d(sent_date) AS sent_date,
               ts(responded_at) AS responded_at
        FROM read_csv('{dir}/followups.csv', header = true, all_varchar = true)""",
    "legacy_v1": """
        SELECT CAST(year AS INTEGER) AS year, CAST(baseline_responses AS BIGINT) AS baseline_responses,
               CAST(new_patients AS BIGINT) AS new_patients
        FROM read_csv('{dir}/legacy_v1.csv', header = true, all_varchar = true)""",
}

SQL = {
    "referrals_assessed": """
        WITH a AS (SELECT year(assessed_date) AS year, decision FROM referrals
                   WHERE decision IN ('rett', 'avvist', 'videresendt')),
             yrs AS (SELECT unnest(generate_series(min(year), max(year))) AS year FROM a)
        SELECT y.year, count(a.year) AS assessed, count(a.year) FILTER (WHERE a.decision = 'avvist') AS rejected,
               CASE WHEN count(a.year) > 0
                    THEN (count(a.year) FILTER (WHERE a.decision = 'avvist'))::DOUBLE / count(a.year) END
                 AS rejected_share
        FROM yrs y LEFT JOIN a USING (year) GROUP BY y.year ORDER BY y.year""",
    "referrals_by_region": """
        WITH a AS (SELECT year(assessed_date) AS year, decision,
                          CASE WHEN region IN ('lokal', 'regional', 'nasjonal') THEN region ELSE 'annet_blank' END
                            AS region
                   FROM referrals WHERE decision IN ('rett', 'avvist')),
             yrs AS (SELECT unnest(generate_series(min(year), max(year))) AS year FROM a),
             decisions AS (SELECT * FROM (VALUES ('rett', 1), ('avvist', 2)) t(decision, d_ord)),
             regions AS (SELECT * FROM (VALUES ('lokal', 1), ('regional', 2), ('nasjonal', 3), ('annet_blank', 4))
                         t(region, r_ord)),
             counts AS (SELECT year, decision, region, count(*) AS n FROM a GROUP BY ALL),
             g AS (SELECT yrs.year, d.decision, d_ord, r.region, r_ord, coalesce(c.n, 0) AS n
                   FROM yrs CROSS JOIN decisions d CROSS JOIN regions r
                   LEFT JOIN counts c ON c.year = yrs.year AND c.decision = d.decision AND c.region = r.region),
             w AS (SELECT *, sum(CASE WHEN region <> 'annet_blank' THEN n ELSE 0 END)
                               OVER (PARTITION BY year, decision) AS denominator FROM g)
        SELECT year, decision, region, n,
               CASE WHEN region <> 'annet_blank' AND denominator > 0 THEN n::DOUBLE / denominator END AS share
        FROM w ORDER BY year, d_ord, r_ord""",
    "baseline_response": """
        WITH e AS (SELECT year(granted_date) AS year, count(*) AS enrolments FROM enrolments GROUP BY 1),
             r AS (SELECT year(submitted_at) AS year, count(*) AS baseline_responses FROM baseline_responses GROUP BY 1),
             yrs AS (SELECT unnest(generate_series(min(year), max(year))) AS year
                     FROM (SELECT year FROM e UNION ALL SELECT year FROM r))
        SELECT y.year, coalesce(e.enrolments, 0) AS enrolments, coalesce(r.baseline_responses, 0) AS baseline_responses,
               CASE WHEN e.enrolments > 0 THEN coalesce(r.baseline_responses, 0)::DOUBLE / e.enrolments END
                 AS response_share
        FROM yrs y LEFT JOIN e USING (year) LEFT JOIN r USING (year) ORDER BY y.year""",
    "legacy_baseline_response": """
        WITH yrs AS (SELECT unnest(generate_series(min(year), max(year))) AS year FROM legacy_v1)
        SELECT y.year, l.baseline_responses, l.new_patients,
               CASE WHEN l.new_patients > 0 THEN l.baseline_responses::DOUBLE / l.new_patients END AS response_share
        FROM yrs y LEFT JOIN legacy_v1 l USING (year) ORDER BY y.year""",
    "completion_time": """
        WITH r AS (SELECT year(submitted_at) AS year, duration_ms::DOUBLE AS ms FROM baseline_responses),
             yrs AS (SELECT unnest(generate_series(min(year), max(year))) AS year FROM r),
             per AS (SELECT year, count(ms) AS n, min(ms) AS min_ms, quantile_cont(ms, 0.25) AS q1_ms,
                            quantile_cont(ms, 0.5) AS median_ms, quantile_cont(ms, 0.75) AS q3_ms, max(ms) AS max_ms
                     FROM r GROUP BY year)
        SELECT period, n, min_ms, q1_ms, median_ms, q3_ms, max_ms FROM (
            SELECT CAST(y.year AS VARCHAR) AS period, coalesce(per.n, 0) AS n, min_ms, q1_ms, median_ms, q3_ms,
                   max_ms, 0 AS ord, y.year
            FROM yrs y LEFT JOIN per USING (year)
            UNION ALL
            SELECT 'alle', count(ms), min(ms), quantile_cont(ms, 0.25), quantile_cont(ms, 0.5),
                   quantile_cont(ms, 0.75), max(ms), 1, NULL FROM r)
        ORDER BY ord, year""",
    "short_form_reasons": """
        WITH s AS (SELECT year(date) AS year, coalesce(reason, 'annet') AS reason FROM short_forms),
             yrs AS (SELECT unnest(generate_series(min(year), max(year))) AS year FROM s),
             codes AS (SELECT * FROM (VALUES ('ingen_enhet', 1), ('teknisk_innlogging', 2),
                                             ('teknisk_eget_utstyr', 3), ('misforstatt', 4), ('onsket_ikke', 5),
                                             ('kunne_ikke_svare_selv', 6), ('mangler_id', 7), ('glemt', 8),
                                             ('annet', 9)) t(reason, ord)),
             counts AS (SELECT year, reason, count(*) AS n FROM s GROUP BY ALL)
        SELECT yrs.year, c.reason, coalesce(counts.n, 0) AS n
        FROM yrs CROSS JOIN codes c LEFT JOIN counts ON counts.year = yrs.year AND counts.reason = c.reason
        ORDER BY yrs.year, c.ord""",
    # The follow-up rule: candidates (RF/SCS + 3/6/12 months, closed + 12 months; DuckDB's
    # date + INTERVAL clips to the month's last day as pandas' DateOffset does), exclusions,
    # as-of, and the earliest sent row per owed candidate as sent_owed.
    "followup_response": """
        WITH cand AS (
            SELECT t.treatment_id AS anchor_id, t.patient_id, t.kind || '_' || m.suffix AS kind,
                   t.date AS anchor_date, CAST(t.date + to_months(m.months) AS DATE) AS due_date,
                   DATE '2021-06-01' AS start
            FROM treatments t CROSS JOIN (VALUES ('3m', 3), ('6m', 6), ('12m', 12)) m(suffix, months)
            WHERE t.kind IN ('rf', 'scs')
            UNION ALL
            SELECT enrolment_id, patient_id, 'avsluttet_12m', closed_date,
                   CAST(closed_date + INTERVAL 12 MONTH AS DATE), DATE '2021-12-01'
            FROM enrolments WHERE closed_date IS NOT NULL),
        judged AS (
            SELECT c.anchor_id, c.kind, year(c.due_date) AS year,
                   NOT (c.anchor_date < c.start
                        OR coalesce(year(c.due_date) - p.birth_year < 18, false)
                        OR coalesce(p.cognitive_impairment, false)
                        OR coalesce(p.interpreter_needed, false)
                        OR coalesce(p.research_participant, false)
                        OR coalesce(p.reserved_date <= c.due_date, false)
                        OR c.due_date > $as_of) AS owed
            FROM cand c LEFT JOIN patients p USING (patient_id)),
        -- censored at the as-of day: later sends do not exist yet, later answers are no answer
        sent AS (
            SELECT anchor_id, kind, followup_id,
                   responded_at IS NOT NULL AND CAST(responded_at AS DATE) <= $as_of AS answered,
                   row_number() OVER (PARTITION BY anchor_id, kind ORDER BY sent_date, followup_id) = 1 AS first
            FROM followups WHERE sent_date <= $as_of),
        per_candidate AS (
            SELECT j.year, j.kind, j.owed, count(f.followup_id) AS n_sent,
                   count(f.followup_id) FILTER (WHERE f.answered) AS n_responded,
                   count(f.followup_id) FILTER (WHERE f.answered AND f.first AND j.owed) AS n_responded_owed
            FROM judged j LEFT JOIN sent f USING (anchor_id, kind)
            GROUP BY j.anchor_id, j.kind, j.year, j.owed),
        yrs AS (SELECT unnest(generate_series(min(year), max(year))) AS year FROM per_candidate
                WHERE owed OR n_sent > 0),
        kinds AS (SELECT * FROM (VALUES ('rf_3m', 1), ('rf_6m', 2), ('rf_12m', 3), ('scs_3m', 4), ('scs_6m', 5),
                                        ('scs_12m', 6), ('avsluttet_12m', 7)) t(kind, ord)),
        counts AS (
            SELECT year, kind, count(*) FILTER (WHERE owed) AS owed,
                   count(*) FILTER (WHERE owed AND n_sent > 0) AS sent_owed,
                   CAST(sum(n_sent) - count(*) FILTER (WHERE owed AND n_sent > 0) AS BIGINT) AS sent_not_owed,
                   CAST(sum(n_responded) AS BIGINT) AS responded,
                   CAST(sum(n_responded_owed) AS BIGINT) AS responded_owed
            FROM per_candidate GROUP BY year, kind),
        g AS (SELECT yrs.year, k.kind, k.ord, coalesce(c.owed, 0) AS owed, coalesce(c.sent_owed, 0) AS sent_owed,
                     coalesce(c.sent_not_owed, 0) AS sent_not_owed, coalesce(c.responded, 0) AS responded,
                     coalesce(c.responded_owed, 0) AS responded_owed
              FROM yrs CROSS JOIN kinds k LEFT JOIN counts c ON c.year = yrs.year AND c.kind = k.kind)
        SELECT year, kind, owed, sent_owed + sent_not_owed AS sent, sent_owed, owed - sent_owed AS not_sent,
               sent_not_owed, responded,
               CASE WHEN sent_owed + sent_not_owed > 0 THEN responded::DOUBLE / (sent_owed + sent_not_owed) END
                 AS response_share,
               responded_owed,
               CASE WHEN sent_owed > 0 THEN responded_owed::DOUBLE / sent_owed END AS response_share_owed
        FROM g ORDER BY year, ord""",
}


def connect(extract_dir, as_of) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with one view per extract table and ``$as_of`` set."""
    con = duckdb.connect()
    for sql in MACROS:
        con.execute(sql)
    folder = Path(extract_dir).resolve().as_posix().replace("'", "''")
    for name, sql in VIEWS.items():
        con.execute(f"CREATE VIEW {name} AS " + sql.format(dir=folder))
    con.execute(f"SET VARIABLE as_of = DATE '{dt.date.fromisoformat(str(as_of)[:10])}'")
    return con


def _sql(name: str) -> str:
    return SQL[name].replace("$as_of", "getvariable('as_of')")


def reference_tables(extract_dir, as_of) -> dict:
    """The seven tables as pandas DataFrames (for tests), keyed as ``opr tables`` names them."""
    con = connect(extract_dir, as_of)
    return {name: con.sql(_sql(name)).df() for name in SQL}


def write_reference_tables(extract_dir, out_dir, as_of) -> list[Path]:
    """Write the seven tables as CSV into ``out_dir`` with DuckDB's own writer."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    con = connect(extract_dir, as_of)
    paths = []
    for name in SQL:
        path = out / f"{name}.csv"
        con.execute(f"COPY ({_sql(name)}) TO '{path.as_posix()}' (HEADER, DELIMITER ',')")
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="The seven report tables by hand-written DuckDB SQL.")
    ap.add_argument("extract", type=Path)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--as-of", default=dt.date.today().isoformat(), help="YYYY-MM-DD (default today)")
    args = ap.parse_args(argv)
    written = write_reference_tables(args.extract, args.out, args.as_of)
    print(f"Wrote {len(written)} tables to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
