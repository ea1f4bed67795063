"""What the one-click links of the emails do: verify the signed token, then act for that user and notice.

A GET shows what the link will do with one button; the POST does it. Mail scanners and link previews
fetch links with GET, and must not flag a firm's interest or unsubscribe anyone by themselves; the
`List-Unsubscribe-Post` one-click of mail clients (RFC 8058) is a POST and acts at once. An altered,
foreign or expired link gets a page saying so and changes nothing.

- interested: the firm's watch feedback becomes `interesting` (so reminders and change alerts follow), and
  the firm expresses its anonymous interest in the tender in the consortium (role partner, the whole
  tender) unless it has one already, which is left as the firm declared it.
- not relevant: the feedback becomes `not-relevant`, and the firm's interest in the tender, if any, is
  withdrawn.
- unsubscribe: the user receives no more emails (`member_user.unsubscribed_at`).

An "interested" or "not relevant" link acts once: the POST that acts spends it (`notification_spent_link`),
in the transaction of the verdict. So the latest decision wins: the "interested" link of an old email,
clicked again after "not relevant", changes nothing and says so. Clicked again while the verdict is still
the one it gave (a double click, a reload), it answers as done. Unsubscribing is not spent: it only ever
goes one way, and mail clients may repeat the one-click POST.

The feedback is committed first: the consortium's interest follows it in transactions of its own, and a
consortium error is logged without failing the page (the verdict, which the firm asked for, is kept).
"""

from __future__ import annotations

import hashlib
import logging
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine

from config.settings import Settings, get_settings
from consortium.services import ConsortiumError, member_view, record_interest, withdraw_interest
from crawlers.store.models import utcnow
from crawlers.store.service import notice_table
from notifications.i18n import EXPIRED_LINK, GONE_LINK, INVALID_LINK, translator
from notifications.links import LinkClaim, LinkError, LinkSigner
from notifications.models import spent_link_table
from notifications.render import render_page, short
from watch.models import Feedback, User

log = logging.getLogger(__name__)

user_table: sa.Table = User.__table__  # type: ignore[attr-defined]
feedback_table: sa.Table = Feedback.__table__  # type: ignore[attr-defined]

PAGE_KEYS = {"interested": "interested", "not-relevant": "not_relevant", "unsubscribe": "unsubscribe"}
VERDICTS = {"interested": "interesting", "not-relevant": "not-relevant"}
SPENT_LINK = (
    "Ce lien a déjà servi, et votre choix a changé depuis : rien n'a été changé. Un lien n'agit qu'une fois.",
    "Deze link werd al gebruikt en uw keuze is sindsdien gewijzigd: er is niets gewijzigd. "
    "Een link werkt maar één keer.",
    "This link was already used, and your choice has changed since: nothing was changed. A link acts only once.",
)


def _insert(connection: Connection, table: sa.Table) -> Any:
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    return dialect.insert(table)


def _set_feedback(connection: Connection, *, member_id: int, notice_id: int, verdict: str, now: datetime) -> None:
    """The firm's verdict on the notice; `created_at` is when this verdict was given."""
    insert = _insert(connection, feedback_table).values(
        member_id=member_id, notice_id=notice_id, verdict=verdict, created_at=now
    )
    connection.execute(
        insert.on_conflict_do_update(
            index_elements=["member_id", "notice_id"],
            set_={"verdict": verdict, "created_at": now},
            where=feedback_table.c.verdict != verdict,
        )
    )


def _verdict(connection: Connection, *, member_id: int, notice_id: int) -> str | None:
    return connection.execute(
        sa.select(feedback_table.c.verdict).where(
            feedback_table.c.member_id == member_id, feedback_table.c.notice_id == notice_id
        )
    ).scalar()


def _spend(connection: Connection, *, token: str, claim: LinkClaim, now: datetime) -> bool:
    """Marks the link used; False if it was already (by this or a concurrent request, which then wins)."""
    connection.execute(sa.delete(spent_link_table).where(spent_link_table.c.expires < now))
    inserted = connection.execute(
        _insert(connection, spent_link_table)
        .values(
            token_hash=hashlib.sha256(token.encode()).hexdigest(),
            user_id=claim.user_id,
            notice_id=claim.notice_id,
            action=claim.action,
            used_at=now,
            expires=claim.expires,
        )
        .on_conflict_do_nothing()
        .returning(spent_link_table.c.token_hash)
    )
    return inserted.first() is not None


