"""Every /admin route, GET and POST alike: anonymous users are sent to sign in, petugas and
verifikator are refused, and nothing changes. (tests/test_authz.py holds the full matrix.)"""
from __future__ import annotations

import pytest

import models
from tests.conftest import csrf_token, login


def _admin_routes(app):
    for rule in app.url_map.iter_rules():
        if rule.rule.startswith("/admin"):
            path = (rule.rule.replace("<int:job_id>", "1").replace("<int:user_id>", "1")
                    .replace("<int:enrolment_id>", "1").replace("<kode>", "PKH")
                    .replace("<int:period_id>", "1").replace("<token>", "x"))
            for method in sorted(set(rule.methods) - {"HEAD", "OPTIONS"}):
                yield method, path


@pytest.mark.parametrize("role", [None, "petugas", "verifikator"])
def test_every_admin_route_refuses_other_roles(app, client, make_user, role):
    make_user("kepala", "admin")
    if role:
        make_user("orang", role, kantor="35.10.16.1001" if role == "petugas" else None)
        login(client, "orang")
    token = csrf_token(client, "/masuk")
    routes = list(_admin_routes(app))
    assert len(routes) >= 30
    before = list(models.User.select().tuples()), list(models.Scheme.select().tuples())
    for method, path in routes:
        response = (client.get(path) if method == "GET"
                    else client.post(path, data={"csrf_token": token, "role": "admin"}))
        if role is None:
            assert response.status_code == 302, (method, path)
            assert response.headers["Location"].startswith("/masuk"), (method, path)
        else:
            assert response.status_code == 403, (method, path, response.status_code)
    assert (list(models.User.select().tuples()), list(models.Scheme.select().tuples())) == before
