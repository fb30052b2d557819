"""Statistics pages: the figures with their definitions, the supervisor dashboard, exports, the
annual report and volunteers' capacity."""

from flask import Response, abort, flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from crm.admin.services import claim_version
from crm.audit.services import record
from crm.auth.models import Role, User
from crm.auth.reauth import password_confirmation_required, password_recently_confirmed
from crm.clock import today
from crm.conflicts import conflict_rows
from crm.database import as_id
from crm.extensions import db
from crm.stats import bp, definitions, exports, services
from crm.stats.definitions import Period
from crm.stats.forms import CapacityForm, PeriodForm, YearForm, year_choices
from crm.web import render

FORMATS = {"csv": ("text/csv; charset=utf-8", exports.to_csv),
           "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", exports.to_xlsx)}
REPORTS = ("figures", "dashboard")


def _period_form():
    """The filter from the query string; (form, period, branch id) or (form, None, None) when invalid."""
    form = PeriodForm(request.args if request.args else None)
    form.branch.choices = services.branch_choices(current_user)
    if not request.args:
        form.branch.data = form.branch.choices[0].value
        return form, Period(form.start.data, form.end.data), services.branch_id_from(current_user, form.branch.data)
    if not form.validate():
        return form, None, None
    return form, Period(form.start.data, form.end.data), services.branch_id_from(current_user, form.branch.data)


@bp.route("/")
def figures():
    form, period, branch_id = _period_form()
    if period is None:
        return render("stats/figures.html", form=form, figures=None), 422
    figures = definitions.figures(period, branch_id)
    return render("stats/figures.html", form=form, figures=figures, chart=services.figures_chart(figures),
                  period=period, branch=services.branch_name(branch_id), year_form=_year_form(branch_id),
                  confirmed=password_recently_confirmed())


@bp.route("/dashboard")
def dashboard():
    form, period, branch_id = _period_form()
    if period is None:
        return render("stats/dashboard.html", form=form, data=None), 422
    data = services.dashboard(period, branch_id)
    return render("stats/dashboard.html", form=form, data=data, branch=services.branch_name(branch_id),
                  funnel_chart=services.funnel_chart(data), trends_chart=services.trends_chart(data),
                  reasons_chart=services.reasons_chart(data), caseload_chart=services.caseload_chart(data),
                  tables=services.dashboard_tables(data), confirmed=password_recently_confirmed(),
                  can_set_capacity=current_user.has_role(Role.ADMIN))


@bp.route("/export/<report>.<fmt>")
@password_confirmation_required
def export(report, fmt):
    if report not in REPORTS or fmt not in FORMATS:
        abort(404)
    form, period, branch_id = _period_form()
    if period is None:
        return render("stats/figures.html", form=form, figures=None), 422
    if report == "figures":
        tables = services.figures_tables(period, branch_id)
    else:
        tables = services.dashboard_tables(services.dashboard(period, branch_id))
    mimetype, write = FORMATS[fmt]
    body = write(tables)
    services.record_export(current_user, report, fmt, period, branch_id)
    db.session.commit()
    name = f"queqiao-{report}-{period.start.isoformat()}-{period.end.isoformat()}.{fmt}"
    return Response(body, mimetype=mimetype, headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _year_form(branch_id=None, formdata=None):
    form = YearForm(formdata)
    form.year.choices = year_choices()
    form.branch.choices = services.branch_choices(current_user)
    if formdata is None:
        form.year.data = today().year - 1 if today().month < 3 else today().year
        form.branch.data = str(branch_id) if branch_id else form.branch.choices[0].value
    return form


@bp.route("/annual-report")
@password_confirmation_required
def annual_report():
    form = _year_form(formdata=request.args)
    if not form.validate():
        return render("stats/annual_form.html", form=form), 422
    branch_id = services.branch_id_from(current_user, form.branch.data)
    pdf = services.annual_report_pdf(form.year.data, branch_id)
    services.record_export(current_user, "annual_report", "pdf", services.queries.year_period(form.year.data),
                           branch_id)
    db.session.commit()
    name = f"queqiao-annual-report-{form.year.data}.pdf"
    return Response(pdf, mimetype="application/pdf", headers={"Content-Disposition": f'attachment; filename="{name}"'})


@bp.route("/capacity/<int:user_id>", methods=["GET", "POST"])
def capacity(user_id):
    user = db.session.get(User, user_id)
    if user is None or not user.has_role(Role.VOLUNTEER):
        abort(404)
    form = CapacityForm(obj=user) if request.method == "GET" else CapacityForm()
    if form.validate_on_submit():
        try:
            claim_version(user, as_id(form.version.data) or 0)  # the users row's admin-edit version moves on
        except StaleDataError:  # changed since the form was shown: both versions, nothing written
            db.session.rollback()
            rows = conflict_rows(form, {"max_caseload": user.max_caseload})
            form.version.data = str(user.version)  # saving again re-applies this capacity over the saved one
            return render("stats/capacity.html", form=form, volunteer=user, conflict=rows), 409
        old = user.max_caseload
        user.max_caseload = form.max_caseload.data
        record(current_user, "user.capacity", user, old=old, new=user.max_caseload)
        db.session.commit()
        flash(_("Capacity saved."), "success")
        return redirect(url_for("stats.capacity", user_id=user.id))
    return render("stats/capacity.html", form=form, volunteer=user), 422 if form.errors else 200
