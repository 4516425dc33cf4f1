"""Configuration read from the environment (prefix ``DX_``); one class for every process."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

SERVICES = ("ingest", "indicators", "scoring", "notify")


class BusKind(StrEnum):
    INPROCESS = "inprocess"
    KAFKA = "kafka"


class Settings(BaseSettings):
    """Every setting of every service; each process reads the ones it needs."""

    model_config = SettingsConfigDict(env_prefix="DX_", extra="ignore")

    environment: str = Field("development", description="`production` refuses unsafe defaults")
    host: str = "127.0.0.1"
    port: int = 8000
    data_dir: Path = Path("./var")
    database_url: str | None = Field(
        None, description="A service's database; SQLite file per service under data_dir if unset"
    )
    database_schema: str | None = Field(
        None, description="PostgreSQL schema of a service; defaults to the service's name"
    )
    database_schema_prefix: str = Field(
        "", description="Prefix of every service's schema (several platforms in one database)"
    )
    database_pool_size: int = 10
    bus: BusKind | None = Field(None, description="inprocess (embedded) or kafka (cluster)")
    kafka_bootstrap: str = "127.0.0.1:9092"
    kafka_idempotence: bool = Field(
        True, description="Idempotent producer; off only for brokers that refuse InitProducerId"
    )
    kafka_partitions: int = 6
    kafka_request_timeout_ms: int = 10_000
    bootstrap_admin_token: SecretStr | None = None
    internal_secret: SecretStr = Field(
        SecretStr("dx-development-internal-secret"),
        description="HMAC key the gateway signs service calls with",
    )
    rate_limit_per_minute: int = Field(1200, description="Default per-key request budget; 0 = off")
    outbox_poll_seconds: float = 0.5
    outbox_batch_size: int = 500
    max_body_bytes: int = Field(25 * 1024 * 1024, description="Largest request body accepted")
    max_problems: int = Field(
        100, ge=1, description="Problems listed in one error response (the total is counted)"
    )
    log_level: str = "INFO"
    log_json: bool = True
    service_timeout_seconds: float = 30.0
    ingest_url: str | None = None
    indicators_url: str | None = None
    scoring_url: str | None = None
    notify_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: SecretStr | None = None
    smtp_tls: bool = False
    mail_from: str = "DX Tracker <no-reply@dx.gov.vn>"
    public_url: str = "http://127.0.0.1:8000"

    def database_url_for(self, service: str) -> str:
        """The service's database URL: the configured one, else its own SQLite file."""
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / f'{service}.db').resolve()}"

    def schema_for(self, service: str) -> str:
        """The PostgreSQL schema holding a service's tables."""
        return self.database_schema or f"{self.database_schema_prefix}{service}"

    def service_url(self, service: str) -> str | None:
        """Where the gateway reaches a service in cluster mode."""
        url: str | None = getattr(self, f"{service}_url")
        return url

    def check_production_safety(self) -> None:
        """Refuse to start a production process on development secrets."""
        if self.environment != "production":
            return
        if self.internal_secret.get_secret_value() == "dx-development-internal-secret":
            raise RuntimeError("DX_INTERNAL_SECRET must be set in production")


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
