import type {
  EvaluateRecommendationReply,
  EvaluateRecommendationRequest,
  HeimdallCommandReply,
  HeimdallDomainView,
} from '@bifrost/contracts';
import { Messaging, createEnvelope, decodeJson, type DeadLetter } from '@bifrost/messaging';
import type { RunningService } from '@bifrost/service';
import { startTestService, waitFor, type TestNamespace } from '@bifrost/testing';
import { HeimdallConfig, heimdallService } from './heimdall.service';

export const OPERATOR = { kind: 'operator' as const, id: 'alice' };

/** Starts Heimdall in this process on the test's namespace. */
export function startHeimdall(ns: TestNamespace, env: Record<string, string> = {}): Promise<RunningService> {
  return startTestService(HeimdallConfig, heimdallService, ns, { LOG_LEVEL: 'error', ...env });
}

export function connectClient(ns: TestNamespace, name = 'probe'): Promise<Messaging> {
  return Messaging.connect({ url: ns.natsUrl, service: name, instanceId: 'p1', namespace: ns.namespace });
}

export interface TrialFields {
  readonly engineId: string;
  readonly domain: string;
  readonly trialId: string;
  readonly success: boolean;
  readonly confidence?: number;
  readonly detail?: string;
  /** The engine's time of the trial (its UTC day is the scorecard day). */
  readonly occurredAt?: string;
}

/** Publishes one sandbox trial as its engine would (SDK / gateway ingest); resolves on the stream ack. */
export async function publishTrial(client: Messaging, ns: TestNamespace, trial: TrialFields): Promise<void> {
  const { occurredAt, ...data } = trial;
  await client.publisher.publish(
    createEnvelope({
      type: 'ingest.SandboxTrialReported',
      subject: ns.naming.ingestSubject('sandbox', trial.engineId),
      source: 'engine',
      actor: { kind: 'engine', id: trial.engineId },
      ...(occurredAt ? { occurredAt } : {}),
      data,
    }),
  );
}

/** `count` trials of one engine in one domain, ids `<prefix>-<n>`, the first `successes` successful. */
export async function publishTrials(
  client: Messaging,
  ns: TestNamespace,
  base: { engineId: string; domain: string; prefix: string },
  count: number,
  successes = count,
): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    await publishTrial(client, ns, {
      engineId: base.engineId,
      domain: base.domain,
      trialId: `${base.prefix}-${i}`,
      success: i < successes,
    });
  }
}

export async function domains(client: Messaging): Promise<HeimdallDomainView[]> {
  return (await client.rpc.call<{ domains: HeimdallDomainView[] }>('bifrost.rpc.heimdall.policies', {}))
    .domains;
}

export async function domain(client: Messaging, id: string): Promise<HeimdallDomainView | undefined> {
  return (await domains(client)).find((d) => d.domain === id);
}

/** Waits until Heimdall's scorecard of a domain holds `trials` trials. */
export function waitForTrials(client: Messaging, id: string, trials: number): Promise<HeimdallDomainView> {
  return waitFor(
    async () => {
      const view = await domain(client, id);
      return view?.scorecard.trials === trials && view;
    },
    { what: `${trials} trials in ${id}`, timeoutMs: 20_000 },
  );
}

export function evaluate(
  client: Messaging,
  request: Partial<EvaluateRecommendationRequest> & Record<string, unknown>,
): Promise<EvaluateRecommendationReply> {
  return client.rpc.call<EvaluateRecommendationReply>('bifrost.rpc.heimdall.evaluate', request);
}

export function command(
  client: Messaging,
  operation: 'cmd.upsert-policy' | 'cmd.enable-prod-use' | 'cmd.disable-prod-use',
  data: Record<string, unknown>,
): Promise<HeimdallCommandReply> {
  return client.rpc.call<HeimdallCommandReply>(`bifrost.rpc.heimdall.${operation}`, {
    actor: OPERATOR,
    reason: 'test',
    ...data,
  });
}

/** Every evaluation record of an engine, straight from the decisions stream. */
export async function evaluationRecords(
  client: Messaging,
  ns: TestNamespace,
  engineId: string,
): Promise<{ id: string; reply: EvaluateRecommendationReply }[]> {
  const records: { id: string; reply: EvaluateRecommendationReply }[] = [];
  const stream = ns.naming.streams.decisions.name;
  const info = await client.jsm.streams.info(stream);
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq += 1) {
    const msg = await client.jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
    if (!msg || msg.subject !== ns.naming.decisionSubject('heimdall', engineId)) continue;
    const envelope = msg.json() as { id: string; type: string; data: { reply: EvaluateRecommendationReply } };
    if (envelope.type === 'heimdall.RecommendationEvaluated')
      records.push({ id: envelope.id, reply: envelope.data.reply });
  }
  return records;
}

/** Heimdall's dead letters of the sandbox-trials consumer. */
export async function deadLetters(client: Messaging, ns: TestNamespace): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  const stream = ns.naming.streams.dlq.name;
  const info = await client.jsm.streams.info(stream).catch(() => undefined);
  if (!info) return letters;
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq += 1) {
    const msg = await client.jsm.streams.getMessage(stream, { seq }).catch(() => undefined);
    if (msg) letters.push(decodeJson(msg.data) as DeadLetter);
  }
  return letters.filter((l) => l.consumer === 'heimdall__sandbox-trials');
}
