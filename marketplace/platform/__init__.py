"""Platform connectors: where creator and work statistics come from (see ``base.PlatformConnector``).

``get_connector(config)`` returns the connector ``PLATFORM_CONNECTOR`` names. Only "sandbox" (the seeded
simulator in ``sandbox.py``) exists today; a real platform becomes another entry in ``CONNECTORS``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from marketplace.platform.base import AccountInfo, AccountStats, PlatformConnector, WorkInfo


def _sandbox(config: Mapping[str, Any]) -> PlatformConnector:
    from marketplace.platform.sandbox import SandboxPlatform

    return SandboxPlatform(seed=int(config.get("PLATFORM_SANDBOX_SEED", 2026)))


CONNECTORS: dict[str, Callable[[Mapping[str, Any]], PlatformConnector]] = {"sandbox": _sandbox}


def get_connector(config: Mapping[str, Any]) -> PlatformConnector:
    """The connector configured by ``PLATFORM_CONNECTOR`` (default "sandbox").

    :raises ConfigError: an unknown connector name.
    """
    from marketplace.config import ConfigError

    name = config.get("PLATFORM_CONNECTOR") or "sandbox"
    if name not in CONNECTORS:
        raise ConfigError(f"PLATFORM_CONNECTOR must be one of {', '.join(CONNECTORS)}, got {name!r}")
    return CONNECTORS[name](config)


__all__ = ["CONNECTORS", "AccountInfo", "AccountStats", "PlatformConnector", "WorkInfo", "get_connector"]
