"""The request path of the OpenAI-compatible endpoints, readable in one function.

:meth:`Pipeline.handle` is the whole story of a request: authenticate, read the call, find the
model, decide where its data may go (classification and policy), forward to an allowed replica
(retries stay inside the allowed set), answer, and record exactly once in the ledger.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from functools import partial

from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response

from billing.directory import Principal
from billing.ledger.record import LedgerRecord
from billing.ledger.writer import LedgerWriter
from billing.pricing.costing import Costing
from billing.pricing.token_estimate import max_prompt_tokens
from billing.quotas import Amount
from billing.usage import Usage
from gateway.backends.answer_usage import usage_of
from gateway.backends.forward import Forward
from gateway.backends.media_urls import check_media_urls
from gateway.backends.protocol import UpstreamReply
from gateway.backends.server_params import DROPPED_PARAMS_HEADER
from gateway.catalog import GATEWAY_PROVIDER, Catalog, ModelSpec
from gateway.errors import (
    GatewayError,
    ModelNotFound,
    NoDeploymentAvailable,
    QuotaExceeded,
    error_response,
)
from gateway.exchange import Exchange
from gateway.http.disconnect import DisconnectWatch
from gateway.http.hot_path import InternalError
from gateway.http.openai_request import OpenAICall, parse_call, read_body
from gateway.http.request_id import request_id_of
from gateway.http.sse import StreamMeter, choices_per_prompt
from gateway.http.stream_response import StreamBudget, UpstreamStreamResponse
from gateway.observability.metrics import GatewayMetrics
from gateway.observability.tracing import Tracing, parent_context
from gateway.routing.affinity import affinity_key
from gateway.routing.replicas import Replica
from gateway.routing.router import Router, model_for
from gateway.steps.auth import Authenticator
from gateway.steps.call_bounds import CallBounds, bounds_of
from gateway.steps.quota_gate import Hold, QuotaGate
from gateway.steps.reidentify import ChunkRestorer, restore_body
from gateway.steps.scan_worker import ScanWorker
from gateway.steps.sovereignty import SovereigntyDenied, SovereigntyGate, Verdict
from gateway.steps.use_case_gate import FLAG_HEADER, UseCaseGate

DATA_CLASS_HEADER = "x-hygie-data-class"

log = logging.getLogger("hygie.http")


@dataclass(frozen=True, slots=True)
class _Reservation:
    """A quota reservation on its way, and what it was computed from."""

    task: asyncio.Task[Hold | None]
    call: OpenAICall
    prompt: int
    worst_micro_eur: int
    output: int
    bounds: CallBounds


@dataclass(frozen=True, slots=True)
class Route:
    """Where a request may go: the allowed replicas, then fallback groups, and its affinity."""

    replicas: list[Replica]
    fallbacks: list[list[Replica]]
    affinity_key: str | None


@dataclass(frozen=True, slots=True)
class PipelineLimits:
    max_body_bytes: int
    default_max_model_len: int


class Pipeline:
    """Serves ``/v1/chat/completions``, ``/v1/completions`` and ``/v1/embeddings``."""

    def __init__(
        self,
        *,
        authenticator: Authenticator,
        catalog: Catalog,
        sovereignty: SovereigntyGate,
        scan_worker: ScanWorker,
        router: Router,
        ledger: LedgerWriter,
        limits: PipelineLimits,
        metrics: GatewayMetrics,
        tracing: Tracing,
        quotas: QuotaGate,
        use_cases: UseCaseGate,
        costing: Costing,
        top_up_tokens: int,
    ) -> None:
        self._auth = authenticator
        self._catalog = catalog
        self._sovereignty = sovereignty
        self._scan_worker = scan_worker
        self._router = router
        self._ledger = ledger
        self._limits = limits
        self._metrics = metrics
        self._tracing = tracing
        self._quotas = quotas
        self._use_cases = use_cases
        self._costing = costing
        self._top_up_tokens = top_up_tokens

    async def handle(self, endpoint: str, request: Request) -> Response:
        """Answer one request; whatever happens, it is recorded in the ledger exactly once."""
        exchange = Exchange(request_id_of(request), endpoint)
        exchange.traceparent = request.headers.get("traceparent")
        watch: DisconnectWatch | None = None
        handed_off = False
        try:
            owner = exchange.owner = await self._auth.authenticate(
                request.headers.get("authorization"), request.headers
            )
            raw = await read_body(request, self._limits.max_body_bytes)
            call = parse_call(endpoint, raw)
            exchange.model, exchange.body, exchange.streamed = call.model, call.body, call.stream
            model = self._model(call, owner.department)
            exchange.use_case_flag = self._use_cases.check(owner.use_case, model.name)
            bounds = bounds_of(
                call, model, default_max_model_len=self._limits.default_max_model_len
            )
            # The quota reservation travels to the counters while the policy is decided.
            reservation = await self._begin_reserve(call, bounds, owner, exchange)
            try:
                verdict = await self._admit(
                    call, len(raw), owner, model, request.headers.get(DATA_CLASS_HEADER)
                )
                exchange.note_decision(verdict.decision)
                if verdict.model is not model:  # rerouted: the use case must allow it too
                    exchange.use_case_flag = self._use_cases.check(
                        owner.use_case, verdict.model.name
                    )
                route = self._route(verdict, owner, call)
            except BaseException:
                # Collected so that the record settles it, not left held. (Cancellation can
                # arrive here while a long body is scanned on the worker thread.)
                await self._collect(reservation, exchange)
                raise
            call = call.retarget(verdict.model.name, verdict.body)
            await self._end_reserve(reservation, call, verdict.model, exchange)
            forward = Forward(call)
            watch = DisconnectWatch(request.receive)
            if call.stream:
                response = await self._open_stream(call, forward, route, verdict, exchange)
                handed_off = True  # the stream response records the request when it ends
                return response
            reply, replica = await self._router.complete(
                forward,
                route.replicas,
                exchange.attempts,
                fallbacks=route.fallbacks,
                affinity_key=route.affinity_key,
            )
            watch.stop()
            return self._answer(reply, replica, verdict, exchange, forward)
        except GatewayError as error:
            exchange.fail(error)
            if isinstance(error, SovereigntyDenied):
                exchange.note_decision(error.decision)
            response = error_response(error)
            response.headers.update(_decision_headers(exchange))
            return response
        except ClientDisconnect:  # gone while still sending its body: nothing was forwarded
            exchange.client_disconnected, exchange.status_code = True, 499
            return Response(status_code=499)
        except asyncio.CancelledError:
            if watch is None or not watch.absorb_cancellation():
                # The server answers 500 to a request cancelled before its answer began.
                exchange.status_code, exchange.error_class = 500, "gateway_shutdown"
                exchange.settle_unanswered()
                raise
            exchange.client_disconnected, exchange.status_code = True, 499
            exchange.settle_unanswered()  # abandoned, but the prompt was processed
            return Response(status_code=499)  # nobody is listening any more
        except Exception:
            # A bug: the client gets a clean 500, and the record says so (it once said 200).
            log.exception("unexpected error on %s", endpoint)
            internal = InternalError("Internal error; the request was recorded.")
            exchange.fail(internal)
            exchange.settle_unanswered()
            return error_response(internal)
        finally:
            if watch is not None:
                watch.stop()
            if not handed_off:
                self._record(exchange)

    async def _admit(
        self,
        call: OpenAICall,
        body_bytes: int,
        owner: Principal,
        model: ModelSpec,
        declared_class: str | None,
    ) -> Verdict:
        """The sovereignty step, timed whatever its outcome; a long body is scanned on the
        worker thread."""
        admit = partial(
            self._sovereignty.admit, call.endpoint, call.body, owner, model, declared_class
        )
        started = time.perf_counter()
        try:
            return await self._scan_worker.run(body_bytes, admit)
        finally:
            self._metrics.policy_step(time.perf_counter() - started)

    async def _begin_reserve(
        self, call: OpenAICall, bounds: CallBounds, owner: Principal, exchange: Exchange
    ) -> _Reservation | None:
        """Start holding the call's worst case at every level with limits (all or nothing).

        Returns once the reservation is on its way to the counters (None when no limit applies
        to this key), so that the caller's own work overlaps the round trip.
        """
        chain = self._quotas.chain_for(owner)
        if not chain:
            return None  # no limit above this key: nothing to hold
        output = bounds.first_hold(call.stream, self._quotas.default_max_tokens)
        prompt, worst = self._worst_case(call, output)
        reserving = asyncio.create_task(
            self._quotas.reserve(
                exchange.request_id, chain, prompt, output, worst, sequences=bounds.sequences
            )
        )
        try:
            await asyncio.sleep(0)  # let it send its command before the caller goes on
        except asyncio.CancelledError:
            reserving.cancel()
            raise
        return _Reservation(reserving, call, prompt, worst, output, bounds)

    async def _end_reserve(
        self,
        reservation: _Reservation | None,
        call: OpenAICall,
        model: ModelSpec,
        exchange: Exchange,
    ) -> None:
        """Wait for the reservation; hold more if the policy changed the call (a rerouted model
        or a pseudonymised prompt) so that it may cost more than was held.

        The call is forwarded as the client sent it: without ``max_tokens``, it was held for
        what the upstream may generate, or (a chat stream) it is topped up as it goes.
        """
        if reservation is None:
            return
        hold = exchange.hold = await reservation.task
        if hold is None:
            return
        hold.open_ended = call.stream and reservation.bounds.open_ended
        if call is not reservation.call:  # retarget returns the same call when unchanged
            output = reservation.output
            if call.model != reservation.call.model:  # another context length, other caps
                bounds = bounds_of(
                    call, model, default_max_model_len=self._limits.default_max_model_len
                )
                output = max(
                    output, bounds.first_hold(call.stream, self._quotas.default_max_tokens)
                )
            prompt, worst = self._worst_case(call, output)
            extra = Amount(
                max(0, worst - reservation.worst_micro_eur),
                max(0, prompt + output - reservation.prompt - reservation.output),
            )
            if (extra.micro_eur or extra.tokens) and not await self._quotas.top_up(hold, extra):
                raise QuotaExceeded("The budget cannot cover this request. Ask your administrator.")
            hold.output_tokens = output

    async def _collect(self, reservation: _Reservation | None, exchange: Exchange) -> None:
        """Keep the hold of a request that fails before forwarding, for the record to settle;
        a refused reservation matters less than the failure being raised."""
        if reservation is not None:
            with contextlib.suppress(GatewayError):
                exchange.hold = await reservation.task

    def _worst_case(self, call: OpenAICall, output_tokens: int) -> tuple[int, int]:
        """An upper bound of the call's prompt tokens, and the most it can cost in micro-euros."""
        prompt = max_prompt_tokens(call.endpoint, call.body)
        return prompt, self._costing.worst_case_micro_eur(call.model, prompt, output_tokens)

    def _chunk_cap(self, exchange: Exchange) -> int | None:
        """Chunks a stream may send on its first hold: its tokens (one chunk each, whatever
        the choice), plus the role chunk of each chat choice."""
        hold = exchange.hold
        if hold is None or not hold.open_ended:
            return None  # max_tokens bounds the answer: it can never outgrow its hold
        return hold.output_tokens + (hold.sequences if exchange.endpoint == "chat" else 0)

    def _model(self, call: OpenAICall, department: str) -> ModelSpec:
        model = model_for(self._catalog, call.model, department)
        if model is None or call.endpoint not in model.endpoints:
            raise ModelNotFound(call.model)
        return model

    def _route(self, verdict: Verdict, owner: Principal, call: OpenAICall) -> Route:
        """The replicas the policy allows, then those of the model's fallbacks the caller may
        use and the policy allows unchanged; retries and failover never leave these sets."""
        allowed = [d for d in verdict.model.deployments if verdict.permits(d.name)]
        fallbacks = []
        for name in verdict.model.fallbacks:
            fallback = model_for(self._catalog, name, owner.department)
            if fallback is None or call.endpoint not in fallback.endpoints:
                continue
            if not self._use_cases.allows_fallback(owner.use_case, fallback.name):
                continue  # outside the use case's models (reason in the governance log)
            names = set(self._sovereignty.fallback_deployments(verdict, owner, fallback))
            group = self._router.replicas_of([d for d in fallback.deployments if d.name in names])
            if group:
                fallbacks.append(group)
        replicas = self._router.replicas_of(allowed)
        if not replicas and not fallbacks:
            raise NoDeploymentAvailable(
                f"No deployment of model {verdict.model.name!r} can take this request now."
            )
        reachable = {r.deployment.name: r.deployment for g in [replicas, *fallbacks] for r in g}
        check_media_urls(call.endpoint, verdict.body, list(reachable.values()))
        return Route(
            replicas, fallbacks, affinity_key(call.endpoint, call.body, str(owner.user_id))
        )

    def _answer(
        self,
        reply: UpstreamReply,
        replica: Replica,
        verdict: Verdict,
        exchange: Exchange,
        forward: Forward,
    ) -> Response:
        self._note_replica(exchange, replica, verdict)
        exchange.status_code = reply.status
        exchange.mark_first_byte()
        usage = None
        body = reply.body
        if reply.status == 200:
            usage = usage_of(body)
            if verdict.pseudonyms is not None:
                body = restore_body(body, verdict.pseudonyms)
        else:
            exchange.error_class = "upstream_rejected"
            if reply.status < 500:
                usage = Usage()  # refused before any work (as vLLM counts it): not estimated
        exchange.settle_usage(usage)
        headers = _answer_headers(replica, verdict, exchange.hold, forward)
        if exchange.use_case_flag:  # the caller learns that its use is a pilot, or unapproved
            headers[FLAG_HEADER] = exchange.use_case_flag
        return Response(body, reply.status, headers, reply.content_type)

    async def _open_stream(
        self,
        call: OpenAICall,
        forward: Forward,
        route: Route,
        verdict: Verdict,
        exchange: Exchange,
    ) -> Response:
        upstream, replica = await self._router.open_stream(
            forward,
            route.replicas,
            exchange.attempts,
            fallbacks=route.fallbacks,
            affinity_key=route.affinity_key,
        )
        self._note_replica(exchange, replica, verdict)

        def finish(done: Exchange) -> None:
            broke = done.error_class in ("upstream_error", "upstream_timeout")
            self._router.stream_finished(replica, failed=broke)
            self._record(done)

        rewrite = ChunkRestorer(verdict.pseudonyms) if verdict.pseudonyms is not None else None
        headers = _answer_headers(replica, verdict, exchange.hold, forward)
        if exchange.use_case_flag:  # the caller learns that its use is a pilot, or unapproved
            headers[FLAG_HEADER] = exchange.use_case_flag
        return UpstreamStreamResponse(
            upstream,
            exchange,
            StreamMeter(
                keep_usage_chunk=call.client_wants_usage,
                strip_chunk_usage=not call.client_wants_continuous_usage,
                choices_per_prompt=choices_per_prompt(call.body),
                rewrite=rewrite,
                chunk_cap=self._chunk_cap(exchange),
            ),
            extra_headers=[(k.encode(), v.encode()) for k, v in headers.items()],
            on_finish=finish,
            budget=self._stream_budget(exchange),
        )

    def _note_replica(self, exchange: Exchange, replica: Replica, verdict: Verdict) -> None:
        exchange.deployment, exchange.replica = replica.deployment.name, replica.base_url
        exchange.model = replica.model or verdict.model.name
        exchange.provider = self._router.provider_of(replica)

    def _stream_budget(self, exchange: Exchange) -> StreamBudget | None:
        hold = exchange.hold
        if hold is None or not hold.open_ended:
            return None
        model, step = exchange.model or "", self._top_up_tokens

        async def top_up() -> GatewayError | None:
            extra = Amount(self._costing.worst_case_micro_eur(model, 0, step), step)
            if await self._quotas.top_up(hold, extra):
                hold.output_tokens += step
                return None
            return QuotaExceeded(
                "The budget was exhausted during the answer, which was stopped there."
            )

        return StreamBudget(step, top_up)

    def _record(self, exchange: Exchange) -> None:
        """The one place a finished request is known: ledger, metrics, trace."""
        if exchange.recorded:
            return
        exchange.recorded = True
        usage = exchange.usage or Usage()
        if exchange.model and exchange.attempts.count:
            cost = self._costing.price_request(
                exchange.model, exchange.deployment, usage, exchange.started_at
            )
            exchange.cost_micro_eur, exchange.price_version = cost.micro_eur, cost.version
            exchange.fx_rate = None if cost.fx_rate is None else str(cost.fx_rate)
        if exchange.hold is not None:
            actual = Amount(exchange.cost_micro_eur or 0, usage.total_tokens)
            self._quotas.settle_soon(exchange.hold, actual)
        record = exchange.record()
        self._ledger.submit(record)
        try:
            self._observe(exchange, record)
        except Exception:  # the answer is decided and recorded: a failing observer changes neither
            log.exception("metrics or trace of request %s failed", record.request_id)

    def _observe(self, exchange: Exchange, record: LedgerRecord) -> None:
        department = exchange.owner.department if exchange.owner else None
        self._metrics.observe_request(record, None, department)
        for failure in exchange.attempts.failures:
            self._metrics.upstream_attempt(failure.split("@", 1)[0], "failed")
        if record.deployment is not None:
            outcome = "ok" if record.status_code < 500 else "failed"
            self._metrics.upstream_attempt(record.deployment, outcome)
        if record.policy_decision and record.data_class:
            self._metrics.policy_decision(record.policy_decision, record.data_class)
        if self._tracing.enabled:
            body = exchange.body or {}
            max_tokens = body.get("max_tokens")
            self._tracing.record_request(
                record,
                provider=self._provider_of(exchange),
                department=department,
                max_tokens=max_tokens if isinstance(max_tokens, int) else None,
                parent=parent_context(exchange.traceparent),
            )

    def _provider_of(self, exchange: Exchange) -> str:
        """The provider of the deployment that was reached; the gateway's own name when none
        was (a refused request never left it)."""
        if exchange.provider is not None:
            return exchange.provider
        if exchange.model is None or exchange.deployment is None:
            return GATEWAY_PROVIDER
        deployment = self._catalog.deployment(exchange.model, exchange.deployment)
        return deployment.provider if deployment is not None else GATEWAY_PROVIDER


