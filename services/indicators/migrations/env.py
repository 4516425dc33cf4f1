"""Alembic environment of the indicators service."""

from libs.common.migrations import run_env
from services.indicators.models import Base

run_env(Base.metadata)
