"""Ingest's own configuration (environment, prefix ``DX_INGEST_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

#: The most values a submission may ever carry, whatever ``DX_INGEST_MAX_VALUES`` says: the
#: request schema stops reading a body's values there (past it, without validating them).
MAX_VALUES_CEILING = 10_000


class IngestSettings(BaseSettings):
    """Limits on what one request may carry, and the calendar policy of submissions."""

    model_config = SettingsConfigDict(env_prefix="DX_INGEST_", extra="ignore")

    max_values: int = Field(
        1000, ge=1, le=MAX_VALUES_CEILING, description="Values one submission may carry"
    )
    max_batch_items: int = Field(1000, ge=1, description="Submissions one batch may carry")
    max_request_values: int = Field(
        100_000, ge=1, description="Values (or file rows) one batch, upload or import may carry"
    )
    max_upload_bytes: int = Field(10 * 1024 * 1024, ge=1, description="Largest uploaded file")
    max_xlsx_uncompressed_bytes: int = Field(
        50 * 1024 * 1024, ge=1, description="Largest total an XLSX may expand to"
    )
    max_xlsx_ratio: float = Field(
        100.0, gt=1, description="Largest expansion (uncompressed / file size) of an XLSX"
    )
    max_xlsx_cells: int = Field(
        2_000_000, ge=1, description="Cells (rows × columns read) an XLSX may make ingest read"
    )
    max_xlsx_shared_strings: int = Field(
        200_000, ge=1, description="Shared strings an XLSX may hold"
    )
    max_file_cpu_seconds: float = Field(
        10.0, gt=0, description="CPU seconds reading one uploaded or imported file may take"
    )
    accept_open_periods: bool = Field(
        False, description="Accept values for a period that has not ended yet"
    )
    catalogue_wait_seconds: float = Field(
        10.0,
        ge=0,
        description="How long a submission waits for a first catalogue before a 503 (start-up)",
    )
    import_chunk: int = Field(
        200, ge=1, description="Submissions per transaction of a non-atomic upload or import"
    )
    sheet_workers: int = Field(
        1, ge=1, le=16, description="Worker processes reading uploaded sheets (off the event loop)"
    )
    group_commit_items: int = Field(
        256, ge=1, description="Most single submissions that share one transaction"
    )
    group_commit_wait_ms: float = Field(
        0.0,
        ge=0,
        le=50,
        description="How long a transaction waits for more submissions to share it",
    )
    reconcile_after_seconds: float = Field(
        900.0,
        gt=0,
        description="A submission still without a verdict this long after arrival is announced "
        "again (its event or verdict was lost)",
    )
    reconcile_interval_seconds: float = Field(
        30.0, gt=0, description="How often the leader looks for such submissions"
    )
    reconcile_batch_size: int = Field(
        500, ge=1, description="Submissions announced again per pass at most"
    )
