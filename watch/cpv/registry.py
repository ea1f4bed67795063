"""The CPV classifier in service: versions kept in the database (`cpv_model`), the active one loaded once per
process, and the retrain that makes a new version when the store has learnt enough.

- `save_model` stores a trained classifier as the next version and makes it the active one in one transaction:
  until that transaction commits the previous version stays active, so routing never lacks a model, and a
  save that fails halfway leaves everything as it was. The last `KEEP_VERSIONS` versions are kept (a bad
  model can be rolled back with `activate`), older ones pruned in the same transaction.
- `active_model` answers the active classifier, read from the database and unpickled once per process and
  engine; each call checks the active version (one indexed row) and reloads only when it changed.
- `retrain` trains on the shipped corpus plus the store's coded notices when the store holds at least
  `min_new` (setting `cpv_retrain_min_new`) more coded notices than the active version saw, or when there is
  no version at all, or when forced. `ensure_model` is what routing calls on a fresh installation: the first
  routing that meets a notice without codes trains the first version (3 to 4 minutes on two idle
  cores, progress in the log) and stores it; the service's `cpv-retrain` job does the same soon after start
  when no version exists.

Training runs in the caller's thread; the service runs it in a process of its own (`python -m
watch.cpv.retrain`, pib/scheduler.py) so that the web side is not slowed.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from crawlers.store.models import NoticeRecord, utcnow

from ..cpv_tables import CpvModelRecord

if TYPE_CHECKING:
    from .corpus import Example
    from .model import CpvClassifier

log = logging.getLogger(__name__)

KEEP_VERSIONS = 3
"""Versions kept (the active one and the two before it); older ones are pruned when a new one is saved."""
STORE_LIMIT = 200_000
"""The latest coded notices of the store a retrain reads at most (with the shipped corpus: minutes of training)."""

model_table: sa.Table = CpvModelRecord.__table__  # type: ignore[attr-defined]
notice_table: sa.Table = NoticeRecord.__table__  # type: ignore[attr-defined]
Progress = Callable[[str], None]


@dataclass(frozen=True)
class ModelVersion:
    """A stored version, without its bytes."""

    version: int
    created_at: datetime
    trained_on: int
    store_notices: int
    metrics: dict[str, Any] | None
    sha256: str
    size: int
    active: bool


@dataclass(frozen=True)
class LoadedModel:
    """The active classifier of a process, with the version it was loaded from."""

    version: int
    sha256: str
    classifier: CpvClassifier


_VERSION_COLUMNS = (
    model_table.c.version,
    model_table.c.created_at,
    model_table.c.trained_on,
    model_table.c.store_notices,
    model_table.c.metrics,
    model_table.c.sha256,
    sa.func.length(model_table.c.content).label("size"),
    model_table.c.active,
)


def _version(row: Any) -> ModelVersion:
    return ModelVersion(**row._mapping)


def versions(engine: Engine) -> list[ModelVersion]:
    """Every stored version, newest first."""
    with engine.connect() as connection:
        return [
            _version(row)
            for row in connection.execute(sa.select(*_VERSION_COLUMNS).order_by(model_table.c.version.desc()))
        ]


def active_version(engine: Engine | Connection) -> ModelVersion | None:
    """The version routing uses, None before the first one is saved."""
    query = sa.select(*_VERSION_COLUMNS).where(model_table.c.active.is_(True)).order_by(model_table.c.version.desc())
    if isinstance(engine, Connection):
        row = engine.execute(query.limit(1)).first()
    else:
        with engine.connect() as connection:
            row = connection.execute(query.limit(1)).first()
    return _version(row) if row is not None else None


def _prune(connection: Connection, keep: int) -> int:
    """Delete the versions older than the `keep` newest (never the active one)."""
    kept = sa.select(model_table.c.version).order_by(model_table.c.version.desc()).limit(keep).scalar_subquery()
    result = connection.execute(
        model_table.delete().where(model_table.c.active.is_(False), model_table.c.version.not_in(kept))
    )
    return result.rowcount or 0


def save_model(
    engine: Engine,
    model: CpvClassifier | bytes,
    *,
    trained_on: int,
    store_notices: int,
    metrics: dict[str, Any] | None = None,
    keep: int = KEEP_VERSIONS,
) -> ModelVersion:
    """Store a classifier as the next version and make it the active one, in one transaction."""
    content = model if isinstance(model, bytes) else model.to_bytes()
    sha256 = hashlib.sha256(content).hexdigest()
    with engine.begin() as connection:
        last = connection.execute(sa.select(sa.func.max(model_table.c.version))).scalar()
        version = (last or 0) + 1
        connection.execute(
            model_table.insert().values(
                version=version,
                created_at=utcnow(),
                trained_on=trained_on,
                store_notices=store_notices,
                metrics=metrics,
                sha256=sha256,
                content=content,
                active=False,
            )
        )
        _activate(connection, version)
        pruned = _prune(connection, keep)
    log.info(
        "CPV model version %s saved and active (%s bytes, %s older versions pruned)", version, len(content), pruned
    )
    found = active_version(engine)
    assert found is not None
    return found


def _activate(connection: Connection, version: int) -> None:
    connection.execute(model_table.update().where(model_table.c.version != version).values(active=False))
    connection.execute(model_table.update().where(model_table.c.version == version).values(active=True))


def activate(engine: Engine, version: int) -> None:
    """Make a stored version the active one again (to go back from a bad retrain)."""
    with engine.begin() as connection:
        exists = connection.execute(sa.select(model_table.c.id).where(model_table.c.version == version)).first()
        if exists is None:
            raise LookupError(f"no CPV model version {version} (kept: the last {KEEP_VERSIONS})")
        _activate(connection, version)


# Loading: once per process and engine, again when the active version changed ---------------------------------

_loaded: weakref.WeakKeyDictionary[Engine, LoadedModel] = weakref.WeakKeyDictionary()
_loading = threading.Lock()


def active_model(engine: Engine) -> LoadedModel | None:
    """The active classifier; a cheap check of the active version, a load only when it changed."""
    with engine.connect() as connection:
        current = connection.execute(
            sa.select(model_table.c.version, model_table.c.sha256).where(model_table.c.active.is_(True)).limit(1)
        ).first()
    if current is None:
        return None
    loaded = _loaded.get(engine)
    if loaded is not None and (loaded.version, loaded.sha256) == tuple(current):
        return loaded
    with _loading:
        loaded = _loaded.get(engine)
        if loaded is not None and (loaded.version, loaded.sha256) == tuple(current):
            return loaded
        from .model import OutdatedModel

        try:
            loaded = _load(engine, current.version)
        except OutdatedModel as error:
            log.warning("CPV model version %s cannot be used (%s): a new version is needed", current.version, error)
            return None
        if loaded is not None:
            _loaded[engine] = loaded
        return loaded


def _load(engine: Engine, version: int) -> LoadedModel | None:
    from .model import CpvClassifier

    with engine.connect() as connection:
        row = connection.execute(
            sa.select(model_table.c.sha256, model_table.c.content).where(model_table.c.version == version)
        ).first()
    if row is None:  # pruned between the check and the load: the next call finds the newer one
        return None
    content = bytes(row.content)
    if hashlib.sha256(content).hexdigest() != row.sha256:
        raise ValueError(f"CPV model version {version}: its bytes do not match their sha256 (damaged row)")
    started = time.perf_counter()
    classifier = CpvClassifier.from_bytes(content)
    log.info("CPV model version %s loaded in %.1f s", version, time.perf_counter() - started)
    return LoadedModel(version, row.sha256, classifier)


# Retraining ----------------------------------------------------------------------------------------------------

_training = threading.Lock()
"""One training at a time in a process (the retrain job and a routing that found no model)."""


def coded_notices(engine: Engine) -> int:
    """How many stored notices have CPV codes (what a retrain can learn from the store)."""
    with engine.connect() as connection:
        return connection.execute(
            sa.select(sa.func.count()).select_from(notice_table).where(notice_table.c.cpv_main.isnot(None))
        ).scalar_one()


@dataclass
class RetrainSummary:
    trained: bool
    reason: str
    """Why it trained (`no model yet`, `forced`, `2,345 new coded notices`) or why not."""
    version: int | None = None
    """The active version after the run."""
    previous: int | None = None
    shipped: int = 0
    store: int = 0
    """Examples from the shipped corpus and from the store."""
    store_notices: int = 0
    gained: int = 0
    seconds: float = 0.0

    def describe(self) -> str:
        if not self.trained:
            return f"CPV model: not retrained ({self.reason}); version {self.version} stays active"
        before = f"replaces version {self.previous}" if self.previous else "the first one"
        return (
            f"CPV model: version {self.version} trained in {self.seconds:.0f} s on {self.shipped + self.store:,} "
            f"examples ({self.shipped:,} shipped, {self.store:,} from the store) and active, {before} ({self.reason})"
        )

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def train_classifier(examples: Sequence[Example], *, progress: Progress) -> CpvClassifier:
    """The one place a version is trained (the tests put a small classifier in its place)."""
    from .model import CpvClassifier

    return CpvClassifier.train(examples, progress=progress)


def retrain(
    engine: Engine,
    *,
    force: bool = False,
    min_new: int | None = None,
    progress: Progress | None = None,
    store_limit: int = STORE_LIMIT,
    sample: int = 1,
) -> RetrainSummary:
    """Train and activate a new version if there is none, if forced, or if the store has at least `min_new`
    more coded notices than the active version saw. `sample` > 1 trains on every sample-th shipped example
    only (`pib demo`: seconds instead of minutes, for a model that only has to show the loop)."""
    if min_new is None:
        from config.settings import get_settings

        min_new = get_settings().cpv_retrain_min_new
    say = progress or log.info
    with _training:
        active = active_version(engine)
        store_notices = coded_notices(engine)
        gained = store_notices - (active.store_notices if active else 0)
        previous = active.version if active else None
        if active is None:
            reason = "no model yet"
        elif force:
            reason = "forced"
        elif active_model(engine) is None:  # saved by an older PIB in a format this one cannot read
            reason = f"version {active.version} cannot be read by this version of PIB"
        elif gained >= min_new:
            reason = f"{gained:,} new coded notices in the store"
        else:
            return RetrainSummary(
                False,
                f"{gained:,} new coded notices in the store since version {active.version}, {min_new:,} needed",
                version=active.version,
                previous=previous,
                store_notices=store_notices,
                gained=gained,
            )
        return _train_and_save(engine, reason, previous, store_notices, gained, say, store_limit, sample)


def _train_and_save(
    engine: Engine,
    reason: str,
    previous: int | None,
    store_notices: int,
    gained: int,
    say: Progress,
    store_limit: int,
    sample: int = 1,
) -> RetrainSummary:
    from .corpus import shipped_examples, store_examples

    started = time.perf_counter()
    say(f"CPV model: training ({reason})…")
    corpus = shipped_examples()[::sample]
    stored = store_examples(engine, limit=store_limit) if store_notices else []
    say(f"CPV model: {len(corpus):,} shipped examples and {len(stored):,} coded notices of the store")
    classifier = train_classifier([*corpus, *stored], progress=lambda message: say(f"CPV model: {message}"))
    seconds = time.perf_counter() - started
    metrics = {"seconds": round(seconds, 1), "shipped": len(corpus), "store": len(stored), "reason": reason}
    if sample > 1:
        metrics["sample"] = sample
    saved = save_model(
        engine, classifier, trained_on=len(corpus) + len(stored), store_notices=store_notices, metrics=metrics
    )
    return RetrainSummary(
        True,
        reason,
        version=saved.version,
        previous=previous,
        shipped=len(corpus),
        store=len(stored),
        store_notices=store_notices,
        gained=gained,
        seconds=seconds,
    )


def ensure_model(engine: Engine, *, progress: Progress | None = None) -> LoadedModel:
    """The active classifier, training and storing the first version when there is none (fresh install)."""
    loaded = active_model(engine)
    if loaded is None:
        log.info("CPV model: none usable stored; training one from the shipped corpus (minutes)")
        retrain(engine, progress=progress)
        loaded = active_model(engine)
    if loaded is None:
        raise RuntimeError("CPV model: trained but not found active")
    return loaded
