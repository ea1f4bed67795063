"""Every package's tables, registered on SQLModel's metadata for migrations and table creation."""


def import_all_models() -> None:
    import crawlers.store.models  # noqa: F401
