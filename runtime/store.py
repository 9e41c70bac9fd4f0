"""The store protocol: what a durable flow needs from a backend, and the row it keeps.

Rules of this module: any object with the methods of :class:`Store` is a
store. A backend (:mod:`taskchart.adapters.stores` has SQLite and Redis) may
subclass :class:`StoreBase` and implement its own steps (load, write, the
lease, the list of running flows): :meth:`StoreBase.save` is said once, here,
for every backend.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from typing import TYPE_CHECKING, Literal, Protocol, Required, TypedDict, Unpack

import attrs

from .store_errors import CorruptRecord, flow_ref

if TYPE_CHECKING:
    from .durable import Migrations, Records

__all__ = ["RecordOptions", "Row", "SaveOptions", "Status", "Store", "StoreBase", "stored_row"]

Status = Literal["running", "finished"]


@attrs.frozen
class Row:
    """What a store keeps for one flow: the sequence number, the status and the record."""

    flow_id: str
    seq: int
    status: Status
    data: bytes


def stored_row(flow_id: str, seq: object, status: object, data: object) -> Row:
    """A row from what a store read; :class:`CorruptRecord` for one that is not a flow's."""
    if isinstance(status, bytes):
        status = status.decode("utf-8", "replace")
    if isinstance(seq, bytes):
        seq = int(seq) if seq.isdigit() else None
    if not isinstance(seq, int) or status not in ("running", "finished"):
        raise CorruptRecord(f"stored flow {flow_ref(flow_id)} is not a record")
    if not isinstance(data, bytes):
        raise CorruptRecord(f"stored flow {flow_ref(flow_id)} is not a record")
    return Row(flow_id, seq, status, data)


class RecordOptions(TypedDict, total=False):
    """A store's keywords that shape its records (:class:`~taskchart.runtime.durable.Records`)."""

    keys: Iterable[str | bytes]
    version: int
    migrations: Migrations | None
    retain: float | None
    abandon: float | None


class SaveOptions(TypedDict, total=False):
    """The keywords of :meth:`Store.save`: ``expected`` (required), ``finished``, ``retain``."""

    expected: Required[int]
    finished: bool
    retain: float | None


class Store(Protocol):
    """What a durable flow needs from a backend (every method may raise :class:`StoreError`).

    ``save`` is a compare-and-set: it writes ``seq = expected + 1`` only if the
    stored sequence is ``expected`` (0: no row), else raises :class:`StaleWrite`.
    A finished row is kept ``retain`` seconds (``None``: until deleted, 0: deleted now);
    a running row ``records.abandon`` seconds after its last save.
    """

    records: Records

    async def load(self, flow_id: str) -> Row | None: ...

    async def save(self, flow_id: str, data: bytes, **options: Unpack[SaveOptions]) -> int: ...

    async def acquire(self, flow_id: str, owner: str, ttl: float) -> bool: ...

    async def renew(self, flow_id: str, owner: str, ttl: float) -> bool: ...

    async def release(self, flow_id: str, owner: str) -> None: ...

    async def running(self) -> list[str]: ...

    async def aclose(self) -> None: ...


class StoreBase(Store):
    """A backend's base: :meth:`save` said once, the backend writing its part (:meth:`write`).

    Not part of :class:`Store`: a store of one's own need not have ``write``.
    """

    async def save(
        self,
        flow_id: str,
        data: bytes,
        *,
        expected: int,
        finished: bool = False,
        retain: float | None = None,
    ) -> int:
        status: Status = "finished" if finished else "running"
        keep = retain if finished else self.records.abandon
        return await self.write(flow_id, data, expected, status, keep)

    @abc.abstractmethod
    async def write(
        self, flow_id: str, data: bytes, expected: int, status: Status, keep: float | None
    ) -> int:
        """The backend's part of :meth:`save`: the row kept ``keep`` seconds (``None``: until
        deleted, 0: deleted at once); the new sequence number."""
