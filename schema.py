"""Every table of the application's database, listed once, in the order they depend on each
other. Migrations create them (migrations/); the tests empty them all between tests."""
from __future__ import annotations

import models
from cases import objections
from imports.headers import ColumnMapping
from office.audit import AuditEntry
from office.contacts import OfficeContact
from office.desil import FamilyDesil
from office.schedules import SchemePeriod
from rice import models as rice_models
from sms import models as sms_models

ALL_MODELS = [
    models.Region, models.Scheme, models.Person, models.User, models.Enrolment, models.Report,
    models.Reporter, models.ReportEvent, *objections.TABLES, *rice_models.TABLES,
    ColumnMapping, FamilyDesil, *sms_models.TABLES, AuditEntry, OfficeContact, SchemePeriod,
]
