"""The table contracts a plugin host knows: the core's own, plus what plugins declare.

Nothing is filled at import time. :func:`builtin_contracts` lists the core's tables (``bronze``,
``silver``, ``ops``); a :class:`TableRegistry` starts from them and takes the contracts plugins add
in their ``cryptolake_register_tables(tables)`` hook. The host builds one per instance
(``host.tables``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from cryptolake.core.errors import ConfigError, PluginError
from cryptolake.core.tables._contract import TableContract
from cryptolake.core.tables.bronze import CONTRACTS as BRONZE
from cryptolake.core.tables.gold import CONTRACTS as GOLD
from cryptolake.core.tables.ops import CONTRACTS as OPS
from cryptolake.core.tables.publications import CONTRACTS as PUBLICATIONS
from cryptolake.core.tables.silver import CONTRACTS as SILVER

#: The name under which the core's own tables are registered.
CORE_OWNER = "cryptolake-core"


def builtin_contracts() -> dict[str, TableContract]:
    """The core's own tables (``bronze.*``, ``silver.*``, ``gold.*``, ``ops.*``), by identifier."""
    return {c.identifier: c for c in (*BRONZE, *SILVER, *GOLD, *OPS, *PUBLICATIONS)}


def all_contracts() -> dict[str, TableContract]:
    """The core's own tables, sorted by identifier. Plugins' tables are in ``host.tables``."""
    return dict(sorted(builtin_contracts().items()))


def get_contract(identifier: str) -> TableContract:
    """The core's contract for ``identifier`` (``bronze.binance_klines``…); for a plugin's own
    table use ``host.tables.get(identifier)``."""
    contracts = builtin_contracts()
    try:
        return contracts[identifier]
    except KeyError:
        raise ConfigError(
            f"no table contract for {identifier!r}; declared: {', '.join(sorted(contracts))}"
        ) from None


class TableRegistry:
    """Table contracts by identifier, each with the plugin that declared it.

    ``add`` refuses a second, different contract for an identifier (the core's tables included),
    and a contract outside the namespaces a plugin may write (:attr:`namespaces`).
    """

    #: Namespaces a plugin may declare tables in. ``ops`` belongs to the core.
    namespaces: frozenset[str] = frozenset({"bronze", "silver", "gold", "ml"})

    def __init__(self, contracts: Iterable[TableContract] = (), *, owner: str = CORE_OWNER) -> None:
        self._contracts: dict[str, TableContract] = {}
        self._owners: dict[str, str] = {}
        #: Set by the plugin host while it calls one plugin's ``cryptolake_register_tables``.
        self.current_plugin = ""
        for contract in contracts:
            self._contracts[contract.identifier] = contract
            self._owners[contract.identifier] = owner

    @classmethod
    def with_builtins(cls) -> TableRegistry:
        return cls(builtin_contracts().values())

    def add(self, contract: TableContract) -> TableContract:
        """Declare ``contract``; declaring the same contract again is a no-op."""
        who = self.current_plugin or "?"
        if not isinstance(contract, TableContract):
            raise PluginError(who, f"tables.add() takes a TableContract, got {type(contract).__name__}")
        if contract.namespace not in self.namespaces:
            raise PluginError(
                who,
                f"table {contract.identifier}: a plugin may declare tables in "
                f"{', '.join(sorted(self.namespaces))} only",
            )
        existing = self._contracts.get(contract.identifier)
        if existing is not None:
            if existing == contract:
                return existing
            raise PluginError(
                who,
                f"table {contract.identifier} is already declared by "
                f"{self._owners[contract.identifier]!r} with a different contract",
            )
        self._contracts[contract.identifier] = contract
        self._owners[contract.identifier] = who
        return contract

    def get(self, identifier: str) -> TableContract:
        try:
            return self._contracts[identifier]
        except KeyError:
            raise ConfigError(
                f"no table contract for {identifier!r}; declared: "
                f"{', '.join(sorted(self._contracts)) or 'none'}"
            ) from None

    def owner(self, identifier: str) -> str:
        """Who declared ``identifier``: a plugin's name, or ``cryptolake-core``."""
        self.get(identifier)
        return self._owners[identifier]

    def of_plugin(self, plugin: str) -> list[TableContract]:
        return [self._contracts[i] for i in self.identifiers() if self._owners[i] == plugin]

    def identifiers(self) -> list[str]:
        return sorted(self._contracts)

    def discard(self, identifiers: Iterable[str]) -> None:
        """Forget contracts (the host does, when the plugin that added them failed)."""
        for ident in identifiers:
            if self._owners.get(ident) != CORE_OWNER:
                self._contracts.pop(ident, None)
                self._owners.pop(ident, None)

    def __contains__(self, identifier: object) -> bool:
        return identifier in self._contracts

    def __iter__(self) -> Iterator[TableContract]:
        return iter(self._contracts[i] for i in self.identifiers())

    def __len__(self) -> int:
        return len(self._contracts)
