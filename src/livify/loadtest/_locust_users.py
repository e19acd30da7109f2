"""Locust users that run the journeys, and the session that records them.

Importing this module imports Locust, which patches the standard library
for gevent, so only the load-generating process imports it.
"""

from __future__ import annotations

import json
import time
from typing import Any, ClassVar

import gevent  # type: ignore[import-untyped]
from locust import FastHttpUser, constant, task
from locust.contrib.fasthttp import FastHttpSession

from livify.loadtest._journeys import (
    MEMBER_JOURNEYS,
    VISITOR_JOURNEYS,
    Journey,
    StepContext,
    clean_up,
    pick_journey,
    sign_up,
)
from livify.loadtest._recorder import Sample
from livify.loadtest._runtime import Runtime
from livify.loadtest._session import Reply

CONNECTION_TIMEOUT_SECONDS = 10.0
NETWORK_TIMEOUT_SECONDS = 30.0
# How long a user with nothing to do sleeps before it looks again.
IDLE_SECONDS = 0.1


class RecordingSession:
    """Send requests through Locust's fast HTTP client and record each one."""

    def __init__(self, client: FastHttpSession, runtime: Runtime) -> None:
        self._client = client
        self._runtime = runtime
        self._is_open_model = runtime.schedule is not None

    def request(
        self,
        method: str,
        path: str,
        *,
        endpoint: str,
        step: str,
        json: Any = None,
        token: str | None = None,
        intended_at: float | None = None,
    ) -> Reply:
        headers = {"Authorization": f"Token {token}"} if token else {}
        runtime = self._runtime
        runtime.in_flight += 1
        sent_at = runtime.clock()
        try:
            status, body = self._send(method, path, endpoint, json, headers)
        finally:
            runtime.in_flight -= 1

        finished_at = runtime.clock()
        start = sent_at if intended_at is None else min(intended_at, sent_at)
        runtime.recorder.record(
            Sample(
                endpoint=endpoint,
                step=step,
                latency_seconds=finished_at - start,
                service_seconds=finished_at - sent_at,
                status=status,
                is_failure=status is None or not 200 <= status < 300,
                finished_at=time.time(),
                is_open_model=self._is_open_model,
                phase=runtime.phase_name(),
            )
        )
        return Reply(status, body)

    def _send(
        self,
        method: str,
        path: str,
        endpoint: str,
        payload: Any,
        headers: dict[str, str],
    ) -> tuple[int | None, Any]:
        with self._client.request(
            method,
            path,
            name=endpoint,
            json=payload,
            headers=headers,
            catch_response=True,
        ) as response:
            # This module judges success itself; Locust's own statistics are
            # not used, so every response is marked a success there.
            response.success()
            status = int(response.status_code or 0) or None
            return status, _parse_body(response.text if status else None)


def _parse_body(text: str | None) -> Any:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


class _JourneyUser(FastHttpUser):
    """Base of the users; `make_user_classes` binds the runtime."""

    abstract = True
    runtime: ClassVar[Runtime]
    connection_timeout = CONNECTION_TIMEOUT_SECONDS
    network_timeout = NETWORK_TIMEOUT_SECONDS

    def on_start(self) -> None:
        self.rng = self.runtime.new_rng()
        self.session = RecordingSession(self.client, self.runtime)
        catalogue = self.runtime.catalogue(self.session)
        self.journey_context = StepContext(self.session, catalogue, self.rng)

    def wait_time(self) -> float:
        return self.runtime.think_seconds(self.rng)

    def run_journey(self, journeys: tuple[Journey, ...]) -> None:
        """Run one journey by weight, thinking between its steps."""
        journey = pick_journey(journeys, self.rng)
        self.journey_context.last_article = None
        for number, step in enumerate(journey.steps):
            if self.runtime.is_stopping:
                return

            if number:
                self.wait()  # type: ignore[no-untyped-call]
            self.journey_context.step = journey.step_name(step)
            step.run(self.journey_context)


