"""``python -m serving [serve]``: run the app under uvicorn with ``SERVING_*`` settings.

Locally, against a model directory or a registry::

    SERVING_MODEL_URI=models:/demand@champion SERVING_TRACKING_URI=http://127.0.0.1:5000 \
        SERVING_PORT=8080 uv run python -m serving

A missing or invalid ``SERVING_*`` variable is one line on stderr naming it (exit status 1).

SageMaker starts containers as ``<image> serve``; the argument is accepted and ignored. With
``SERVING_WORKERS`` > 1 prometheus_client runs in multiprocess mode: ``PROMETHEUS_MULTIPROC_DIR``
is created under the temp dir (a tmpfs in the read-only container) when unset, and emptied at
start, before any worker imports prometheus_client.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "serve":
        args = args[1:]
    if args:
        sys.exit(f"usage: python -m serving [serve]   (configure with SERVING_* variables), got {args}")

    from serving.contract import PROMETHEUS_MULTIPROC_DIR_ENV

    settings = load_settings()
    if settings.workers > 1:
        directory = os.environ.get(PROMETHEUS_MULTIPROC_DIR_ENV) or os.path.join(
            tempfile.gettempdir(), "serving-prometheus"
        )
        shutil.rmtree(directory, ignore_errors=True)
        os.makedirs(directory, exist_ok=True)
        os.environ[PROMETHEUS_MULTIPROC_DIR_ENV] = directory
    os.environ.setdefault("OMP_NUM_THREADS", str(settings.predict_threads))

    import uvicorn

    uvicorn.run(
        "serving.app:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=settings.workers,
        log_level=settings.log_level,
        access_log=False,
        proxy_headers=False,
        timeout_graceful_shutdown=10,
    )


def load_settings() -> object:
    """``ServingSettings()`` from the environment, or exit with one line per bad variable."""
    from pydantic import ValidationError

    from serving.contract import ENV_PREFIX
    from serving.settings import ServingSettings

    try:
        return ServingSettings()  # type: ignore[call-arg]
    except ValidationError as exc:
        problems = []
        for err in exc.errors(include_url=False):
            field = str(err["loc"][0]) if err.get("loc") else ""
            var = ENV_PREFIX + field.upper() if field else "SERVING_* settings"
            if err.get("type") == "missing":
                info = ServingSettings.model_fields.get(field)
                hint = f" ({info.description.split('. ')[0]})" if info is not None and info.description else ""
                problems.append(f"{var} is required{hint}")
            else:
                value = err.get("input")
                got = f" (got {value!r})" if isinstance(value, (str, int, float)) else ""
                problems.append(f"{var}: {err.get('msg', 'invalid')}{got}")
        sys.exit("serving: " + "; ".join(problems))


if __name__ == "__main__":
    main()
