"""S3 access to the warehouse store (S3Proxy locally, any S3 store when scaled out)."""

from __future__ import annotations

from typing import Any

from cryptolake.core.settings import Settings, get_settings


def s3_client(settings: Settings | None = None, *, timeout: float = 30.0, retries: int = 3) -> Any:
    """A boto3 S3 client for the configured endpoint (path-style addressing)."""
    import boto3
    from botocore.config import Config

    s = (settings or get_settings()).s3
    return boto3.client(
        "s3",
        endpoint_url=s.endpoint,
        region_name=s.region,
        aws_access_key_id=s.access_key,
        aws_secret_access_key=s.secret_key.get_secret_value(),
        config=Config(
            s3={"addressing_style": "path"},
            connect_timeout=timeout,
            read_timeout=timeout,
            retries={"max_attempts": retries + 1, "mode": "standard"},
            request_checksum_calculation="when_required",
            response_checksum_validation="when_required",
        ),
    )


def ensure_bucket(settings: Settings | None = None, bucket: str | None = None) -> bool:
    """Create the warehouse bucket if it is missing; True if it was created."""
    settings = settings or get_settings()
    name = bucket or settings.s3.bucket
    client = s3_client(settings)
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    if name in existing:
        return False
    client.create_bucket(Bucket=name)
    return True


def fileio_properties(settings: Settings | None = None) -> dict[str, str]:
    """pyiceberg FileIO properties for the warehouse store."""
    s = (settings or get_settings()).s3
    return {
        "s3.endpoint": s.endpoint,
        "s3.access-key-id": s.access_key,
        "s3.secret-access-key": s.secret_key.get_secret_value(),
        "s3.region": s.region,
        "s3.path-style-access": "true",
    }