class VisitorUser(_JourneyUser):
    """An anonymous visitor of the closed model."""

    abstract = True

    @task
    def visit(self) -> None:
        if self.runtime.is_stopping:
            gevent.sleep(IDLE_SECONDS)
            return
        self.run_journey(VISITOR_JOURNEYS)


class MemberUser(_JourneyUser):
    """A member of the closed model: signs up on start, cleans up on stop."""

    abstract = True

    def on_start(self) -> None:
        super().on_start()
        number = self.runtime.next_user_number()
        self.journey_context.member = sign_up(
            self.journey_context, run_tag=self.runtime.workload.run_tag, number=number
        )

    @task
    def visit(self) -> None:
        if self.runtime.is_stopping or self.journey_context.member is None:
            gevent.sleep(IDLE_SECONDS)
            return
        self.run_journey(MEMBER_JOURNEYS)

    def on_stop(self) -> None:
        if (
            getattr(self, "journey_context", None) is not None
            and self.journey_context.member
        ):
            clean_up(self.journey_context)


class ArrivalUser(FastHttpUser):
    """A sender of the open model: takes the next arrival, waits for it, sends it."""

    abstract = True
    runtime: ClassVar[Runtime]
    connection_timeout = CONNECTION_TIMEOUT_SECONDS
    network_timeout = NETWORK_TIMEOUT_SECONDS
    wait_time = constant(0)

    def on_start(self) -> None:
        self.rng = self.runtime.new_rng()
        self.session = RecordingSession(self.client, self.runtime)
        self.catalogue = self.runtime.catalogue(self.session)
        self.members = self.runtime.open_model_members(self.session, self.rng)
        self.runtime.arm()

    @task
    def arrive(self) -> None:
        runtime = self.runtime
        schedule = runtime.schedule
        is_idle = runtime.is_stopping or not runtime.is_armed or schedule is None
        offset = None if is_idle or schedule is None else schedule.claim()
        if offset is None:
            gevent.sleep(IDLE_SECONDS)
            return

        due = runtime.started_at + offset
        delay = due - runtime.clock()
        if delay > 0:
            gevent.sleep(delay)
        self._send_one(due)

    def _send_one(self, due: float) -> None:
        choice = self.runtime.pick_step(self.rng)
        member = None
        if choice.journey.is_signed_in:
            if not self.members:
                return
            member = self.rng.choice(self.members)

        context = StepContext(
            self.session,
            self.catalogue,
            self.rng,
            member=member,
            step=choice.journey.step_name(choice.step),
            intended_at=due,
        )
        choice.step.run(context)

    def on_stop(self) -> None:
        # Whichever user stops first cleans up the shared members.
        while self.members:
            member = self.members.pop()
            clean_up(StepContext(self.session, self.catalogue, self.rng, member))


def make_user_classes(runtime: Runtime) -> dict[str, type[FastHttpUser]]:
    """Return the concrete user classes bound to `runtime`, by name.

    Workers build all of them before they know the workload, because the
    master names the classes to spawn. Think times and steps are read from
    the runtime when they are needed.
    """
    bases: tuple[type[FastHttpUser], ...] = (VisitorUser, MemberUser, ArrivalUser)
    classes = {}
    for base in bases:
        name = base.__name__.removesuffix("User")
        classes[name] = type(name, (base,), {"runtime": runtime, "abstract": False})
    return classes


def weigh_closed_model_classes(
    classes: dict[str, type[FastHttpUser]], member_share: float
) -> list[type[FastHttpUser]]:
    """Return the closed model's classes with weights in percent of users."""
    weighted = []
    for name, share in (("Visitor", 1 - member_share), ("Member", member_share)):
        percent = round(share * 100)
        if percent > 0:
            classes[name].weight = percent
            weighted.append(classes[name])
    return weighted