def _is_spent(connection: Connection, token: str) -> bool:
    digest = hashlib.sha256(token.encode()).hexdigest()
    return (
        connection.execute(
            sa.select(spent_link_table.c.token_hash).where(spent_link_table.c.token_hash == digest)
        ).first()
        is not None
    )


def _apply(connection: Connection, claim: LinkClaim, member_id: int, now: datetime) -> None:
    if claim.action == "unsubscribe":
        connection.execute(
            sa.update(user_table)
            .where(user_table.c.id == claim.user_id, user_table.c.unsubscribed_at.is_(None))
            .values(unsubscribed_at=now)
        )
        return
    assert claim.notice_id is not None  # tokens of these actions are signed with a notice
    verdict = VERDICTS[claim.action]
    _set_feedback(connection, member_id=member_id, notice_id=claim.notice_id, verdict=verdict, now=now)


def _follow_interest(engine: Engine, claim: LinkClaim, member_id: int) -> None:
    """The firm's anonymous interest in the tender follows its verdict (after the verdict is committed)."""
    if claim.notice_id is None:
        return
    try:
        own = member_view(engine, tender=claim.notice_id, member_id=member_id).own
        if claim.action == "interested" and own is None:
            record_interest(engine, member_id=member_id, tender=claim.notice_id)
        elif claim.action == "not-relevant" and own is not None:
            withdraw_interest(engine, member_id=member_id, tender=claim.notice_id)
    except ConsortiumError as error:
        log.warning(
            "link %s: the consortium interest of member %s in notice %s is unchanged: %s",
            claim.action,
            member_id,
            claim.notice_id,
            error,
        )


def handle_link(
    engine: Engine,
    token: str,
    *,
    method: str = "GET",
    now: datetime | None = None,
    settings: Settings | None = None,
) -> tuple[int, str]:
    """The HTTP status and HTML page answering a link: GET describes, POST acts."""
    settings = settings or get_settings()
    now = now or utcnow()
    try:
        claim = LinkSigner(settings.secret_key.get_secret_value()).verify(token, now=now)
    except LinkError as error:
        status, texts = (410, EXPIRED_LINK) if error.reason == "expired" else (400, INVALID_LINK)
        return status, render_page(language="en", paragraphs=list(texts))
    if method not in ("GET", "HEAD", "POST"):
        return 405, render_page(language="en", paragraphs=["GET or POST"])
    with engine.begin() as connection:
        user = connection.execute(
            sa.select(user_table.c.member_id, user_table.c.email, user_table.c.language).where(
                user_table.c.id == claim.user_id
            )
        ).first()
        title = None
        if claim.notice_id is not None:
            title = connection.execute(
                sa.select(notice_table.c.title).where(notice_table.c.id == claim.notice_id)
            ).scalar()
        if user is None or (claim.notice_id is not None and title is None):
            return 410, render_page(language="en", paragraphs=list(GONE_LINK))
        spent = False
        if claim.action in VERDICTS:
            assert claim.notice_id is not None  # tokens of these actions are signed with a notice
            spent = (
                not _spend(connection, token=token, claim=claim, now=now)
                if method == "POST"
                else _is_spent(connection, token)
            )
            verdict = _verdict(connection, member_id=user.member_id, notice_id=claim.notice_id)
            if spent and verdict != VERDICTS[claim.action]:
                return 409, render_page(language=user.language, paragraphs=list(SPENT_LINK))
        acted = method == "POST" and not spent
        if acted:
            _apply(connection, claim, user.member_id, now)
    t = translator(user.language)
    page = PAGE_KEYS[claim.action]
    if acted:
        _follow_interest(engine, claim, user.member_id)
    if method == "POST" or spent:  # a spent link whose verdict stands: done already, nothing to confirm
        return 200, render_page(language=user.language, paragraphs=[t(f"page.done.{page}", email=user.email)])
    question = t(f"page.confirm.{page}", email=user.email)
    paragraphs = [question, short(title)] if title else [question]
    return 200, render_page(language=user.language, paragraphs=paragraphs, button=t("page.confirm"))
