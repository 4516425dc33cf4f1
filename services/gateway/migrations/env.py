"""Alembic environment of the gateway service."""

from libs.common.migrations import run_env
from services.gateway.models import Base

run_env(Base.metadata)
