"""Every package's tables, registered on SQLModel's metadata for migrations and table creation."""

import importlib

MODEL_MODULES = (
    "crawlers.store.models",
    "crawlers.store.procedures",
    "crawlers.store.search",
    "crawlers.crawl.models",
    "watch.models",
    "watch.organisations",
    "watch.cpv_tables",
    "notifications.models",
    "consortium.models",
    "pib.job_store",
    "pib.web.models",
    "pib.web.calendar",
    "pib.web.audit",
    "pib.job_results",
)


def import_all_models() -> None:
    for name in MODEL_MODULES:
        importlib.import_module(name)
