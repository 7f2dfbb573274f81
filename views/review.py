"""The reviewer's desk: the queue by days left, the case page, decisions and delivery."""
from flask import Blueprint

bp = Blueprint("review", __name__)
