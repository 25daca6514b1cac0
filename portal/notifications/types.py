"""The notification types, declared in code (SPEC §4, seed 001).

Each type says whom it concerns, whether it is grouped over a window or sent at once, which
delivery choices a person may make, and how its pending notification absorbs a new event.
A producer only calls ``notify(type_key, ...)``; everything else is decided here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from portal.accounts.models import Profile


class Channel(StrEnum):
    """The ways Carnet reaches a person, one vocabulary for every page: a notification's
    delivery and the person's choice (none, home page, e-mail, daily e-mail), and what reaches
    a guardian at all (home page, e-mail, SMS: portal.admin.reach). Their labels:
    present.channel_label."""

    NONE = "none"
    HOMEPAGE = "homepage"
    EMAIL = "email"
    #: One e-mail a day, at the hour the person picks, for batched types (SPEC §12).
    DAILY = "daily"
    #: Never a notification's choice: a guardian's mobile with their consent (portal.sms).
    SMS = "sms"


class Grouping(StrEnum):
    #: A later event replaces the content: 'homework for 5B changed 3 times' -> the latest.
    LATEST = "latest"
    #: A later event is added to a list: 'three new messages' -> one notification, three lines.
    LIST = "list"


A, T, S, P, U = Profile.ADMIN, Profile.TEACHER, Profile.STAFF, Profile.PARENT, Profile.PUPIL
EVERYONE = frozenset({A, T, S, P, U})


@dataclass(frozen=True)
class NotificationType:
    key: str
    label: object  # lazy string
    profiles: frozenset[Profile]
    batched: bool
    #: The choices a person may make among none / homepage / email (daily is added for batched
    #: types that allow e-mail).
    channels: tuple[Channel, ...]
    #: Choice of a person who has not chosen; per profile, else the first e-mail-less choice.
    defaults: dict[Profile, Channel]
    #: 'One line' for an event: a template over the payload, in the reader's language.
    line: Callable[[dict], str]
    #: Words over the whole notification: ``headline(payload, events)``.
    headline: Callable[[dict, int], str]
    grouping: Grouping = Grouping.LATEST
    mandatory: bool = False
    discreet: bool = False
    waits_for_visibility: bool = False
    #: The direction may force an e-mail, overriding none / homepage (never a refusal of e-mail).
    forcible: bool = False
    #: Payload keys every event must carry (besides the optional 'url').
    needs: tuple[str, ...] = field(default=())

    def choices(self) -> tuple[Channel, ...]:
        choices = list(self.channels)
        if self.batched and Channel.EMAIL in choices:
            choices.append(Channel.DAILY)
        if not self.mandatory:
            choices.insert(0, Channel.NONE)
        return tuple(choices)

    def default_for(self, profile: Profile) -> Channel:
        return self.defaults.get(profile, self.channels[0])

    def concerns(self, profile: Profile) -> bool:
        return profile in self.profiles


def _text(payload: dict) -> str:
    return payload.get("text", "")


def _about_pupil(payload: dict, events: int) -> str:
    """'Léa Martin: <what happened>'."""
    return _("%(pupil)s: %(text)s", pupil=payload["pupil"], text=payload["text"])


def _messages_headline(payload: dict, events: int) -> str:
    return ngettext("%(num)d new message", "%(num)d new messages", events)


def _message_line(payload: dict) -> str:
    return _("From %(sender)s: %(subject)s", sender=payload["sender"], subject=payload["subject"])


_HOME, _MAIL = Channel.HOMEPAGE, Channel.EMAIL

#: What the staff decided about a family's justification, as the family is told.
OUTCOMES = {
    "accepted": _l("accepted"),
    "refused": _l("refused"),
    "document_asked": _l("a document is asked"),
}

TYPES: dict[str, NotificationType] = {
    t.key: t
    for t in (
        NotificationType(
            key="message",
            label=_l("New message received"),
            profiles=EVERYONE,
            batched=True,
            channels=(_HOME, _MAIL),
            defaults={P: _MAIL, A: _HOME, T: _HOME, S: _HOME, U: _HOME},
            grouping=Grouping.LIST,
            headline=_messages_headline,
            line=_message_line,
            needs=("sender", "subject"),
        ),
        NotificationType(
            key="announcement",
            label=_l("Announcement published or changed"),
            profiles=EVERYONE,
            batched=True,
            # No homepage choice: the announcement is already on the home page (seed 001).
            channels=(_MAIL,),
            defaults={A: Channel.NONE, T: Channel.NONE, S: Channel.NONE, P: _MAIL, U: Channel.NONE},
            headline=lambda payload, events: _("Announcement: %(title)s", title=payload["text"]),
            line=_text,
            discreet=True,
            waits_for_visibility=True,
            forcible=True,
            needs=("text",),
        ),
        NotificationType(
            key="homework",
            label=_l("Homework set or changed"),
            profiles=frozenset({P, U}),
            batched=True,
            channels=(_HOME, _MAIL),
            defaults={P: _MAIL, U: _HOME},
            headline=lambda payload, events: _(
                "Homework for %(group)s: %(title)s", group=payload["group"], title=payload["text"]
            ),
            line=_text,
            discreet=True,
            waits_for_visibility=True,
            forcible=True,
            needs=("group", "text"),
        ),
        NotificationType(
            key="attendance",
            label=_l("Absence or lateness recorded for my child"),
            profiles=frozenset({P}),
            batched=False,
            channels=(_HOME, _MAIL),
            defaults={P: _MAIL},
            headline=lambda payload, events: _(
                "Attendance of %(pupil)s: %(text)s", pupil=payload["pupil"], text=payload["text"]
            ),
            line=_text,
            forcible=True,
            # An absence announced in advance is told at its session's start.
            waits_for_visibility=True,
            needs=("pupil", "text"),
        ),
        NotificationType(
            key="liaison_note",
            label=_l("Liaison note for my child, or its reminder"),
            profiles=frozenset({P, U}),
            batched=True,
            channels=(_HOME, _MAIL),
            defaults={P: _MAIL, U: _HOME},
            grouping=Grouping.LIST,
            headline=lambda payload, events: (
                _("Liaison book: %(title)s", title=payload["text"])
                if events == 1
                else ngettext("%(num)d liaison notes", "%(num)d liaison notes", events)
            ),
            line=lambda payload: (
                _("Reminder: %(title)s", title=payload["text"])
                if payload.get("reminder")
                else payload["text"]
            ),
            needs=("text",),
        ),
        NotificationType(
            key="liaison_reply",
            label=_l("Confirmation or answer to my liaison note"),
            profiles=frozenset({A, S, T}),
            batched=True,
            channels=(_HOME, _MAIL),
            defaults={A: _HOME, S: _HOME, T: _HOME},
            grouping=Grouping.LIST,
            headline=lambda payload, events: ngettext(
                "%(num)d reply to “%(title)s”",
                "%(num)d replies to “%(title)s”",
                events,
                title=payload["title"],
            ),
            line=lambda payload: (
                _(
                    "%(guardian)s for %(pupil)s: %(choice)s",
                    guardian=payload["guardian"],
                    pupil=payload["pupil"],
                    choice=payload["choice"],
                )
                if payload.get("choice")
                else _(
                    "%(guardian)s confirmed for %(pupil)s",
                    guardian=payload["guardian"],
                    pupil=payload["pupil"],
                )
            ),
            needs=("title", "guardian", "pupil"),
        ),
        NotificationType(
            key="justification",
            label=_l("Absence justified by a family"),
            profiles=frozenset({A, S}),
            batched=True,
            channels=(_HOME, _MAIL),
            defaults={A: _HOME, S: _HOME},
            grouping=Grouping.LIST,
            headline=lambda payload, events: ngettext(
                "%(num)d justification to review", "%(num)d justifications to review", events
            ),
            line=lambda payload: _(
                "%(pupil)s: %(reason)s", pupil=payload["pupil"], reason=payload["reason"]
            ),
            needs=("pupil", "reason"),
        ),
        NotificationType(
            key="justification_outcome",
            label=_l("Answer to my justification of an absence"),
            profiles=frozenset({P}),
            batched=False,
            channels=(_HOME, _MAIL),
            defaults={P: _MAIL},
            headline=lambda payload, events: _(
                "Justification for %(pupil)s: %(outcome)s",
                pupil=payload["pupil"],
                outcome=OUTCOMES[payload["outcome"]],
            ),
            line=lambda payload: payload.get("answer", ""),
            needs=("pupil", "outcome"),
        ),
        NotificationType(
            key="attendance_alert",
            label=_l("Attendance alert triggered"),
            profiles=frozenset({A, S}),
            batched=False,
            channels=(_HOME, _MAIL),
            defaults={A: _HOME, S: _HOME},
            headline=lambda payload, events: _("Alert: %(text)s", text=payload["text"]),
            line=_text,
            needs=("text",),
        ),
        NotificationType(
            key="pupil_file_event",
            label=_l("Event in a pupil's file"),
            profiles=frozenset({A, S, T, P}),
            batched=False,
            channels=(_HOME, _MAIL),
            defaults={A: _HOME, S: _HOME, T: _HOME, P: _MAIL},
            headline=_about_pupil,
            line=_text,
            needs=("pupil", "text"),
        ),
        NotificationType(
            key="sms_unanswered",
            label=_l("Absence SMS without an answer"),
            profiles=frozenset({A, S}),
            batched=False,
            channels=(_HOME, _MAIL),
            defaults={A: _HOME, S: _HOME},
            headline=_about_pupil,
            line=_text,
            needs=("pupil", "text"),
        ),
        NotificationType(
            key="webhook_disabled",
            label=_l("Webhook switched off after failing calls"),
            profiles=frozenset({A}),
            batched=False,
            channels=(_HOME, _MAIL),
            defaults={A: _MAIL},
            headline=lambda payload, events: _("Webhook: %(text)s", text=payload["text"]),
            line=_text,
            needs=("text",),
        ),
        NotificationType(
            key="sensitive_action",
            label=_l("Sensitive action by a teacher"),
            profiles=frozenset({A}),
            batched=True,
            channels=(_HOME, _MAIL),
            defaults={A: _HOME},
            grouping=Grouping.LIST,
            headline=lambda payload, events: ngettext(
                "%(num)d sensitive action", "%(num)d sensitive actions", events
            ),
            line=_text,
            needs=("text",),
        ),
        NotificationType(
            key="admin_action",
            label=_l("Action by another administrator"),
            profiles=frozenset({A}),
            batched=True,
            channels=(_HOME, _MAIL),
            defaults={A: _HOME},
            grouping=Grouping.LIST,
            headline=lambda payload, events: ngettext(
                "%(num)d action by another administrator",
                "%(num)d actions by other administrators",
                events,
            ),
            line=_text,
            needs=("text",),
        ),
        NotificationType(
            key="login_contact",
            label=_l("Contact from the login page"),
            profiles=frozenset({A}),
            batched=False,
            channels=(_HOME, _MAIL),
            defaults={A: _MAIL},
            headline=lambda payload, events: _("Contact from %(sender)s", sender=payload["sender"]),
            line=_text,
            mandatory=True,
            needs=("sender", "text"),
        ),
        NotificationType(
            key="flash_message",
            label=_l("Flash message"),
            profiles=EVERYONE,
            batched=False,
            # Always shown; an e-mail only when the author asks for one (forced sending).
            channels=(_HOME,),
            defaults={},
            headline=lambda payload, events: _("Flash message: %(title)s", title=payload["text"]),
            line=_text,
            mandatory=True,
            forcible=True,
            # A flash message planned for later is told when it starts.
            waits_for_visibility=True,
            needs=("text",),
        ),
    )
}

#: Types that reach a person by e-mail even during their quiet hours (SPEC §12).
THROUGH_QUIET_HOURS = frozenset(key for key, t in TYPES.items() if t.mandatory)


def get(key: str) -> NotificationType:
    try:
        return TYPES[key]
    except KeyError:
        raise ValueError(f"unknown notification type {key!r}") from None


def types_for(profile: Profile) -> list[NotificationType]:
    return [t for t in TYPES.values() if t.concerns(profile)]
