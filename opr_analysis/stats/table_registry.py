"""The table registry: every published table, declared once.

A published table is one :class:`Table` entry. It holds

- **the statistic**: its name (the CSV file stem and the key in the report
  notebook's ``tables``), the function that computes it, the contract's leading
  columns for the seven tables of the data contract, and the table of the 2023
  report it reproduces;
- **its columns** (:class:`Column`): the Norwegian heading and unit of every
  column the function returns (interval limits ``X_ci_low``/``X_ci_high`` are
  named after ``X``), the labels of coded values, and which columns are for the
  CSV only;
- **its suppression class**: :class:`PatientCounts` (counts about patients,
  hidden below ``min_cell`` so that no hidden count can be recovered: which
  columns are counts, which sums tie them together, which margins are published,
  by this table or by another, and which columns another table shows exactly),
  :class:`Administrative` (counts of referrals, forms or records, shown exactly,
  with the reason) or :class:`StaffList` (rows about single patients: written by
  ``opr tables`` for the office staff, never published);
- **its sheet** in the report's Excel workbook (readable Norwegian, at most 31
  characters);
- **its place in the report** (:class:`Report`: the Quarto label, the caption,
  the sentence quoting its numbers, and a builder when the default presentation
  does not fit), or the reason it is not a table of the report.

From :data:`TABLES` everything else is derived and cannot disagree:

- ``opr tables`` and :func:`opr_analysis.stats.export.write_tables` (which files, in which order);
- the report notebook's data (:func:`opr_analysis.stats.export.compute_tables`) and its table
  cells (:mod:`opr_analysis.report.publication`, written into the notebook by ``make docs``);
- the cells the report, the workbook and every per-unit output hide
  (:func:`opr_analysis.report.suppression.publish`), and the linear-programming audit of them;
- the Excel workbook (:mod:`opr_analysis.report.workbook`: sheets, headings, hidden cells);
- the public names of :mod:`opr_analysis.stats` and :mod:`opr_analysis` (:func:`public_names`);
- ``docs/tables.md`` (:func:`tables_markdown`, ``make docs``).

:func:`missing_declarations` names what an entry lacks; ``tests/test_publication.py``
fails on any published table that is not fully declared. The recipe for a new
table is in ``docs/architecture.md``.

The module imports nothing heavy, so ``import opr_analysis`` can list the public
names without loading pandas.

Examples
--------
>>> from opr_analysis.stats.table_registry import get
>>> get("referrals_assessed").seed
'tabell 10'
>>> get("referrals_assessed").contract[:2]
('year', 'assessed')
>>> get("referrals_assessed").heading("rejected_share_ci_low")
'Andel avvist, nedre grense 95 % KI'
>>> get("baseline_response_patient_level").suppression.counts
('enrolments_with_baseline',)
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

#: Units a column may have: counts and shares get the workbook's integer and percent formats; any
#: other unit is written after the heading («Median (ms)»).
COUNT, SHARE = "antall", "andel"
CI_SUFFIXES = (("_ci_low", "nedre grense 95 % KI"), ("_ci_high", "øvre grense 95 % KI"))
SHEET_MAX = 31  # Excel's limit on a sheet name


@dataclass(frozen=True)
class Column:
    """One column of a published table.

    ``labels`` turns the column's codes into words in every publication: a mapping
    ``code -> label``, ``"codebook:<table>.<column>"`` (the codebook's labels),
    ``"codebook:tables"`` (the extract's tables by their label) or ``"codebook:columns"``
    (a column name, labelled within the table named in the row's ``table`` column).
    ``internal`` columns are written by ``opr tables`` only (checks against the seed report),
    never shown in the report or the workbook; say why in ``note``.
    """

    name: str
    heading: str
    unit: str = ""
    labels: Mapping[str, str] | str | None = None
    internal: bool = False
    note: str = ""

    @property
    def title(self) -> str:
        """The heading as published: with its unit in brackets unless the unit is a count or a share."""
        return f"{self.heading} ({self.unit})" if self.unit and self.unit not in (COUNT, SHARE) else self.heading


@dataclass(frozen=True)
class Margin:
    """A sum of counts every reader knows, so the audit counts it as known.

    One sum per group of rows with equal ``by`` (``()``: all rows), per column in
    ``columns`` (default: every count of the table), over the rows matching ``where``
    (a :meth:`pandas.DataFrame.query` string; default every row). ``published_by``
    names the other published table that shows the sum (``None``: this table shows it,
    as a total line of its report table): its column ``published_column`` (default: the
    same name), summed over its rows matching ``published_where`` within each ``by`` group;
    ``tests/test_publication.py`` checks that the sums agree.
    """

    by: tuple[str, ...] = ()
    columns: tuple[str, ...] | None = None
    where: str | None = None
    published_by: str | None = None
    published_where: str | None = None
    published_column: str | None = None


@dataclass(frozen=True)
class PatientCounts:
    """Suppression class of a table about patients: counts 1 … ``min_cell − 1`` are hidden («×»), and so
    is every count a reader could otherwise narrow to a range under ``min_cell`` (:mod:`opr_analysis.report.suppression`).

    - ``counts``: the count columns about patients;
    - ``parts``: sums within a row, ``(total, (part, …))``; at most one part may be a name that is not a
      column: the rest (``total − the other parts``), never shown but protected when small;
    - ``margins``: sums over rows that are published (:class:`Margin`);
    - ``shares``: ``(share, numerator, denominator)``; a share and its interval limits are hidden («–»)
      with its numerator or denominator;
    - ``public``: ``(column, table)``: columns another published table shows exactly (a reader knows
      them; they are never hidden and cannot protect anything);
    - ``keys``: the columns that identify a row.
    """

    counts: tuple[str, ...]
    parts: tuple[tuple[str, tuple[str, ...]], ...] = ()
    margins: tuple[Margin, ...] = ()
    shares: tuple[tuple[str, str, str], ...] = ()
    public: tuple[tuple[str, str], ...] = ()
    keys: tuple[str, ...] = ("year",)

    def columns(self) -> list[str]:
        """Every column the suppression is about: totals, parts that are columns, counts."""
        names = [*(t for t, _ in self.parts), *(p for _, ps in self.parts for p in ps), *self.counts]
        return list(dict.fromkeys(names))


@dataclass(frozen=True)
class Administrative:
    """Suppression class of a table of administrative counts (referrals, forms, records): shown exactly,
    for the stated ``reason``."""

    reason: str


@dataclass(frozen=True)
class StaffList:
    """A list of rows about single patients, for the office staff: written by ``opr tables``, never shown
    in the report or the workbook (``reason``: what the staff use it for)."""

    reason: str


@dataclass(frozen=True)
class Pivot:
    """The default report table as a cross table of the report year: ``rows`` down, ``columns`` across,
    ``value`` in the cells, and a total line and column («Alle») where the table declares that margin."""

    rows: str
    columns: str
    value: str = "n"


@dataclass(frozen=True)
class Report:
    """A table's place in the annual report.

    ``label`` and ``caption`` are Quarto's ``#| label:`` and ``#| tbl-cap:`` (``make docs`` writes them
    into the notebook's cell for the table). ``builder`` is ``"module.function"`` in
    :mod:`opr_analysis.report` (or a function) returning a great-tables ``GT``, with its ``*_cells`` twin
    beside it (same name, ending in ``_cells``);
    ``None`` gives the default (:func:`opr_analysis.report.publication.declared_table`): the tidy rows with
    the declared headings, or a cross table (``pivot``). ``years`` is what the default shows: ``"window"``
    (the years side by side in the report), ``"report"`` (the report year) or ``"all"``. ``sentence`` is
    the text shown before the table that quotes its numbers: a template (``{row|column}`` is the displayed
    cell in that row and column, ``{year}`` the report year), or ``"module.function"`` in
    :mod:`opr_analysis.report` (or a function) when a template is not enough; a function gets the table's
    displayed cells (``cells``) and, for administrative tables only, may ask for the tidy ``frame``. ``source`` is the default table's source note. ``after`` is the label
    of the notebook cell the table's cells are placed after when ``make docs`` adds them.
    """

    label: str
    caption: str
    builder: str | Callable | None = None
    sentence: str | Callable | None = None
    years: str = "window"
    pivot: Pivot | None = None
    source: str = "Kilde: OUS smerteregister."
    after: str | None = None


Suppression = PatientCounts | Administrative | StaffList


@dataclass(frozen=True)
class Table:
    """One published table (module docstring).

    ``function`` is ``"module.name"`` inside :mod:`opr_analysis.stats` (so the
    registry stays importable without pandas) or a callable. It is called as
    ``function(reg)``, with ``as_of=`` when ``as_of`` is true, or, when
    ``source`` names another table, as ``function(tables[source])``.
    ``report`` is a :class:`Report`, or a sentence saying why the table is not one of the report's.
    """

    name: str
    function: str | Callable
    description: str
    contract: tuple[str, ...] | None = None
    seed: str | None = None
    as_of: bool = False
    source: str | None = None
    columns: tuple[Column, ...] = ()
    suppression: Suppression | None = None
    sheet: str | None = None
    report: Report | str | None = None

    @property
    def function_name(self) -> str:
        return self.function.rsplit(".", 1)[-1] if isinstance(self.function, str) else self.function.__name__

    def resolve(self) -> Callable:
        """The computing function, imported on first use."""
        if callable(self.function):
            return self.function
        module, name = self.function.rsplit(".", 1)
        return getattr(importlib.import_module(f"{__package__}.{module}"), name)

    def column(self, name: str) -> Column | None:
        """The declared column ``name``; an interval limit ``X_ci_low``/``X_ci_high`` is derived from ``X``."""
        declared = {c.name: c for c in self.columns}
        if name in declared:
            return declared[name]
        for suffix, text in CI_SUFFIXES:
            base = declared.get(name.removesuffix(suffix)) if name.endswith(suffix) else None
            if base is not None:
                return Column(name, f"{base.heading}, {text}", base.unit, internal=base.internal)
        return None

    def heading(self, name: str) -> str:
        """The Norwegian heading of column ``name`` (KeyError when it is not declared)."""
        col = self.column(name)
        if col is None:
            raise KeyError(f"{self.name}: column {name!r} is not declared")
        return col.title

    @property
    def patient_counts(self) -> bool:
        return isinstance(self.suppression, PatientCounts)

    @property
    def published(self) -> bool:
        """Shown in the report or the workbook (every class but a staff list)."""
        return not isinstance(self.suppression, StaffList)

    @property
    def in_report(self) -> bool:
        return isinstance(self.report, Report)


def count(name: str, heading: str, **kw) -> Column:
    """A column of counts."""
    return Column(name, heading, COUNT, **kw)


def share(name: str, heading: str, **kw) -> Column:
    """A column of shares (its interval limits, when present, are named after it)."""
    return Column(name, heading, SHARE, **kw)


YEAR = Column("year", "År")
QUALITY = Administrative(
    "datakvalitet: tallene teller poster (innskrivinger, skjemaer, felt) for å finne feil, ikke pasienters "
    "kjennetegn eller utfall"
)
QUALITY_SOURCE = "Kilde: OUS smerteregister, kontroll av datakvalitet."
#: Why the follow-up table's sums over every send are in the CSV only (the contract has them): they mix
#: owed and unowed sends, the report shows neither, and with them every small count of unowed sends would hide
#: a count of owed ones too (on the synthetic registry 177 instead of 95 of the report's 384 counts).
ANY_SEND = "alle utsendinger, skyldige og ikke; rapporten viser dem hver for seg"
FOLLOWUP_COLUMNS = (
    YEAR,
    count("owed", "Skyldige"),
    count("sent", "Sendt", internal=True, note=ANY_SEND),
    count("sent_owed", "Sendt av skyldige"),
    count("not_sent", "Ikke sendt"),
    count("sent_not_owed", "Sendt, ikke skyldige"),
    count("responded", "Besvart", internal=True, note=ANY_SEND),
    share("response_share", "Andel besvart av sendt", internal=True, note=ANY_SEND),
    count("responded_owed", "Besvart av sendt som skyldige"),
    share("response_share_owed", "Andel besvart av sendt som skyldige"),
    count("responded_not_owed", "Besvart, ikke skyldige"),
    count("awaiting", "Svarfrist ikke ute (sendt som skyldige, besvart eller ikke)"),
    count("settled", "Grunnlag for svarandel (sendt som skyldige, svarfrist ute)"),
    count("responded_settled", "Besvart av grunnlaget"),
    share("response_share_settled", "Svarandel blant sendte (besvart av grunnlaget)"),
    count("owed_settled", "Skyldige med svarfrist ute, sendt eller ikke"),
    share("owed_answered_share", "Andel besvart av skyldige med svarfrist ute (som indikatorene)"),
)
#: The follow-up audit counts patients who had a treatment (or ended one) and whether they answered: patient
#: counts (issue 22/23 decision), hidden below ``min_cell`` in the report, its sentence and figure, the
#: workbook and every unit's report. The sums a reader sees, keyed on column names (a new column of
#: ``stats.followup.response_columns`` gets its sums here): every count is split into shown parts, and
#: «unanswered» ones are the rests nobody sees. ``opr tables`` and ``opr followups`` stay exact (staff
#: working files, not publications).
FOLLOWUP_PARTS = (
    ("owed", ("sent_owed", "not_sent")),
    ("sent_owed", ("awaiting", "settled")),
    ("settled", ("responded_settled", "unanswered_settled")),
    ("responded_owed", ("responded_settled", "responded_awaiting")),
    ("sent_not_owed", ("responded_not_owed", "unanswered_not_owed")),
    ("owed_settled", ("settled", "not_sent_settled")),
)
FOLLOWUP_SHARES = (
    ("response_share_owed", "responded_owed", "sent_owed"),
    ("response_share_settled", "responded_settled", "settled"),
    ("owed_answered_share", "responded_settled", "owed_settled"),
)
FOLLOWUP_COUNTS = (
    "owed", "sent_owed", "not_sent", "sent_not_owed", "responded_owed", "responded_not_owed", "awaiting", "settled",
    "responded_settled", "owed_settled",
)  # fmt: skip
#: The kinds of ``rights_requests`` (the codebook's labels) and the total line of ``rights_requests``.
REQUEST_KINDS = {
    "innsyn": "Innsyn", "retting": "Retting", "sletting": "Sletting",
    "reservasjon": "Reservasjon mot flere spørreskjemaer", "alle": "Alle krav",
}  # fmt: skip


TABLES: list[Table] = [
    Table(
        "referrals_assessed", "referrals.referrals_assessed",
        "Henvisninger vurdert og avvist per år, med andel avvist",
        contract=("year", "assessed", "rejected", "rejected_share"), seed="tabell 10",
        columns=(YEAR, count("assessed", "Vurdert"), count("rejected", "Avvist"), share("rejected_share", "Andel avvist")),
        suppression=Administrative("henvisninger er administrative tall fra henvisningsloggen i DIPS"),
        sheet="Henvisninger vurdert",
        report=Report(
            "tbl-henvisninger", "Henvisninger vurdert ved Avdeling for smertebehandling",
            builder="gt_tables.referrals_assessed_table", sentence="prose.referrals_paragraph",
        ),
    ),
    Table(
        "referrals_by_region", "referrals.referrals_by_region",
        "Henvisninger med rett til helsehjelp og avviste per helseregion",
        contract=("year", "decision", "region", "n", "share"), seed="tabell 11",
        columns=(
            YEAR, Column("decision", "Vedtak", labels="codebook:referrals.decision"),
            Column("region", "Helseregion", labels={
                "lokal": "Lokal", "regional": "Regional", "nasjonal": "Nasjonal", "annet_blank": "Annet og blanke",
            }),
            count("n", "Antall"), share("share", "Andel av lokal, nasjonal og regional"),
            count("denominator", "Lokal, nasjonal og regional i alt"),
        ),
        suppression=Administrative("henvisninger er administrative tall fra henvisningsloggen i DIPS"),
        sheet="Henvisninger per region",
        report=Report(
            "tbl-region",
            "Henvisninger gitt behandlingsrett og avvist, fordelt på helseregion per år. Linjene for «annet» og "
            "blanke celler er utelatt fra andelene.",
            builder="gt_tables.referrals_by_region_table",
        ),
    ),
    Table(
        "referrals_by_sex_age", "referrals.referrals_by_sex_age",
        "Henvisninger gitt rett til helsehjelp etter kjønn og aldersgruppe",
        columns=(
            YEAR, Column("sex", "Kjønn", labels={"K": "Kvinner", "M": "Menn", "ukjent": "Ukjent"}),
            Column("age_group", "Aldersgruppe", unit="år", labels={"ukjent": "Ukjent"}), count("n", "Antall"),
        ),
        suppression=PatientCounts(
            counts=("n",), keys=("year", "sex", "age_group"),
            margins=(
                Margin(("year",), published_by="referrals_by_region", published_where="decision == 'rett'"),
                Margin(("year", "sex")),
                Margin(("year", "age_group")),
            ),
        ),
        sheet="Henvisninger kjønn og alder",
        report=Report(
            "tbl-kjonn-alder",
            "Henvisninger gitt rett til helsehjelp i rapportåret, etter kjønn og aldersgruppe",
            pivot=Pivot(rows="age_group", columns="sex"), years="report",
            sentence=(
                "I {year} ble {Alle|Alle} henvisninger gitt rett til helsehjelp, {Alle|Kvinner} for kvinner og "
                "{Alle|Menn} for menn (@tbl-kjonn-alder)."
            ),
            source=(
                "Kilde: OUS smerteregister, henvisningslogg fra DIPS og pasienttabellen. Alder ved vurderingen "
                "(vurderingsåret minus fødselsåret). «Ukjent»: pasienten finnes ikke i registerets pasienttabell."
            ),
            after="fig-region",
        ),
    ),
    Table(
        "baseline_response", "baseline.baseline_response",
        "Baselineskjemaer per innskriving (den nye løsningen)",
        contract=("year", "enrolments", "baseline_responses", "response_share"), seed="tabell 12",
        columns=(
            YEAR, count("enrolments", "Innskrivinger"), count("baseline_responses", "Baselinesvar"),
            share("response_share", "Baselineskjemaer per innskriving"),
        ),
        suppression=Administrative("innskrivinger og mottatte skjemaer er administrative tall"),
        sheet="Baselinesvar",
        report=Report(
            "tbl-baseline", "Innskrivinger gitt rett til helsehjelp og mottatte baselineskjemaer",
            builder="gt_tables.baseline_response_table",
        ),
    ),
    Table(
        "legacy_baseline_response", "baseline.legacy_baseline_response",
        "Baselinesvar per nye pasienter i OPRv1",
        contract=("year", "baseline_responses", "new_patients", "response_share"), seed="tabell 13",
        columns=(
            YEAR, count("baseline_responses", "Pasienter som svarte på baseline"),
            count("new_patients", "Nye pasienter (DIPS)"), share("response_share", "Andel av nye pasienter som svarte"),
        ),
        suppression=Administrative("årstall fra OPRv1 og DIPS, publisert slik i tidligere rapporter"),
        sheet="OPRv1 baselinesvar",
        report=Report(
            "tbl-opr-v1", "OPRv1: pasienter som svarte på baseline ved første oppmøte, og nye pasienter i DIPS",
            builder="gt_tables.legacy_baseline_response_table",
        ),
    ),
    Table(
        "completion_time", "completion.completion_time",
        "Utfyllingstid for baselineskjemaet (min, kvartiler, maks)",
        contract=("period", "n", "min_ms", "q1_ms", "median_ms", "q3_ms", "max_ms"), seed="tabell 14",
        columns=(
            Column("period", "Periode", labels={"alle": "Alle år"}), count("n", "Antall"),
            Column("min_ms", "Minste tid", "ms"), Column("q1_ms", "1. kvartil", "ms"),
            Column("median_ms", "Median", "ms"), Column("q3_ms", "3. kvartil", "ms"),
            Column("max_ms", "Lengste tid", "ms"), Column("min_hms", "Minste tid", "t:mm:ss"),
            Column("q1_hms", "1. kvartil", "t:mm:ss"), Column("median_hms", "Median", "t:mm:ss"),
            Column("q3_hms", "3. kvartil", "t:mm:ss"), Column("max_hms", "Lengste tid", "t:mm:ss"),
        ),
        suppression=Administrative("tid brukt på skjemaer: antall skjemaer og tider, ikke pasienters kjennetegn"),
        sheet="Tidsbruk baseline",
        report=Report(
            "tbl-tidsbruk", "Tidsbruk for besvarelse av baselineskjemaet", builder="gt_tables.completion_time_table",
        ),
    ),
    Table(
        "short_form_reasons", "short_forms.short_form_reasons",
        "Årsaker til kortversjon av baselineskjemaet",
        contract=("year", "reason", "n"), seed="tabell 15",
        columns=(YEAR, Column("reason", "Årsak", labels="codebook:short_forms.reason"), count("n", "Antall")),
        suppression=Administrative("årsaker registrert av kontorpersonalet: administrative tall"),
        sheet="Kortversjon årsaker",
        report=Report(
            "tbl-kortversjon", "Årsaker til at pasienter har tatt kortversjon av baseline",
            builder="gt_tables.short_form_reasons_table",
        ),
    ),
    Table(
        "followup_response", "followup.followup_response",
        "Oppfølgingsskjemaer skyldig, sendt og besvart per type og år",
        contract=(
            "year", "kind", "owed", "sent", "sent_owed", "not_sent", "sent_not_owed", "responded", "response_share",
            "responded_owed", "response_share_owed",
        ),
        seed="holdt tilbake i 2023-rapporten", as_of=True,
        columns=(
            *FOLLOWUP_COLUMNS[:1], Column("kind", "Type oppfølging", labels="codebook:followups.kind"),
            *FOLLOWUP_COLUMNS[1:],
        ),
        suppression=PatientCounts(
            counts=FOLLOWUP_COUNTS, parts=FOLLOWUP_PARTS, shares=FOLLOWUP_SHARES, keys=("year", "kind"),
            # the line «Alle typer» of the report's table: the sums over kinds are the next table's rows
            margins=(Margin(("year",), published_by="followup_response_totals"),),
        ),
        sheet="Oppfølgingsskjemaer",
        report=Report(
            "tbl-oppfolging",
            "Oppfølgingsskjemaer som var skyldige, sendt og besvart i rapportåret, per type oppfølging",
            builder="gt_tables.followup_response_table",
        ),
    ),
    Table(
        "followup_response_totals", "followup.followup_totals",
        "Oppfølgingsskjemaer for alle typer samlet per år", source="followup_response",
        columns=FOLLOWUP_COLUMNS,
        suppression=PatientCounts(counts=FOLLOWUP_COUNTS, parts=FOLLOWUP_PARTS, shares=FOLLOWUP_SHARES),
        sheet="Oppfølgingsskjemaer i alt",
        report="står som linjen «Alle typer» i tabellen over oppfølgingsskjemaer",
    ),
    Table(
        "baseline_response_patient_level", "baseline.baseline_response_patient_level",
        "Andel innskrivinger med minst ett baselinesvar",
        columns=(
            YEAR, count("enrolments", "Innskrivinger"),
            count("enrolments_with_baseline", "Innskrivinger med baselinesvar"),
            share("response_share", "Andel med baselinesvar"), count("baseline_responses", "Baselinesvar"),
            share("seed_response_share", "Baselineskjemaer per innskriving", internal=True,
                  note="sammenligning med 2023-rapportens mål"),
            share("difference", "Forskjell fra baselineskjemaer per innskriving", internal=True,
                  note="ville røpe en skjult andel"),
        ),
        suppression=PatientCounts(
            counts=("enrolments_with_baseline",),
            parts=(("enrolments", ("enrolments_with_baseline", "enrolments_without_baseline")),),
            shares=(("response_share", "enrolments_with_baseline", "enrolments"),),
            public=(("enrolments", "baseline_response"), ("baseline_responses", "baseline_response")),
            margins=(
                Margin(
                    columns=("enrolments_with_baseline",), where="year >= 2021", published_by="trend_tests",
                    published_where="indicator == 'baseline_response_share_patient_level'",
                    published_column="successes",
                ),
            ),
        ),
        sheet="Baselinesvar per innskriving",
        report=Report(
            "tbl-baseline-pasient", "Innskrivinger med minst ett baselinesvar (regnet per innskriving)",
            builder="gt_tables.baseline_patient_level_table",
        ),
    ),
    Table(
        "trend_tests", "trends.trend_tests", "Trendtester for andel avviste og andel med baselinesvar",
        columns=(
            Column("indicator", "Indikator", labels={
                "rejected_share": "Andel avviste henvisninger",
                "baseline_response_share_patient_level": "Andel innskrivinger med baselinesvar",
            }),
            Column("first_year", "Første år"), Column("last_year", "Siste år"), count("years", "Antall år"),
            count("trials", "Antall i nevneren"), count("successes", "Antall i telleren"),
            Column("odds_ratio_per_year", "Oddsratio per år"),
            Column("odds_ratio_ci_low", "Oddsratio per år, nedre grense 95 % KI"),
            Column("odds_ratio_ci_high", "Oddsratio per år, øvre grense 95 % KI"),
            Column("p_value", "p-verdi"), Column("method", "Metode"),
            Column("dispersion", "Spredningsforhold (Pearsons χ² / frihetsgrader)"),
            Column("df_resid", "Frihetsgrader (antall år − 2; t-fordelingen)"),
            Column("start_reason", "Hvorfor serien starter det første året"),
        ),
        suppression=Administrative(
            "summer over alle år i serien; summen for andelen med baselinesvar er en margin i tabellen over "
            "innskrivinger med baselinesvar, og kontrollen av den tabellen regner den med"
        ),
        sheet="Trendtester",
        report="trendtestene står som setninger i teksten (prose.trend_sentence)",
    ),
    Table(
        "quality_closed_in_dips", "quality.quality_closed_in_dips",
        "Innskrivinger avsluttet i DIPS, men åpne i registeret",
        columns=(
            YEAR, count("enrolments", "Innskrivinger"), count("closed_in_dips", "Avsluttet i DIPS"),
            count("open_in_registry", "Åpne i registeret"), share("open_in_registry_share", "Andel åpne"),
        ),
        suppression=QUALITY, sheet="Avsluttet i DIPS",
        report=Report(
            "tbl-kvalitet-dips", "Forløp avsluttet i DIPS, men ikke i registeret, etter år for rett til helsehjelp",
            source=QUALITY_SOURCE,
        ),
    ),
    Table(
        "quality_closed_in_dips_list", "quality.quality_closed_in_dips_list",
        "Liste over innskrivinger avsluttet i DIPS, men åpne i registeret",
        columns=(
            Column("enrolment_id", "Innskriving"), Column("patient_id", "Pasient"),
            Column("granted_date", "Rett til helsehjelp"), Column("dips_closed_date", "Avsluttet i DIPS"),
        ),
        suppression=StaffList("kontorpersonalet avslutter forløpene i registeret"),
        report="radliste med enkeltpasienter for kontorpersonalet",
    ),
    Table(
        "quality_missing", "quality.quality_missing", "Manglende verdier per tabell og kolonne",
        columns=(
            Column("table", "Tabell", labels="codebook:tables"), Column("column", "Kolonne", labels="codebook:columns"),
            YEAR, count("rows", "Rader"), count("missing", "Mangler"), share("missing_share", "Andel som mangler"),
        ),
        suppression=QUALITY, sheet="Blanke felt",
        report=Report(
            "tbl-kvalitet-mangler",
            "Blanke celler i valgfrie felt i rapportåret (en blank kan være riktig, f.eks. et forløp som ikke er "
            "avsluttet)",
            years="report", source=QUALITY_SOURCE,
        ),
    ),
    Table(
        "quality_multiple_enrolments", "quality.quality_multiple_enrolments",
        "Pasienter med mer enn én innskriving",
        columns=(
            YEAR, count("patients", "Pasienter"), count("patients_multiple", "Med flere innskrivinger"),
            share("multiple_share", "Andel"), count("enrolments", "Innskrivinger"),
        ),
        suppression=QUALITY, sheet="Flere innskrivinger",
        report=Report("tbl-kvalitet-innskrivinger", "Pasienter med mer enn én innskriving samme år", source=QUALITY_SOURCE),
    ),
    Table(
        "quality_multiple_baselines", "quality.quality_multiple_baselines",
        "Innskrivinger med mer enn ett baselineskjema",
        columns=(
            YEAR, count("enrolments", "Innskrivinger"),
            count("enrolments_multiple_baselines", "Med flere baselineskjemaer"), share("multiple_share", "Andel"),
        ),
        suppression=QUALITY, sheet="Flere baselineskjemaer",
        report=Report("tbl-kvalitet-baseline", "Innskrivinger med mer enn ett baselineskjema", source=QUALITY_SOURCE),
    ),
    Table(
        "quality_baseline_after_consultation", "quality.quality_baseline_after_consultation",
        "Baselineskjemaer uten innskriving de hører til",
        columns=(
            YEAR, count("baseline_responses", "Baselinesvar"), count("without_enrolment", "Uten innskriving"),
            count("with_enrolment", "Med innskriving"), count("after_consultation", "Etter første konsultasjon"),
            share("after_consultation_share", "Andel etter konsultasjon"),
            share("without_enrolment_share", "Andel uten innskriving"),
        ),
        suppression=QUALITY, sheet="Baseline etter konsultasjon",
        report=Report(
            "tbl-kvalitet-etter", "Baselineskjemaer sendt inn etter første konsultasjon eller før noen innskriving",
            source=QUALITY_SOURCE,
        ),
    ),
    Table(
        "quality_consultation_before_grant", "quality.quality_consultation_before_grant",
        "Førstekonsultasjon datert før rett til helsehjelp",
        columns=(
            YEAR, count("enrolments", "Innskrivinger"), count("with_consultation", "Med førstekonsultasjon"),
            count("consultation_before_grant", "Konsultasjon før rett"),
            share("consultation_before_grant_share", "Andel før rett"),
        ),
        suppression=QUALITY, sheet="Konsultasjon før rett",
        report=Report(
            "tbl-kvalitet-konsultasjon",
            "Innskrivinger der førstekonsultasjonen er datert før rett til helsehjelp ble gitt",
            source=QUALITY_SOURCE,
        ),
    ),
    # --- patients' rights requests (contract v1.2, issue 26) ---
    Table(
        "rights_requests", "rights_requests.rights_requests_handling",
        "Krav om innsyn, retting, sletting og reservasjon per år og type: besvart, median dager til svar, "
        "andel besvart innen 30 dager og åpne over 30 dager", as_of=True,
        columns=(
            YEAR, Column("kind", "Type krav", labels=REQUEST_KINDS),
            count("received", "Mottatt"), count("closed", "Besvart"), count("open", "Åpne"),
            Column("median_days", "Median dager til svar", "dager"),
            count("closed_within_30", "Besvart innen 30 dager"), count("open_past_30", "Åpne over 30 dager"),
            count("deadline_known", "Besvart eller åpne over 30 dager"),
            share("closed_within_30_share", "Andel besvart innen 30 dager"),
        ),
        suppression=Administrative(
            "kravene er registerets saksbehandling: saker mottatt og besvart innen fristen, ikke pasienters "
            "kjennetegn eller utfall; vist nøyaktig, som revisjonen av oppfølgingsskjemaer (de slettede "
            "pasientene telles med regelen for små tall i kapitlet om datakvalitet)"
        ),
        sheet="Krav fra pasienter",
        report=Report(
            "tbl-rettigheter", "Krav fra pasienter om innsyn, retting, sletting og reservasjon mottatt i rapportåret",
            builder="rights_tables.rights_requests_table", sentence="prose.rights_requests_paragraph",
            after="rettigheter",
        ),
    ),
    Table(
        "rights_reservation_share", "rights_requests.rights_reservation_share",
        "Pasienter som har reservert seg eller fått opplysningene slettet, etter år for første innskriving",
        as_of=True,
        columns=(
            YEAR, count("patients", "Nye pasienter (første innskriving)"),
            count("reserved", "Reservert mot flere spørreskjemaer"), count("erased", "Slettet etter krav"),
            count("reserved_or_erased", "Reservert eller slettet"),
            share("reserved_or_erased_share", "Andel reservert eller slettet"),
        ),
        suppression=PatientCounts(
            counts=("reserved", "erased", "reserved_or_erased"),
            parts=(
                ("patients", ("reserved_or_erased", "not_reserved_or_erased")),
                ("reserved_or_erased", ("reserved", "erased")),
            ),
            shares=(("reserved_or_erased_share", "reserved_or_erased", "patients"),),
        ),
        sheet="Reservert eller slettet",
        report=Report(
            "tbl-reservasjon",
            "Pasienter som har reservert seg mot flere spørreskjemaer eller fått opplysningene slettet, etter år "
            "for første innskriving",
            sentence="prose.reservation_share_sentence", after="tbl-rettigheter",
            source=(
                "Kilde: OUS smerteregister. Reservert: på eller før skjæringsdatoen (feltet «reservert fra dato» "
                "eller et krav om reservasjon). Slettet: opplysningene er slettet etter krav fra pasienten og er "
                "bare med i denne tellingen."
            ),
        ),
    ),
    # --- end patients' rights requests ---
    # --- v1.2 implants (issue 27); empty when the extract has no implant register -----------------
    # The chapter «Implantater» (notebook cell «implantater») shows them only when the extract has the
    # register: a declared table without rows shows nothing.
    Table(
        "implanted_per_year", "implants.implanted_per_year", "Implanterte komponenter per år og komponent",
        as_of=True,
        columns=(YEAR, Column("component", "Komponent", labels="codebook:implants.component"), count("n", "Antall")),
        suppression=Administrative(
            "inngrep: komponenter satt inn er administrative tall om prosedyrer, som henvisninger og skjemaer"
        ),
        sheet="Implantater satt inn",
        report=Report(
            "tbl-implantater", "Komponenter satt inn per år", builder="implant_tables.implanted_per_year_table",
            sentence="prose.implanted_sentence", after="implantater",
        ),
    ),
    Table(
        "explants_by_reason", "implants.explants_by_reason",
        "Eksplanterte komponenter per år og årsak", as_of=True,
        columns=(YEAR, Column("reason", "Årsak", labels="codebook:implants.explant_reason"), count("n", "Antall")),
        # The totals per year (the line «Totalt»), per reason over every year (the column «Alle år») and in
        # all are this table's own: one audit over them all. The text quotes the shares of the totals.
        suppression=PatientCounts(
            counts=("n",), keys=("year", "reason"), margins=(Margin(("year",)), Margin(("reason",)), Margin()),
        ),
        sheet="Eksplantasjoner per år",
        report=Report(
            "tbl-eksplantasjoner", "Komponenter tatt ut per år og for alle år samlet, etter årsak",
            builder="implant_tables.explants_by_reason_table", sentence="prose.explants_sentence",
            after="tbl-implantater",
        ),
    ),
    Table(
        "implant_survival", "implants.implant_survival",
        "Implanterte systemer uten uplanlagt eksplantasjon (Kaplan–Meier) per måned etter implantasjon", as_of=True,
        columns=(
            Column("month", "Måneder etter implantasjon"), Column("days", "Dager etter implantasjon"),
            count("systems", "Systemer"), count("events", "Uplanlagt eksplantasjon"),
            count("censored", "Fulgt kortere"), count("followed", "Fulgt lenger"),
            share("survival", "Uten uplanlagt eksplantasjon"), Column("survival_se", "Standardfeil (Greenwood)"),
        ),
        suppression=StaffList(
            "kurven måned for måned har små tall (én eksplantasjon i en måned); den er grunnlaget for figuren og for "
            "tabellen etter 1 og 2 år, og for personalets og forskernes egne analyser (notebooks/implants.ipynb)"
        ),
        report="vises som figur (fig-implantat-overlevelse), tegnet til der færre enn min_cell systemer er fulgt",
    ),
    Table(
        "implant_survival_summary", "implants.implant_survival_summary",
        "Implanterte systemer uten uplanlagt eksplantasjon etter 1 og 2 år", source="implant_survival",
        columns=(
            Column("years", "Tid etter implantasjon", "år"), Column("days", "Dager etter implantasjon"),
            count("systems", "Systemer"), count("events", "Uplanlagt eksplantasjon"),
            count("censored", "Fulgt kortere"), count("followed", "Fulgt lenger"),
            share("survival", "Uten uplanlagt eksplantasjon (Kaplan–Meier)"),
        ),
        suppression=PatientCounts(
            counts=("events", "censored", "followed"), keys=("years", "days"),
            parts=(("systems", ("events", "censored", "followed")),),
            # the estimate is hidden with the failures or the systems still followed (a few of either)
            shares=(("survival", "events", "followed"),),
        ),
        sheet="Implantater overlevelse",
        report=Report(
            "tbl-implantat-overlevelse",
            "Implanterte systemer uten uplanlagt eksplantasjon ett og to år etter implantasjonen (Kaplan–Meier)",
            builder="implant_tables.implant_survival_table", sentence="prose.implant_survival_sentence",
            after="tbl-eksplantasjoner",
        ),
    ),
    # --- end v1.2 implants ---
]  # fmt: skip

#: Public names of :mod:`opr_analysis.stats` that are not table functions: building blocks that
#: notebooks and other statistics use, such as the per-row flags behind a table
#: (name -> module in ``opr_analysis.stats``).
HELPERS: dict[str, str] = {
    "add_share": "shares", "aggregate_share": "shares", "wilson_interval": "shares", "year_range": "shares",
    "quartile_summary": "shares",
    "baseline_links": "baseline", "enrolment_baseline_flags": "baseline", "assessed_referrals": "referrals",
    "age_at": "derived", "age_groups": "derived", "days_between": "derived",
    "EXCLUSIONS": "followup", "STATUSES": "followup", "followup_audit": "followup",
    "followup_candidates": "followup", "followup_kinds": "followup", "response_columns": "followup",
    "foreign_anchor_count": "followup", "series_test": "trends",
    "format_hms": "completion",
    "quality_tables": "quality",
    "trend_test": "trends",
    "settled_at": "followup", "first_whole_due_year": "followup", "too_few_years": "trends",
    "waiting_times": "waiting", "complete_window": "waiting", "km_median": "waiting",
    "CONTRACT_COLUMNS": "export", "check_contract_columns": "export", "compute_tables": "export", "published_tables": "export",
    "extra_tables": "export", "report_tables": "export", "write_tables": "export",
    "request_flags": "rights_requests", "request_kinds": "rights_requests",
    "implant_systems": "implants", "kaplan_meier": "implants", "month_days": "implants",  # issue 27
    "explant_reason_shares": "implants",
}  # fmt: skip


def get(name: str) -> Table:
    """The entry for table ``name`` (KeyError when none is registered)."""
    for table in TABLES:
        if table.name == name:
            return table
    raise KeyError(name)


def register(table: Table) -> Table:
    """Add (or replace) an entry: the run-time hook for a registry's own tables and for tests."""
    unregister(table.name)
    TABLES.append(table)
    return table


def unregister(name: str) -> None:
    """Remove the entry for ``name`` if there is one."""
    TABLES[:] = [t for t in TABLES if t.name != name]


def public_names() -> dict[str, Table | str]:
    """Every public name of :mod:`opr_analysis.stats`: table function name -> its entry, helper -> module."""
    return {**{t.function_name: t for t in TABLES}, **HELPERS}


def _missing_suppression(t: Table, columns: list[str] | None) -> list[str]:
    s = t.suppression
    if s is None:
        return [f"{t.name}: no suppression class (PatientCounts, Administrative(reason) or StaffList(reason))"]
    if not isinstance(s, PatientCounts):
        return [] if s.reason.strip() else [f"{t.name}: {type(s).__name__} without a reason"]
    out = []
    named = [*s.keys, *s.columns(), *(c for share in s.shares for c in share), *(c for c, _ in s.public)]
    named += [c for m in s.margins for c in (*m.by, *(m.columns or ()))]
    remainders = {p for _, parts in s.parts for p in parts if t.column(p) is None}
    for total, parts in s.parts:
        if len([p for p in parts if p in remainders]) > 1:
            out.append(f"{t.name}: the sum {total} = {' + '.join(parts)} has more than one part that is not a column")
    undeclared = [c for c in named if t.column(c) is None and c not in remainders]
    out += [f"{t.name}: column «{c}» of the suppression is not declared" for c in undeclared]
    out += [f"{t.name}: margin published by unknown table «{m.published_by}»"
            for m in s.margins if m.published_by and m.published_by not in {x.name for x in TABLES}]  # fmt: skip
    out += [f"{t.name}: public column «{c}» comes from unknown table «{o}»"
            for c, o in s.public if o not in {x.name for x in TABLES}]  # fmt: skip
    if columns is not None:
        shares = {c for share, _, _ in s.shares for c in (share, f"{share}_ci_low", f"{share}_ci_high")}
        known = {*s.keys, *s.columns(), *shares, *(c for c, _ in s.public)}
        for c in columns:
            col = t.column(c)
            if c not in known and not (col and col.internal):
                out.append(
                    f"{t.name}: column «{c}» of a patient-count table is not in its suppression "
                    "(a key, a count, a part, a share or a public column), nor internal"
                )
    return out


def _missing_report(t: Table) -> list[str]:
    r = t.report
    if r is None:
        return [f"{t.name}: no report: Report(label, caption, …) or the reason it is not a table of the report"]
    if isinstance(r, str):
        return [] if r.strip() else [f"{t.name}: empty reason for not being in the report"]
    out = []
    if not r.label.startswith("tbl-"):
        out.append(f"{t.name}: report label «{r.label}» does not start with «tbl-»")
    if not r.caption.strip():
        out.append(f"{t.name}: report table without a caption")
    if r.years not in ("window", "report", "all"):
        out.append(f"{t.name}: report years «{r.years}» is not window, report or all")
    if r.pivot is not None:
        for c in (r.pivot.rows, r.pivot.columns, r.pivot.value):
            if t.column(c) is None:
                out.append(f"{t.name}: pivot column «{c}» is not declared")
    return out


def missing_declarations(table: Table, columns: list[str] | None = None) -> list[str]:
    """What the entry lacks to be fully declared (empty when nothing), one sentence each naming it.

    With ``columns`` (those the statistic returns), every column must have a declared heading,
    and every column of a patient-count table must be part of its suppression or internal.
    """
    t = table
    out = [] if t.description.strip() else [f"{t.name}: no description"]
    if not t.columns:
        out.append(f"{t.name}: no columns declared (Column(name, heading, unit))")
    out += [f"{t.name}: column «{c}» has no declared heading (Column)" for c in columns or [] if t.column(c) is None]
    out += _missing_suppression(t, columns)
    if t.published:
        if not t.sheet:
            out.append(f"{t.name}: no workbook sheet name")
        elif len(t.sheet) > SHEET_MAX or set(t.sheet) & set("_:\\/?*[]") or t.sheet == t.name:
            out.append(
                f"{t.name}: sheet name «{t.sheet}» is not readable Norwegian of at most {SHEET_MAX} characters "
                "(no _ : \\ / ? * [ ])"
            )
        elif [x.sheet for x in TABLES].count(t.sheet) > 1:
            out.append(f"{t.name}: sheet name «{t.sheet}» is used by another table")
    elif t.sheet or isinstance(t.report, Report):
        out.append(f"{t.name}: a staff list has no sheet and is not a table of the report")
    out += _missing_report(t)
    if isinstance(t.report, Report) and [x.report.label for x in TABLES if x.in_report].count(t.report.label) > 1:
        out.append(f"{t.name}: report label «{t.report.label}» is used by another table")
    return out


def _suppression_text(t: Table) -> str:
    s = t.suppression
    if isinstance(s, PatientCounts):
        sums = [f"{total} = {' + '.join(parts)}" for total, parts in s.parts]
        for m in s.margins:
            over = f"per {', '.join(m.by)}" if m.by else "alle rader"
            where = f" ({m.where})" if m.where else ""
            by = f", publisert i `{m.published_by}`" if m.published_by else ""
            sums.append(f"sum {over}{where}{by}")
        public = [f"`{c}` fra `{o}`" for c, o in s.public]
        return (
            f"pasienttall, prikket: {', '.join(f'`{c}`' for c in s.counts)}"
            + (f"; summer: {'; '.join(sums)}" if sums else "")
            + (f"; vist andre steder: {', '.join(public)}" if public else "")
        )
    if isinstance(s, Administrative):
        return f"administrative tall, vist nøyaktig: {s.reason}"
    if isinstance(s, StaffList):
        return f"radliste for kontorpersonalet, publiseres ikke: {s.reason}"
    return ""


def tables_markdown() -> str:
    """``docs/tables.md``: the registry as Markdown: one line per table, then each table's declaration."""
    lines = [
        "# Publiserte tabeller",
        "",
        "Generated from `opr_analysis/stats/table_registry.py` by `make docs`; do not edit by hand.",
        "Every table is written by `opr tables` as `<name>.csv`; the report, the Excel workbook and the",
        "suppression audit follow from the same declaration (see `docs/architecture.md`).",
        "",
        "| name | function | contract columns | seed table | description |",
        "|---|---|---|---|---|",
    ]
    for t in TABLES:
        contract = ", ".join(f"`{c}`" for c in t.contract) if t.contract else "extra"
        func = t.function if isinstance(t.function, str) else t.function_name
        lines.append(f"| `{t.name}` | `stats.{func}` | {contract} | {t.seed or ''} | {t.description} |")
    for t in TABLES:
        lines += ["", f"## `{t.name}`: {t.description}", ""]
        if isinstance(t.report, Report):
            lines.append(f"- Rapporten: «{t.report.caption}» (`{t.report.label}`)")
        elif t.report:
            lines.append(f"- Ikke en tabell i rapporten: {t.report}")
        if t.sheet:
            lines.append(f"- Arbeidsboken: arket «{t.sheet}»")
        lines.append(f"- Prikking: {_suppression_text(t)}")
        lines += ["", "| column | heading | unit |", "|---|---|---|"]
        for c in t.columns:
            extra = " (bare i CSV-filen" + (f": {c.note}" if c.note else "") + ")" if c.internal else ""
            lines.append(f"| `{c.name}` | {c.heading}{extra} | {c.unit} |")
    return "\n".join(lines) + "\n"
