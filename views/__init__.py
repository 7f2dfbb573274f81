"""Blueprints, one module per area; each is registered by the factory (app.py)."""
