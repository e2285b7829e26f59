"""The local lakehouse stack: installers, a process supervisor, health probes and bootstrap.

``cryptolake stack setup | up | status | down | logs`` (see :mod:`cryptolake.core.stack.cli`) is the
user interface; :class:`Stack` is the same thing for code (the test harness uses it).
"""

from cryptolake.core.stack._stack import ServiceStatus, Stack, UpResult
from cryptolake.core.stack.services import INFRA_SERVICES, SERVICE_NAMES

__all__ = ["INFRA_SERVICES", "SERVICE_NAMES", "ServiceStatus", "Stack", "UpResult"]
