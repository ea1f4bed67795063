"""Every package's tables, registered on SQLModel's metadata for migrations and table creation."""


def import_all_models() -> None:
    import consortium.models
    import crawlers.crawl.models
    import crawlers.store.models
    import crawlers.store.procedures
    import watch.models  # noqa: F401
