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
    gc.freeze()  # after start-up in the master: the workers fork with these objects frozen


def post_fork(server, worker):
    from crm.database import dispose_after_fork
    dispose_after_fork(server.app.wsgi())
