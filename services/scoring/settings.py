"""Scoring's own configuration (environment, prefix ``DX_SCORING_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ScoringSettings(BaseSettings):
    """How the background rescorer coalesces what the consumers marked."""

    model_config = SettingsConfigDict(env_prefix="DX_SCORING_", extra="ignore")

    coalesce_ms: int = Field(
        200,
        ge=0,
        description="At most one rescore pass this often: marks made meanwhile share one pass",
    )

    @property
    def coalesce_seconds(self) -> float:
        """The pause between passes, in seconds."""
        return self.coalesce_ms / 1000
