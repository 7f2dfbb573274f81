"""Reports from residents: the report form, its confirmation, and tracking by code."""
from flask import Blueprint

bp = Blueprint("reports", __name__)
