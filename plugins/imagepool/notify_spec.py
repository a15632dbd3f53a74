"""The spec's ``notify`` section: where to tell about a run that failed or ended degraded.

E-mail goes through an Airflow SMTP connection (the SMTP provider's notifier); Slack through a Slack
incoming-webhook connection (the Slack provider); Microsoft Teams through an Apprise connection whose
config holds the channel's Workflows webhook (the Apprise provider). See docs/spec.md, "notify".
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# Enough to catch a typo or a missing domain; the SMTP server is the judge of the rest.
EMAIL = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")
CONN_ID = r"^[A-Za-z0-9_.-]{1,250}$"
FAILED, DEGRADED = "failed", "degraded"
Event = Literal["failed", "degraded"]
EVENTS: tuple[Event, ...] = ("failed", "degraded")


class Notify(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    email: list[str] = Field(default_factory=list, description="addresses to mail, through smtp_conn_id")
    smtp_conn_id: str = Field("smtp_default", pattern=CONN_ID)
    from_email: str | None = Field(None, description="sender; default: the SMTP connection's from_email")
    slack_conn_id: str | None = Field(None, pattern=CONN_ID, description="Slack incoming-webhook connection")
    teams_conn_id: str | None = Field(None, pattern=CONN_ID, description="Apprise connection to a Teams webhook")
    when: list[Event] = Field(default_factory=lambda: list(EVENTS), min_length=1)

    @field_validator("email")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if not EMAIL.match(address.strip()):
                raise ValueError(f"{address!r} is not an e-mail address such as 'platform-team@example.com'")
        return [address.strip() for address in value]

    @field_validator("from_email")
    @classmethod
    def _sender(cls, value: str | None) -> str | None:
        if value is not None and not EMAIL.match(value):
            raise ValueError(f"{value!r} is not an e-mail address such as 'imagepool@example.com'")
        return value

    @model_validator(mode="after")
    def _somewhere(self) -> Notify:
        if not (self.email or self.slack_conn_id or self.teams_conn_id):
            raise ValueError(
                "names no one to tell: give email (addresses), slack_conn_id or teams_conn_id, or remove notify"
            )
        return self

    def wants(self, event: str) -> bool:
        return event in self.when
