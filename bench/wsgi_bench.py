"""WSGI entry point for benchmarks: the real app plus a hello-world route as the baseline.

    gunicorn bench.wsgi_bench:app

The baseline goes through the same app, hooks and middleware as every page, so a ratio to it
measures what a view itself costs. Never deploy this module.
"""
from flask import request

from app import create_app
from web.origin import anonymous_form

app = create_app()


@app.get("/bench/halo")
def hello():
    """The baseline: as little work as a Flask route can do."""
    return "halo"


@app.post("/bench/halo")
@anonymous_form
def hello_form():
    """The baseline of a resident's form POST (reported beside the goal's GET baseline): the
    same cross-site check as the NIK check's, the body read and parsed, one field taken."""
    return request.form.get("nik", "")[:4] or "halo"
