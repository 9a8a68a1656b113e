import { Body, createParamDecorator, Inject, type ExecutionContext } from '@nestjs/common';
import { Type, type TSchema } from '@sinclair/typebox';
import {
  catalogue,
  compile,
  EntityId,
  GateApprovalReply,
  GateApprovalRequest,
  GateCheckReply,
  GateCheckRequest,
  EngineReconcileRequest,
  ReleaseRequest,
  ReservationReply,
  ReserveReply,
  ReserveRequest,
  SettleRequest,
  Timestamp,
  Uuid,
  type IngestKind,
  type MessageDefinition,
  object,
  factId,
} from '@bifrost/contracts';
import { createEnvelope, Messaging, RpcError } from '@bifrost/messaging';
import { actorOf, type Principal } from '../auth/roles';
import { GatewayRpc } from '../commands/gateway-rpc.service';
import { ProblemError, problemKindOf } from '../http/problem';
import { ApiController, CurrentPrincipal, Route } from '../http/route';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config';
import { OCCURRED_AT_HEADER, occurredAtOf } from './occurred-at';

/** The ingest message type published for each kind, when the catalogue has one. */
export function ingestDefinition(kind: IngestKind): MessageDefinition | undefined {
  return catalogue.definitions.find(
    (d) => d.kind === 'ingest' && d.subject === `bifrost.ingest.${kind}.{engineId}`,
  );
}

// Kinds whose message type a later issue defines: any object naming its engine, refused with 404 until then.
const ingestBody = (kind: IngestKind): TSchema =>
  ingestDefinition(kind)?.data ?? Type.Object({ engineId: EntityId }, { additionalProperties: true });

const IngestAccepted = object({
  id: Type.String({
    description: 'envelope id (also Nats-Msg-Id), derived from the Idempotency-Key if sent',
  }),
  sequence: Type.Integer({ minimum: 1, description: 'BIFROST_INGEST stream sequence' }),
});

/** Engines send the fact's own id so a re-sent fact (lost 202) is deduplicated by Nats-Msg-Id (see factId). */
export const IDEMPOTENCY_KEY_HEADER = 'idempotency-key';
const isUuid = compile(Uuid);

/** The optional headers of a fact POST, as OpenAPI header parameters (`ingest` checks them). */
const FactHeaderParams = object({
  [IDEMPOTENCY_KEY_HEADER]: Type.Optional({
    ...Uuid,
    description:
      'A lowercase UUID naming this fact for this engine and kind (the SDK sends the fact id). The envelope id ' +
      '(and Nats-Msg-Id) is a UUID v8 derived from engine id, fact kind and key: the same key re-sent by the same ' +
      'engine for the same kind within the stream duplicate window is stored once and answered with the original ' +
      'id and sequence; another engine or kind never collides with it. Without it, every POST is a new fact.',
  }),
  [OCCURRED_AT_HEADER]: Type.Optional({
    ...Timestamp,
    description:
      'When the engine recorded the fact (the SDK sends it with every fact): the envelope occurredAt. ' +
      'A time in the future is taken as now; one older than GATEWAY_FACT_MAX_AGE_SECONDS (30 days by default) ' +
      'is refused (400 INGEST.OCCURRED_AT_TOO_OLD); without it, occurredAt is the time the gateway received it.',
  }),
});

interface FactHeaderValues {
  readonly idempotencyKey?: string;
  readonly occurredAt?: string;
}

/** The optional `Idempotency-Key` and `Occurred-At` headers of a fact POST. */
const FactHeaders = createParamDecorator((_: unknown, ctx: ExecutionContext): FactHeaderValues => {
  const headers = ctx
    .switchToHttp()
    .getRequest<{ headers: Record<string, string | string[] | undefined> }>().headers;
  const single = (name: string) => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  return { idempotencyKey: single(IDEMPOTENCY_KEY_HEADER), occurredAt: single(OCCURRED_AT_HEADER) };
});

const CHECK_EXAMPLE = {
  engineId: 'wholesale-bot',
  strategyId: 'mean-revert',
  action: {
    kind: 'order.place',
    intent: 'open',
    notional: { amount: 250_000, currency: 'USD' },
    instrument: 'EURUSD',
  },
  impact: { irreversible: false, blastRadius: 'single', concentration: 0.05 },
  confidence: 0.8,
};

