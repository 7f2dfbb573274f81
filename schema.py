"""Every table of the application's database, listed once, in the order they depend on each
other. Migrations create them (migrations/); the tests empty them all between tests."""
from __future__ import annotations

import models
from cases import objections
from rice import models as rice_models

ALL_MODELS = [
    models.Region, models.Scheme, models.Person, models.User, models.Enrolment, models.Report,
    models.Reporter, models.ReportEvent, *objections.TABLES, *rice_models.TABLES,
]
