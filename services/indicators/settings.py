"""The indicators service's own configuration (environment, prefix ``DX_INDICATORS_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The default share of expected reports from which a computed figure is the headline.
HEADLINE_COVERAGE = 0.8


class IndicatorsSettings(BaseSettings):
    """How a national figure's headline is chosen between published and computed."""

    model_config = SettingsConfigDict(env_prefix="DX_INDICATORS_", extra="ignore")

    headline_coverage: float = Field(
        HEADLINE_COVERAGE,
        ge=0,
        le=1,
        description=(
            "Share of the expected agencies that must have reported before the figure computed "
            "from their values replaces the committee's published one as the headline"
        ),
    )