const ingestRoute = (kind: IngestKind, summary: string, example?: Record<string, unknown>) =>
  Route({
    method: 'POST',
    path: kind,
    summary: `${summary} (published to BIFROST_INGEST on bifrost.ingest.${kind}.<engineId>; 202 after the ack)`,
    headers: FactHeaderParams,
    access: 'engine',
    engineScoped: true,
    body: ingestBody(kind),
    response: IngestAccepted,
    status: 202,
    example: {
      ...(example ? { body: example } : {}),
      response: { id: '0193a5b2-7c1d-7e4f-8a9b-0c1d2e3f4a5b', sequence: 1234 },
    },
  });

/**
 * The engine HTTP contract (same semantics as the NATS subjects) for engines that do not speak
 * NATS. An engine key acts for its own engine only: the guard refuses a body naming another.
 */
@ApiController('engine', 'engine')
export class EngineController {
  constructor(
    @Inject(GatewayRpc) private readonly rpc: GatewayRpc,
    @Inject(Messaging) private readonly messaging: Messaging,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  @Route({
    method: 'POST',
    path: 'check',
    summary:
      'Ask before acting: the graded, explained verdict (503 gate-unavailable means fail closed: BLOCK)',
    access: 'engine',
    engineScoped: true,
    body: GateCheckRequest,
    response: GateCheckReply,
    example: { body: CHECK_EXAMPLE },
  })
  check(@Body() body: GateCheckRequest) {
    return this.rpc.check(body);
  }

  @Route({
    method: 'POST',
    path: 'approval',
    summary:
      'After REQUIRE_APPROVAL: where the approval request stands and, once granted, the token to present with the same action',
    access: 'engine',
    engineScoped: true,
    body: GateApprovalRequest,
    response: GateApprovalReply,
    example: {
      body: {
        engineId: 'wholesale-bot',
        strategyId: 'mean-revert',
        approvalId: '0193a5b2-7c1d-7e4f-8a9b-0c1d2e3f4a5b',
      },
    },
  })
  approval(@Body() body: GateApprovalRequest) {
    return this.rpc.call<GateApprovalReply>('bifrost.rpc.gate.approval', body);
  }

  @Route({
    method: 'POST',
    path: 'reserve',
    summary:
      'Reserve max loss and exposure before acting (granted only if GLOBAL and the engine policy pass)',
    access: 'engine',
    engineScoped: true,
    body: ReserveRequest,
    response: ReserveReply,
    example: {
      body: {
        engineId: 'wholesale-bot',
        idempotencyKey: 'order-8812',
        maxLoss: { amount: 5_000, currency: 'USD' },
        exposure: { amount: 250_000, currency: 'USD' },
      },
    },
  })
  reserve(@Body() body: object) {
    return this.risk('reserve', body);
  }

  @Route({
    method: 'POST',
    path: 'settle',
    summary: 'Book the realized loss of a reservation (outcome unknown: UNRESOLVED, still counted)',
    access: 'engine',
    engineScoped: true,
    body: SettleRequest,
    response: ReservationReply,
    example: {
      body: {
        engineId: 'wholesale-bot',
        reservationId: '0193a5b2-7c1d-7e4f-8a9b-0c1d2e3f4a5b',
        realizedLoss: { amount: 1_200, currency: 'USD' },
      },
    },
  })
  settle(@Body() body: object) {
    return this.risk('settle', body);
  }

  @Route({
    method: 'POST',
    path: 'release',
    summary: 'Cancel a granted reservation that was not used',
    access: 'engine',
    engineScoped: true,
    body: ReleaseRequest,
    response: ReservationReply,
    example: { body: { engineId: 'wholesale-bot', reservationId: '0193a5b2-7c1d-7e4f-8a9b-0c1d2e3f4a5b' } },
  })
  release(@Body() body: object) {
    return this.risk('release', body);
  }

  @Route({
    method: 'POST',
    path: 'reconcile',
    summary: 'Close an UNRESOLVED reservation with its realized loss',
    access: 'engine',
    engineScoped: true,
    body: EngineReconcileRequest,
    response: ReservationReply,
    example: {
      body: {
        engineId: 'wholesale-bot',
        reservationId: '0193a5b2-7c1d-7e4f-8a9b-0c1d2e3f4a5b',
        realizedLoss: { amount: 0, currency: 'USD' },
      },
    },
  })
  reconcile(@Body() body: object) {
    return this.risk('reconcile', body);
  }

  @ingestRoute('kpi', 'Report a KPI sample')
  kpi(
    @CurrentPrincipal() p: Principal,
    @Body() body: Record<string, unknown>,
    @FactHeaders() headers: FactHeaderValues,
  ) {
    return this.ingest('kpi', p, body, headers);
  }

  @ingestRoute('outcome', 'Report the outcome of an action (feeds maturity, health and drift)', {
    engineId: 'wholesale-bot',
    strategyId: 'mean-revert',
    outcomeId: 'order-8812',
    pnl: { amount: -1_200, currency: 'USD' },
  })
  outcome(
    @CurrentPrincipal() p: Principal,
    @Body() body: Record<string, unknown>,
    @FactHeaders() headers: FactHeaderValues,
  ) {
    return this.ingest('outcome', p, body, headers);
  }

  @ingestRoute('heartbeat', 'Report that the engine is alive')
  heartbeat(
    @CurrentPrincipal() p: Principal,
    @Body() body: Record<string, unknown>,
    @FactHeaders() headers: FactHeaderValues,
  ) {
    return this.ingest('heartbeat', p, body, headers);
  }

  @ingestRoute('command', 'Record a command the engine ran')
  command(
    @CurrentPrincipal() p: Principal,
    @Body() body: Record<string, unknown>,
    @FactHeaders() headers: FactHeaderValues,
  ) {
    return this.ingest('command', p, body, headers);
  }

  @ingestRoute('incident', 'Report an incident')
  incident(
    @CurrentPrincipal() p: Principal,
    @Body() body: Record<string, unknown>,
    @FactHeaders() headers: FactHeaderValues,
  ) {
    return this.ingest('incident', p, body, headers);
  }

  @ingestRoute('sandbox', 'Report a sandbox trial')
  sandbox(
    @CurrentPrincipal() p: Principal,
    @Body() body: Record<string, unknown>,
    @FactHeaders() headers: FactHeaderValues,
  ) {
    return this.ingest('sandbox', p, body, headers);
  }

  /**
   * The engine contract answers a risk refusal with 404 (no such reservation), 409 (state) or 422
   * (anything else it refused).
   */
  private async risk(operation: string, body: object): Promise<unknown> {
    try {
      return await this.rpc.call(`bifrost.rpc.risk.${operation}`, body);
    } catch (error) {
      if (!(error instanceof RpcError)) throw error;
      const kind = problemKindOf(error.code);
      if (kind === 'unavailable' || kind === 'internal') throw error;
      throw new ProblemError(
        kind === 'conflict' || kind === 'notFound' ? kind : 'rejected',
        error.message,
        error.code,
        {},
        undefined,
        error.details,
      );
    }
  }

  private async ingest(
    kind: IngestKind,
    principal: Principal,
    data: Record<string, unknown>,
    { idempotencyKey, occurredAt }: FactHeaderValues,
  ) {
    const definition = ingestDefinition(kind);
    if (!definition) {
      throw new ProblemError('notFound', `no ${kind} facts are defined yet`, 'INGEST.KIND_UNKNOWN');
    }
    if (idempotencyKey !== undefined && !isUuid(idempotencyKey).ok) {
      throw new ProblemError(
        'invalid',
        `${IDEMPOTENCY_KEY_HEADER} must be a lowercase UUID, got "${idempotencyKey.slice(0, 64)}"`,
        'INGEST.IDEMPOTENCY_KEY_INVALID',
      );
    }
    const maxAgeMs = this.config.GATEWAY_FACT_MAX_AGE_SECONDS * 1000;
    const engineId = String(data['engineId']);
    const envelope = createEnvelope({
      ...(idempotencyKey !== undefined ? { id: factId(engineId, kind, idempotencyKey) } : {}),
      occurredAt: occurredAtOf(occurredAt, new Date(), maxAgeMs),
      type: definition.type,
      version: definition.version,
      subject: this.messaging.naming.ingestSubject(kind, engineId),
      source: 'api-gateway',
      actor: actorOf(principal),
      data,
    });
    const ack = await this.messaging.publisher.publish(envelope);
    return { id: envelope.id, sequence: ack.seq };
  }
}
