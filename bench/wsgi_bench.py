"""WSGI entry point for benchmarks: the real app plus a hello-world route as the baseline.

    gunicorn bench.wsgi_bench:app

The baseline goes through the same app, hooks and middleware as every page, so a ratio to it
measures what a view itself costs. Never deploy this module.
"""
from app import create_app

app = create_app()


@app.get("/bench/halo")
def hello():
    """The baseline: as little work as a Flask route can do."""
    return "halo"
