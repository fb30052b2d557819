"""`flask purge-expired`: the retention rule, for cron."""

import click
from flask.cli import with_appcontext


@click.command("purge-expired")
@click.option("--dry-run", is_flag=True, help="List the cases that would be anonymised; change nothing.")
@with_appcontext
def purge_expired(dry_run):
    """Anonymise closed cases untouched for RETENTION_DAYS (crm.privacy.erasure)."""
    from flask import current_app

    from crm.extensions import db
    from crm.privacy.erasure import purge_expired as purge

    ids = purge(dry_run=dry_run)
    if dry_run:
        db.session.rollback()
        click.echo(f"dry run: {len(ids)} closed case(s) older than {current_app.config['RETENTION_DAYS']} days "
                   f"would be anonymised: {', '.join(map(str, ids)) or '-'}")
        return
    db.session.commit()
    click.echo(f"anonymised {len(ids)} closed case(s): {', '.join(map(str, ids)) or '-'}")
