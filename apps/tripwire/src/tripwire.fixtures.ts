import type { TripwirePolicyView } from '@bifrost/contracts';
import { Messaging, createEnvelope, type StoredEnvelope } from '@bifrost/messaging';
import type { RunningService } from '@bifrost/service';
import { startTestService, waitFor, type TestNamespace } from '@bifrost/testing';
import { TripwireConfig, tripwireService } from './tripwire.service';

export const OPERATOR = { kind: 'operator' as const, id: 'alice' };
export const CONTRACT_RATE = 'WHOLESALE-contract_rate';

/** Starts the tripwire service in this process on the test's namespace. */
export function startTripwire(ns: TestNamespace, env: Record<string, string> = {}): Promise<RunningService> {
  return startTestService(TripwireConfig, tripwireService, ns, { LOG_LEVEL: 'error', ...env });
}

export function connectClient(ns: TestNamespace, name = 'probe'): Promise<Messaging> {
  return Messaging.connect({ url: ns.natsUrl, service: name, instanceId: 'p1', namespace: ns.namespace });
}

/** Publishes `count` KPI events of one engine as that engine would (SDK / gateway ingest). */
export async function publishKpis(
  client: Messaging,
  ns: TestNamespace,
  kpi: { engineId: string; domain: string; metric: string },
  count: number,
  success: boolean,
): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    await client.publisher.publish(
      createEnvelope({
        type: 'ingest.KpiReported',
        subject: ns.naming.ingestSubject('kpi', kpi.engineId),
        source: 'engine',
        actor: { kind: 'engine', id: kpi.engineId },
        data: { ...kpi, success },
      }),
    );
  }
}

/** Enables a policy as an operator would (`POST /api/v1/tripwire/policies/{policyId}/enable`). */
export function enablePolicy(
  client: Messaging,
  policyId: string,
  reason = 'watch it',
): Promise<TripwirePolicyView> {
  return client.rpc.call<TripwirePolicyView>('bifrost.rpc.tripwire.cmd.enable-policy', {
    actor: OPERATOR,
    reason,
    policyId,
  });
}

export async function policies(client: Messaging): Promise<TripwirePolicyView[]> {
  return (await client.rpc.call<{ policies: TripwirePolicyView[] }>('bifrost.rpc.tripwire.policies', {}))
    .policies;
}

export async function policy(client: Messaging, policyId: string): Promise<TripwirePolicyView> {
  const found = (await policies(client)).find((p) => p.policyId === policyId);
  if (!found) throw new Error(`no policy ${policyId}`);
  return found;
}

/** Waits until the tripwire has recorded `observed` KPI events of an engine (since its last reset). */
export function waitForObserved(
  client: Messaging,
  policyId: string,
  engineId: string,
  observed: number,
  timeoutMs = 20_000,
): Promise<TripwirePolicyView> {
  return waitFor(
    async () => {
      const view = await policy(client, policyId);
      return view.engines.find((e) => e.engineId === engineId)?.observed === observed && view;
    },
    { what: `${observed} KPIs of ${engineId} in ${policyId}`, timeoutMs },
  );
}

/** Every event of one tripwire policy, straight from the stream. */
export async function policyEvents(
  client: Messaging,
  ns: TestNamespace,
  policyId: string,
  type?: string,
): Promise<StoredEnvelope[]> {
  const { events } = await client.eventStore.read(ns.naming.eventSubject('tripwire', 'policy', policyId));
  return type ? events.filter((e) => e.envelope.type === `tripwire.${type}`) : events;
}
