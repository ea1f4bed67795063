"""Notifications: digests, deadline reminders and change alerts, sent once through an outbox.

`digests.send_digests` and `reminders.send_followups` compose emails (templates in `templates/<kind>/`,
words in `i18n`, signed links in `links`) into the outbox, whose protocol (`outbox`) sends each email once
through one of the `senders` (outbox folder, SMTP, SendGrid).
"""
