"""Queqiao (鹊桥): a CRM for trade-union volunteer matchmakers."""

from pathlib import Path

# Flask is imported inside create_app so that pure packages (crm.matching) import without it.
ROOT = Path(__file__).resolve().parent.parent


def create_app(config=None):
    from flask import Flask

    app = Flask(__name__, instance_relative_config=True,
                template_folder=str(ROOT / "templates"), static_folder=str(ROOT / "static"))
    from crm.config import Config
    app.config.from_object(config or Config)
    app.config.from_pyfile("config.py", silent=True)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    from crm import database, web
    app.url_map.converters["int"] = web.IdConverter  # before any route is added
    from crm.auth import policy
    from crm.extensions import babel, csrf, db, login_manager, migrate
    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=web.select_locale, timezone_selector=web.select_timezone)
    database.init_app(app)

    from crm.admin import bp as admin_bp
    from crm.audit import bp as audit_bp
    from crm.auth import bp as auth_bp
    from crm.cards import bp as cards_bp
    from crm.counselling import bp as counselling_bp
    from crm.followups import bp as followups_bp
    from crm.matching.views import bp as matching_bp
    from crm.members import bp as members_bp
    from crm.pairings import bp as pairings_bp
    for bp in (auth_bp, members_bp, audit_bp, admin_bp, pairings_bp, followups_bp, counselling_bp, cards_bp,
               matching_bp):
        app.register_blueprint(bp)
    from crm.privacy import bp as privacy_bp
    app.register_blueprint(privacy_bp)
    from crm.intake import bp as intake_bp
    app.register_blueprint(intake_bp)
    from crm.events import bp as events_bp
    app.register_blueprint(events_bp)
    from crm.stats import bp as stats_bp
    app.register_blueprint(stats_bp)

    policy.init_app(app)
    web.init_app(app)
    from crm import security
    security.init_app(app)  # headers (CSP...), NUL guard, expired CSRF handling: after web's error handlers
    from crm import incidents
    incidents.init_app(app)  # incident ids on 500s, redacted log records, denied requests logged

    from crm import demo
    from crm.auth import cli as auth_cli
    app.cli.add_command(demo.seed_demo)
    from crm import benchdata
    app.cli.add_command(benchdata.seed_bench)
    from crm import backup
    app.cli.add_command(backup.backup_command)
    app.cli.add_command(backup.restore_command)
    app.cli.add_command(auth_cli.create_user)
    from crm.privacy import cli as privacy_cli
    app.cli.add_command(privacy_cli.purge_expired)
    from crm import deploy
    app.cli.add_command(deploy.check_deploy)
    app.cli.add_command(web.translate)
    return app
