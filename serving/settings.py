"""All configuration of the serving app, read once from the environment (``SERVING_*``).

Handlers never read ``os.environ``: the app factory takes one ``ServingSettings`` and passes
what each part needs. Variable names are listed in ``serving.contract.SETTINGS_ENV``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from serving.contract import DEFAULT_PORT, ENV_PREFIX


class ServingSettings(BaseSettings):
    """Settings of one serving process; every field is ``SERVING_<FIELD>`` in the environment."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid", frozen=True)

    model_uri: str = Field(
        min_length=1,
        description="models:/<name>@<alias> (polled for new versions), models:/<name>/<version>, "
        "runs:/..., or a local MLflow model directory. Required.",
    )
    tracking_uri: str | None = Field(
        default=None,
        description="MLflow tracking and registry URI; None falls back to MLFLOW_TRACKING_URI.",
    )
    host: str = Field(default="0.0.0.0", description="Bind address (containers listen on all).")
    port: int = Field(default=DEFAULT_PORT, ge=1, le=65535, description="8080 is what SageMaker calls.")
    probe_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="A second port, served by its own thread, answering /health/live, /health/ready "
        "and /ping only (never queued behind inference). The Kubernetes Deployment points its "
        "probes at it. Unset: the probes are served on the main port only.",
    )
    workers: int = Field(
        default=1,
        ge=1,
        le=64,
        description="uvicorn worker processes. >1 switches prometheus_client to multiprocess mode.",
    )
    max_batch_rows: int = Field(
        default=1_000, ge=1, description="Most rows one request may carry; more is a 422."
    )
    max_body_bytes: int = Field(
        default=4 * 1024 * 1024, ge=1024, description="Largest request body; more is a 413."
    )
    max_inflight_rows: int = Field(
        default=8_192,
        ge=1,
        description="Admission control: most rows admitted and not yet answered. A request that "
        "arrives beyond it is answered 503 with Retry-After before its body is decoded, so the "
        "server accepts only the load it can answer and the probes keep answering.",
    )
    microbatch_max_rows: int = Field(
        default=4_096,
        ge=1,
        description="Micro-batching: most rows coalesced into one model call (a single request "
        "larger than this still goes alone, unsplit).",
    )
    microbatch_target_ms: float = Field(
        default=25.0,
        ge=0.0,
        le=10_000.0,
        description="Micro-batching: a batch is cut to the rows the measured cost per row lets run "
        "in this time (0 = by rows only).",
    )
    microbatch_max_wait_ms: float = Field(
        default=2.0,
        ge=0.0,
        le=100.0,
        description="Micro-batching: longest a batch waits for more requests, and only under load "
        "(when the previous model call served more than one request). 0 = never wait; requests "
        "that arrive while the model is busy are still coalesced.",
    )
    drift_window: int = Field(
        default=2_000, ge=20, description="Rows kept in the ring buffer of recent inputs."
    )
    drift_min_rows: int = Field(
        default=100, ge=20, description="Fewest buffered rows before a drift check runs."
    )
    drift_interval_s: float = Field(
        default=30.0, gt=0.0, description="Seconds between drift checks (off the request path)."
    )
    drift_reference_path: str | None = Field(
        default=None,
        description="CSV drift reference (header = feature names). Default: the model run's "
        "drift/reference.csv artifact.",
    )
    poll_interval_s: float = Field(
        default=60.0,
        ge=0.0,
        description="Seconds between checks for a new version behind the alias; 0 disables.",
    )
    predict_threads: int = Field(
        default=1,
        ge=1,
        description="Native threads (OpenMP/BLAS) per model call. 1 suits small batches and "
        "avoids oversubscription with several workers.",
    )
    ready_without_model: bool = Field(
        default=False,
        description="Ready (status awaiting_model) while the registry answers that the model or its "
        "alias does not exist yet; scoring answers 503 until the first version loads. Any other "
        "registry error stays not ready. Deployed manifests set it true.",
    )
    download_dir: str | None = Field(
        default=None,
        description="Where model versions are downloaded (one directory per version, the replaced "
        "or failed one deleted). Default: <temp dir>/serving-models.",
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    @model_validator(mode="after")
    def _check(self) -> ServingSettings:
        if self.probe_port is not None and self.probe_port == self.port:
            raise ValueError(f"probe_port ({self.probe_port}) must differ from port ({self.port})")
        if self.drift_min_rows > self.drift_window:
            raise ValueError(
                f"drift_min_rows ({self.drift_min_rows}) must not exceed drift_window ({self.drift_window})"
            )
        return self
