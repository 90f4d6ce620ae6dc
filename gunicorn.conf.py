"""gunicorn settings for production (`gunicorn wsgi:app` picks this file up from the working dir).

Every page a candidate keeps open polls a small fragment every 2 s: requests are short and spend
their time waiting on PostgreSQL and Redis, so threaded workers serve more of them per core than
sync workers. No server-sent events: a held stream would pin a worker (see SPEC pitfalls).
"""

import multiprocessing
import os
import shutil
import tempfile

bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 4))
timeout = 30
graceful_timeout = 30
keepalive = 5
# Recycle workers now and then so that a slow leak never becomes an exam-day outage.
max_requests = 20000
max_requests_jitter = 2000
# nginx on the same host (or the load balancer's address) may set X-Forwarded-*; the app
# itself trusts exactly PROXY_COUNT hops through ProxyFix.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
# The app logs every request itself (app/request_log.py: request ids, unchanged polls at
# DEBUG); gunicorn's own access log, one line per poll, only when asked for.
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"

# Metrics (app/metrics.py): each worker counts in its own files in one folder, and a scrape of
# any worker adds them up. A folder of this master's own unless the operator names one.
os.environ.setdefault(
    "PROMETHEUS_MULTIPROC_DIR",
    os.path.join(tempfile.gettempdir(), f"interview-room-metrics-{os.getpid()}"),
)


def on_starting(server):
    folder = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    shutil.rmtree(folder, ignore_errors=True)  # counts of an earlier run are not this one's
    os.makedirs(folder, exist_ok=True)


def on_exit(server):
    shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)


def child_exit(server, worker):
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)
