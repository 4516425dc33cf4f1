"""Configuration read from the environment (prefix ``DX_``); one class for every process."""

from __future__ import annotations

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url

SERVICES = ("ingest", "indicators", "scoring", "notify")

DEVELOPMENT_SECRET = "dx-development-internal-secret"
#: Secrets and tokens published with the project (the development default, docker-compose.yml's
#: and the local cluster's defaults): anyone may know them, so production refuses them.
KNOWN_SECRETS = frozenset(
    {
        DEVELOPMENT_SECRET,
        "compose-only-internal-secret-change-me",
        "compose-only-admin-token-change-me",
        "local-cluster-secret",
        "change-me",
    }
)
#: Markers of a placeholder left in place (deploy/k8s/base/secret.yaml, the compose file).
PLACEHOLDER_MARKERS = ("REPLACE_ME", "change-me", "compose-only")
#: The shortest secret or token production accepts (the HMAC key and the bootstrap token).
MIN_SECRET_LENGTH = 32


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
        SecretStr(DEVELOPMENT_SECRET),
        description="HMAC key the gateway signs service calls with",
    )
    rate_limit_per_minute: int = Field(1200, description="Default per-key request budget; 0 = off")
    rate_limit_shared: bool | None = Field(
        None,
        description="Count budgets in the gateway's database, shared by every gateway; default: "
        "when the gateway fronts services over HTTP on PostgreSQL (the cluster)",
    )
    unknown_key_limit_per_minute: int = Field(
        60, ge=0, description="Key lookups one client address may cause a minute; 0 = off"
    )
    outbox_poll_seconds: float = 0.5
    outbox_batch_size: int = 500
    max_body_bytes: int = Field(25 * 1024 * 1024, description="Largest request body accepted")
    min_free_disk_bytes: int = Field(
        64 * 1024 * 1024,
        ge=0,
        description="Below this free space on the disk of the data directory, /readyz says 503",
    )
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
        """Refuse to start a production process on secrets anyone may know.

        The development secret, the compose file's and the local cluster's defaults, a
        placeholder left in place and anything shorter than 32 characters are refused, for the
        gateway's HMAC key, the bootstrap admin token and the database password.
        """
        if self.environment != "production":
            return
        problems = []
        secrets = {"DX_INTERNAL_SECRET": self.internal_secret.get_secret_value()}
        if self.bootstrap_admin_token is not None:
            secrets["DX_BOOTSTRAP_ADMIN_TOKEN"] = self.bootstrap_admin_token.get_secret_value()
        for name, value in secrets.items():
            if _published(value):
                problems.append(f"{name} is a published default or a placeholder")
            elif len(value) < MIN_SECRET_LENGTH:
                problems.append(f"{name} is shorter than {MIN_SECRET_LENGTH} characters")
        password = make_url(self.database_url).password if self.database_url else None
        if password is not None and _published(str(password)):
            problems.append("the password in DX_DATABASE_URL is a published default")
        if problems:
            raise RuntimeError(
                "refusing to start with DX_ENVIRONMENT=production: " + "; ".join(problems)
            )


def _published(value: str) -> bool:
    return value in KNOWN_SECRETS or any(marker in value for marker in PLACEHOLDER_MARKERS)


@lru_cache
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings()