def _decision_headers(exchange: Exchange) -> dict[str, str]:
    """The policy's verdict on a request that failed after it was decided (refused, or no
    deployment could take it): the client learns why, as on a success."""
    if exchange.policy_decision is None:
        return {}
    return {
        "x-hygie-data-class": exchange.data_class or "",
        "x-hygie-policy-decision": exchange.policy_decision,
        "x-hygie-policy-version": exchange.policy_version or "",
    }


def _answer_headers(
    replica: Replica, verdict: Verdict, hold: Hold | None, forward: Forward
) -> dict[str, str]:
    """Tell the client which model and deployment answered, where it runs, why, its limits, and
    the server-side parameters that were not forwarded."""
    decision = verdict.decision
    dropped = forward.dropped_for(replica.deployment)
    return {
        **({DROPPED_PARAMS_HEADER: ",".join(dropped)} if dropped else {}),
        **(hold.headers if hold is not None else {}),
        "x-hygie-model": replica.model or verdict.model.name,
        "x-hygie-deployment": replica.deployment.name,
        "x-hygie-hosting-class": replica.deployment.hosting.hosting_class.value,
        "x-hygie-data-class": decision.data_class.label,
        "x-hygie-policy-decision": decision.kind.value,
        "x-hygie-policy-version": decision.policy_version,
    }
