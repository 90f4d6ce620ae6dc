"""gunicorn settings for production (`gunicorn wsgi:app` picks this file up from the working dir).

Every page a candidate keeps open polls a small fragment every 2 s: requests are short and spend
their time waiting on PostgreSQL and Redis, so threaded workers serve more of them per core than
sync workers. No server-sent events: a held stream would pin a worker (see SPEC pitfalls).
"""

import multiprocessing
import os

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
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
