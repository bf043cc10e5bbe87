"""Everything the running gateway holds: built once at start, closed once at stop."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import aiohttp
from sqlalchemy.ext.asyncio import AsyncEngine

from billing import directory
from billing.audit.policy_reloads import watch_policy
from billing.db.database import make_engine
from billing.ledger import repository as ledger
from billing.ledger.journal import Journal
from billing.ledger.rollups import ensure_rollups
from billing.ledger.writer import LedgerWriter
from billing.pricing.costing import Costing
from billing.quotas import MemoryQuotaStore, QuotaStore
from gateway.alerts import AlertCenter
from gateway.backends.protocol import Backend
from gateway.backends.registry import build_backends
from gateway.backends.vllm import OpenAICompatibleClient, make_session
from gateway.catalog import Catalog, DeploymentKind
from gateway.identity.assembly import front_ends, token_authenticator
from gateway.identity.break_glass import BreakGlass
from gateway.identity.provider_http import ProviderHttp
from gateway.observability.metrics import GatewayMetrics
from gateway.observability.tracing import Tracing
from gateway.pipeline import Pipeline, PipelineLimits
from gateway.routing.monitor import ReplicaMonitor
from gateway.routing.router import Router
from gateway.settings import Settings, prepare_litellm, upstream_secrets
from gateway.steps.auth import Authenticator
from gateway.steps.pricing import build_request_costing
from gateway.steps.quota_gate import QuotaGate
from gateway.steps.scan_worker import ScanWorker
from gateway.steps.sovereignty import SovereigntyGate
from gateway.steps.use_case_gate import UseCaseGate, admission_rules
from gateway.supervisor import run_all, start_supervised
from policies.phi import CachingDetector, PhiDetector
from policies.policy_file import DEFAULT_POLICY_PATH
from policies.reload import PolicyHolder

if TYPE_CHECKING:
    import redis.asyncio as aioredis

    from gateway.backends.litellm.client import LiteLLMClient


@dataclass
class Services:
    settings: Settings
    catalog: Catalog
    engine: AsyncEngine
    session: aiohttp.ClientSession
    ledger: LedgerWriter
    authenticator: Authenticator
    router: Router
    pipeline: Pipeline
    sovereignty: SovereigntyGate
    scan_worker: ScanWorker
    quotas: QuotaGate
    use_cases: UseCaseGate
    costing: Costing
    alerts: AlertCenter
    redis: aioredis.Redis | None
    monitor: ReplicaMonitor
    litellm: LiteLLMClient | None
    metrics: GatewayMetrics
    tracing: Tracing
    policy_watch: asyncio.Task[None]
    timezone: ZoneInfo
    started_at: int
    identity_http: ProviderHttp | None = None
    break_glass: BreakGlass | None = None

    async def close(self) -> None:
        """Flush the ledger, settle what is pending, then close connections. Call once.

        Every step runs even when an earlier one fails (each failure is logged): a ledger that
        cannot flush must not leave Redis, the upstream pool or the database pool open.
        """
        redis, litellm = self.redis, self.litellm
        await run_all(
            [
                ("policy watcher", self._stop_policy_watch),
                ("ledger", self.ledger.close),
                ("quotas", self.quotas.close),
                ("use-case register", self.use_cases.close),
                ("alerts", self.alerts.close),
                ("redis", redis.aclose if redis is not None else _nothing),
                ("tracing", self.tracing.shutdown),
                ("replica monitor", self.monitor.stop),
                ("litellm", litellm.aclose if litellm is not None else _nothing),
                ("upstream retry session", self.router.close),
                ("upstream session", self.session.close),
                (
                    "identity provider session",
                    self.identity_http.close if self.identity_http else _nothing,
                ),
                ("database pool", self.engine.dispose),
                ("scan worker", self.scan_worker.close),
            ]
        )

    async def _stop_policy_watch(self) -> None:
        self.policy_watch.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.policy_watch


def _nothing() -> None:
    return None


def quota_store(settings: Settings, timezone: ZoneInfo) -> tuple[QuotaStore, aioredis.Redis | None]:
    """Redis counters shared by every gateway when ``redis_url`` is set, else in-process ones.

    Returns the store and the Redis client to close at shutdown (None in-process).
    """
    if settings.redis_url is None:
        return MemoryQuotaStore(tz=timezone), None
    import redis.asyncio as aioredis  # only multi-gateway deployments pay for importing it
    from redis.backoff import NoBackoff
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.retry import Retry

    from billing.quotas.redis_store import RedisQuotaStore

    # Short timeouts and a single immediate retry (for a pooled connection that went stale when
    # Redis restarted): an unreachable Redis is noticed within about a second, so the
    # configured fail mode applies instead of requests waiting. (0.25 s proved too short: a
    # gateway saturated at 64 concurrent requests can take that long to run a connect.)
    client = aioredis.Redis.from_url(
        settings.redis_url,
        socket_connect_timeout=1.0,
        socket_timeout=1.0,
        retry=Retry(NoBackoff(), 1),
        retry_on_error=[RedisConnectionError],
    )
    return RedisQuotaStore(client, org="default", tz=timezone), client


async def start_services(
    settings: Settings,
    catalog: Catalog,
    *,
    migrate: bool,
    backends: Mapping[str, Backend] | None = None,
) -> Services:
    """Connect to the database (migrating it if asked), open the upstream pool, start the
    ledger, the quota counters and the policy watcher. ``backends`` replace the upstreams the
    catalog names (in-process tests pass fakes)."""
    if migrate:
        from billing.db.migrate import upgrade_to_head_async  # Alembic is only needed here

        await upgrade_to_head_async(settings.database_url)
    timezone = ZoneInfo(settings.org_timezone)
    engine = make_engine(settings.database_url)
    session = make_session(settings.upstream_keepalive_s)
    writer = LedgerWriter(
        lambda records: ledger.insert_records(engine, records),
        Journal(settings.spool_dir),
        flush_interval_s=settings.ledger_flush_interval_s,
        batch_size=settings.ledger_batch_size,
        probe=lambda: ledger.check_reachable(engine),
    )
    await ensure_rollups(engine, timezone)  # built once after the upgrade, or a zone change
    await writer.start()
    identity = settings.identity_config()
    identity_http = ProviderHttp(timeout_s=identity.http_timeout_s)
    tokens = token_authenticator(identity, engine, identity_http)
    authenticator = Authenticator(
        lambda digest: directory.owner_of_key_hash(engine, digest),
        ttl_s=settings.key_cache_ttl_s,
        tokens=tokens,
        front_ends=front_ends(identity, engine, tokens, ttl_s=settings.key_cache_ttl_s),
    )
    holder = PolicyHolder(settings.policy or DEFAULT_POLICY_PATH)
    sovereignty = SovereigntyGate(holder, CachingDetector(PhiDetector(catalog.detector)), catalog)
    scan_worker = ScanWorker(settings.scan_thread_min_bytes)
    secrets = upstream_secrets(catalog_env_names(catalog))
    litellm = provider_client(catalog) if backends is None else None
    if backends is None:
        client = OpenAICompatibleClient(
            session, max_answer_bytes=settings.max_upstream_answer_bytes
        )
        backends = build_backends(catalog, client, secrets, litellm)
    router = Router(catalog, backends)
    monitor = router.monitor(session)
    monitor.start()
    metrics = GatewayMetrics(models=[m.name for m in catalog.models])
    metrics.watch_ledger(writer)
    tracing = Tracing.from_settings(settings)
    store, redis_client = quota_store(settings, timezone)
    quotas = QuotaGate(
        store,
        engine,
        timezone=timezone,
        default_max_tokens=settings.default_max_tokens,
        refresh_s=settings.quota_refresh_s,
        on_refusal=metrics.quota_refused,
    )
    alerts = AlertCenter(
        engine, session, webhook_url=settings.alert_webhook_url, label_of=quotas.label
    )
    quotas.on_alerts = alerts.publish
    await quotas.start()
    alerts.start()
    alerts.watch_drift(settings)
    costing = build_request_costing(catalog, timezone)
    use_cases = UseCaseGate(
        engine,
        catalog,
        admission_rules(settings),
        refresh_s=settings.governance_refresh_s,
        mapped=settings.identity_config().use_case_targets(),
    )
    await use_cases.start()
    pipeline = Pipeline(
        authenticator=authenticator,
        catalog=catalog,
        sovereignty=sovereignty,
        scan_worker=scan_worker,
        router=router,
        ledger=writer,
        limits=PipelineLimits(
            max_body_bytes=settings.max_body_bytes,
            default_max_model_len=settings.default_max_model_len,
        ),
        metrics=metrics,
        tracing=tracing,
        quotas=quotas,
        use_cases=use_cases,
        costing=costing,
        top_up_tokens=settings.quota_top_up_tokens,
    )
    return Services(
        settings=settings,
        catalog=catalog,
        engine=engine,
        session=session,
        ledger=writer,
        authenticator=authenticator,
        router=router,
        pipeline=pipeline,
        sovereignty=sovereignty,
        scan_worker=scan_worker,
        quotas=quotas,
        use_cases=use_cases,
        costing=costing,
        alerts=alerts,
        redis=redis_client,
        monitor=monitor,
        litellm=litellm,
        metrics=metrics,
        tracing=tracing,
        policy_watch=start_supervised("policy-reload", lambda: watch_policy(holder, engine)),
        timezone=timezone,
        started_at=int(time.time()),
        identity_http=identity_http,
        break_glass=BreakGlass(metrics.registry),
    )


def provider_client(catalog: Catalog) -> LiteLLMClient | None:
    """The litellm client, only when an external provider is configured (importing litellm
    takes seconds)."""
    if not any(d.kind is DeploymentKind.LITELLM for m in catalog.models for d in m.deployments):
        return None
    prepare_litellm()
    from gateway.backends.litellm.client import LiteLLMClient

    return LiteLLMClient()


def catalog_env_names(catalog: Catalog) -> list[str]:
    """Names of the environment variables that hold upstream credentials."""
    return [
        d.api_key_env for m in catalog.models for d in m.deployments if d.api_key_env is not None
    ]
