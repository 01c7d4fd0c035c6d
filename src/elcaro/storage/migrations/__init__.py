"""Alembic scripts. A package only so that ``env.py`` ships with the wheel; alembic loads it by path."""
