"""The office kiosk: check and report in large type for people without a phone."""
from flask import Blueprint

bp = Blueprint("staff", __name__)
