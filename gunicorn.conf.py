"""gunicorn settings for Queqiao: ``gunicorn -c gunicorn.conf.py 'crm:create_app()'``.

The app is loaded once in the master (preload_app) and forked into the workers. Two things follow:
- each worker drops the database connections it inherited (post_fork): a pooled connection shared by
  two processes interleaves their conversations with the server (PostgreSQL) or breaks SQLite's locks;
- the objects loaded at start-up are moved out of the cyclic GC's sight (gc.freeze, PERFORMANCE.md:
  gen-2 passes of 30–56 ms set p99 otherwise); freezing before the fork also keeps them copy-on-write.
Command-line options (-w, -b) override what is set here.
"""

import gc
import os

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
worker_class = "sync"
preload_app = True
timeout = 60
graceful_timeout = 30


def when_ready(server):
    warm_up(server.app.wsgi(), server.log)
    gc.freeze()  # after start-up in the master: the workers fork with these objects frozen


def warm_up(app, log):
    """Work every worker would otherwise repeat at its first requests, done once before the fork.

    - The suggestion index (crm.matching.service): 13-30 s at 100,000 members, paid by the first
      suggestions request of each worker; built here, the workers inherit it (copy-on-write, frozen)
      and only bring it up to date from its stamp. QUEQIAO_WARM_INDEX=0 skips it (a fresh database
      without tables, a quick restart).
    - Every template compiled once (the first request of each page in each worker paid it).
    Failures are logged, never fatal: the workers then build what they need on demand.
    """
    from crm.extensions import db

    with app.app_context():
        try:
            for name in app.jinja_env.list_templates(filter_func=lambda n: n.endswith(".html")):
                app.jinja_env.get_template(name)
        except Exception:  # noqa: BLE001 - a template that does not compile fails at its request as before
            log.exception("warm-up: templates")
        if os.environ.get("QUEQIAO_WARM_INDEX", "1") != "0":
            try:
                from crm.matching import service
                service.current_index()
            except Exception:  # noqa: BLE001 - e.g. no tables yet: the first suggestions request builds it
                log.exception("warm-up: suggestion index")
        db.session.remove()
        db.engine.dispose()  # the master keeps no connection; the workers open their own


def post_fork(server, worker):
    from crm.database import dispose_after_fork
    dispose_after_fork(server.app.wsgi())
