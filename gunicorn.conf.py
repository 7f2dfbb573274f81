"""gunicorn settings for Cek Bansos; each can be overridden on the command line or by env."""
import gc
import multiprocessing
import os

bind = os.environ.get("BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", multiprocessing.cpu_count() * 2 + 1))
worker_class = "sync"
# The C parser (gunicorn-h1c, in requirements.txt) when installed: a resident's POST is parsed
# in a fraction of the pure-Python parser's time (bench/bench_check.py).
http_parser = "auto"
timeout = 30
graceful_timeout = 20
keepalive = 5
max_requests = 10000
max_requests_jitter = 1000
accesslog = "-"
# No query string (%(q)s) and no request line (%(r)s): a NIK must never reach a log file.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s" %(s)s %(B)s %(M)sms'
# And any 16-digit run a client typed into a path, or an error quoted, is masked as [NIK].
logger_class = "web.redact.GunicornLogger"
# gunicorn 27's control socket (gunicornc) in the instance folder, not the user's ~/.gunicorn/
# shared by every instance; a second instance on the machine passes --control-socket PATH.
control_socket = os.path.join(os.path.dirname(os.path.abspath(__file__)), "instance",
                              "gunicorn.ctl")
# gunicorn 27 has no setting to drop its `Server: gunicorn` header (it names no version);
# nginx does not pass it on (deploy/nginx.conf.example: server_tokens off for its own).


def post_worker_init(worker):
    """The worker has loaded the app: what start-up made (modules, routes, the app and its
    extensions, ~74,000 objects) lives as long as the worker, so the garbage collector stops
    walking it (gc.freeze; collection stays on). A full collection, which some request now and
    then sets off, walked all of them: ~20–30 ms of that resident's wait here; now it walks only
    what requests left behind (bench/README.md, the NIK check)."""
    gc.freeze()
