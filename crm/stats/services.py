"""Statistics: which branches a user may report on, the dashboard's data, reports as tables, the
annual report PDF and the audit entry of every export."""

from dataclasses import dataclass

from flask import render_template
from flask_babel import gettext as _
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from crm.audit.services import record
from crm.auth.models import Branch, Role
from crm.extensions import db
from crm.stats import cache, charts, definitions, queries
from crm.stats.definitions import Period
from crm.stats.exports import Table

ALL = ""  # the branch choice meaning the whole union


def branch_choices(user) -> list[SelectChoice]:
    """Admins report on any branch or the whole union; supervisors on their own branch."""
    if user.has_role(Role.ADMIN):
        branches = db.session.execute(select(Branch.id, Branch.name).order_by(Branch.name)).all()
        return [SelectChoice(ALL, _("All branches"))] + [SelectChoice(str(i), name) for i, name in branches]
    return [SelectChoice(str(user.branch_id), user.branch.name)]


def branch_id_from(user, value: str | None) -> int | None:
    """The branch id of a validated choice (``None``: whole union, admins only)."""
    if not value:
        return None if user.has_role(Role.ADMIN) else user.branch_id
    return int(value)


def branch_name(branch_id: int | None) -> str:
    if branch_id is None:
        return _("All branches")
    return db.session.get(Branch, branch_id).name


@dataclass
class Dashboard:
    period: Period
    branch_id: int | None
    funnel: list
    trends: list
    reasons: list
    volunteers: list
    neglected_total: int
    neglected: list
    alerts: list
    neglect_days: int


def dashboard(period: Period, branch_id: int | None) -> Dashboard:
    """The dashboard's data: each part's aggregates from the cache while the data that part reads is
    unchanged (crm.stats.cache: one freshness stamp per view, compared per part), the open risk
    alerts always read fresh (one cheap statement)."""
    current = cache.stamp() if cache.enabled() else None

    def kept(name, compute):
        stamp = cache.part(current, name) if current is not None else None
        return cache.cached((name, branch_id, period.start, period.end), compute, stamp)

    def history():
        return (queries.funnel(period, branch_id), queries.monthly_trends(period, branch_id),
                queries.close_reasons(period, branch_id))

    funnel, trends, reasons = kept("history", history)
    volunteers = kept("volunteers", lambda: queries.volunteers(branch_id))
    total, neglected = kept("neglected", lambda: queries.neglected_members(branch_id))
    return Dashboard(period, branch_id, funnel, trends, reasons, volunteers, total, neglected,
                     queries.open_risk_alerts(branch_id), queries.neglect_days())


# --- charts ------------------------------------------------------------------------------------

def funnel_chart(data: Dashboard):
    return charts.bar_chart("funnel", _("Pipeline funnel"),
                            _("How many of the pairs proposed in the period reached each stage."),
                            [(s.stage.label, s.reached) for s in data.funnel])


def trends_chart(data: Dashboard):
    return charts.column_chart("trends", _("Monthly trends"),
                               _("Pairings proposed, introductions made and marriages, per month."),
                               [m.month for m in data.trends],
                               [(_("Proposed"), [m.proposed for m in data.trends]),
                                (_("Introductions made"), [m.introduced for m in data.trends]),
                                (_("Marriages"), [m.married for m in data.trends])])


def reasons_chart(data: Dashboard):
    return charts.bar_chart("reasons", _("Why introductions closed"),
                            _("Pairs closed in the period, by the reason given."),
                            [(reason_label(r), n) for r, n in data.reasons])


def caseload_chart(data: Dashboard):
    return charts.bar_chart("caseloads", _("Caseloads against capacity"),
                            _("Open case files per volunteer; the red mark is the volunteer's capacity."),
                            [(v.name, v.caseload) for v in data.volunteers],
                            limits=[v.capacity for v in data.volunteers])


def reason_label(reason) -> str:
    return str(reason.label) if reason is not None else _("Not given")


def figures_chart(figures):
    return charts.bar_chart("figures", _("Figures for the period"), _("Each counter as defined on this page."),
                            [(str(f.counter.label), f.value) for f in figures])


# --- reports as tables (what CSV and XLSX write) ---------------------------------------------------

def _period_note(period: Period, branch_id: int | None) -> str:
    return _("%(branch)s, %(start)s to %(end)s", branch=branch_name(branch_id), start=period.start.isoformat(),
             end=period.end.isoformat())


def figures_tables(period: Period, branch_id: int | None, figures=None) -> list[Table]:
    figures = figures if figures is not None else definitions.figures(period, branch_id)
    return [Table(_("Figures"), [_("Figure"), _("Number"), _("Definition"), _("Period")],
                  [[str(f.counter.label), f.value, str(f.counter.definition), _period_note(period, branch_id)]
                   for f in figures])]


def dashboard_tables(data: Dashboard) -> list[Table]:
    def pct(x):
        return None if x is None else round(100 * x, 1)

    return [
        Table(_("Pipeline funnel"), [_("Stage"), _("Pairs that reached it or a later stage"),
                                     _("Conversion from the stage before (%)"), _("Median days at this stage")],
              [[str(s.stage.label), s.reached, pct(s.conversion), s.median_days] for s in data.funnel]),
        Table(_("Monthly trends"), [_("Month"), _("Proposed"), _("Introductions made"), _("Marriages")],
              [[m.month, m.proposed, m.introduced, m.married] for m in data.trends]),
        Table(_("Why introductions closed"), [_("Reason"), _("Pairs")],
              [[reason_label(r), n] for r, n in data.reasons]),
        Table(_("Volunteers"), [_("Volunteer"), _("Open cases"), _("Capacity"), _("Overdue follow-ups"),
                                _("Unanswered consent requests")],
              [[v.name, v.caseload, v.capacity if v.capacity is not None else _("No limit"), v.overdue_followups,
                v.unanswered_consents] for v in data.volunteers]),
        Table(_("Neglected members"), [_("Member"), _("Volunteer"), _("Last note")],
              [[f"#{n.member_id} {n.name}", n.owner or _("Unassigned"),
                n.since.date().isoformat() if n.since else _("Never")] for n in data.neglected]),
    ]


def record_export(user, report: str, fmt: str, period: Period | None, branch_id: int | None):
    record(user, "stats.export", object_type="branches" if branch_id else "system", object_id=branch_id,
           report=report, format=fmt, start=period.start.isoformat() if period else None,
           end=period.end.isoformat() if period else None)


# --- the annual report -----------------------------------------------------------------------------

def annual_report_pdf(year: int, branch_id: int | None) -> bytes:
    from crm.cards.pdf import html_to_pdf
    from crm.clock import now_utc

    period = queries.year_period(year)
    figures = definitions.figures(period, branch_id)
    data = dashboard(period, branch_id)
    html = render_template("stats/annual_report.html", year=year, branch=branch_name(branch_id), figures=figures,
                           data=data, figures_chart=figures_chart(figures), funnel_chart=funnel_chart(data),
                           trends_chart=trends_chart(data), reasons_chart=reasons_chart(data),
                           reason_label=reason_label, generated_at=now_utc())
    return html_to_pdf(html)
