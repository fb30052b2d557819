import click
from flask.cli import with_appcontext
from sqlalchemy import select

from crm.auth.models import Branch, Role, User
from crm.auth.passwords import hash_password
from crm.extensions import db


@click.command("create-user")
@click.argument("username")
@click.option("--name", "display_name", required=True, help="Name shown to colleagues.")
@click.option("--branch", "branch_name", required=True, help="Name of an existing branch.")
@click.option("--role", "roles", multiple=True, required=True,
              type=click.Choice([r.name.lower() for r in Role.singles()]), help="Repeat for several roles.")
@click.password_option()
@with_appcontext
def create_user(username, display_name, branch_name, roles, password):
    """Create a staff user."""
    branch = db.session.scalar(select(Branch).where(Branch.name == branch_name))
    if branch is None:
        raise click.BadParameter(f"no branch named {branch_name!r}", param_hint="--branch")
    if db.session.scalar(select(User).where(User.username == username)):
        raise click.BadParameter(f"user {username!r} already exists", param_hint="USERNAME")
    flags = Role(0)
    for name in roles:
        flags |= Role[name.upper()]
    db.session.add(User(username=username, display_name=display_name, branch=branch, roles=flags,
                        password_hash=hash_password(password)))
    db.session.commit()
    click.echo(f"created {username}")
