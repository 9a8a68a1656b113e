import { Inject, Injectable } from '@nestjs/common';
import { canonicalize, sha256Hex } from '@bifrost/audit';
import { POLICY_RECORD_MAX_BYTES, type Actor, type PolicySnapshot } from '@bifrost/contracts';
import { policySnapshot, type ControlState } from '@bifrost/domain-gate';
import { ConcurrencyError } from '@bifrost/event-sourcing';
import { Messaging, createEnvelope, type AggregateEntry } from '@bifrost/messaging';
import { GATE_CONFIG, GATE_POLICIES, type GateConfig, type GatePolicies } from '../gate.config';
import { GateState } from '../state/gate-state';

const GATE_ACTOR: Actor = { kind: 'system', id: 'gate' };

/** The policies in force and their revision (the SHA-256 of their JCS form). */
export interface PolicyInForce {
  readonly revision: string;
  readonly policies: PolicySnapshot;
  /** Size of their JCS form. */
  readonly bytes: number;
}

/** What the record of `policy` keeps, and the gate answers, of its policies: none over 512 KiB. */
export function keptPolicies({ policies, bytes }: PolicyInForce): PolicySnapshot | null {
  return bytes > POLICY_RECORD_MAX_BYTES ? null : policies;
}

/**
 * The revision every verdict carries, and the record of what it stands for. The gate records the
 * policies of each revision once, as `gate.PolicyRevisionRecorded` on
 * `bifrost.evt.gate.policy.<revision>`, before the first verdict that carries it, so that an
 * operator can look a revision up and compare two. A check meeting a revision this replica has not
 * recorded yet awaits that append (shared by the checks that meet it at once); every later check
 * pays one set lookup. The append expects the subject to be empty: of several replicas, or
 * restarts, the first records it and the others find it there. A failed append fails the check as a
 * failed decision record does, so no verdict carries a revision that cannot be looked up.
 */
@Injectable()
export class PolicyRevisions {
  private current?: { sequence: number; policy: PolicyInForce };
  /** Revisions this replica knows are recorded. */
  private readonly recorded = new Set<string>();
  /** Appends in flight, by revision. */
  private readonly recording = new Map<string, Promise<void>>();

  constructor(
    @Inject(Messaging) private readonly messaging: Messaging,
    @Inject(GATE_POLICIES) private readonly policies: GatePolicies,
    @Inject(GateState) state: GateState,
    @Inject(GATE_CONFIG) private readonly config: GateConfig,
  ) {
    // The events stream was deleted and created again: the records made in it are gone, and its
    // sequences (which key the revision in force) start again.
    state.onRebuilt(() => {
      this.current = undefined;
      this.recorded.clear();
    });
  }

  /**
   * The policies in force with `control`, the control plane a check was decided with; computed
   * again only when its sequence moved. The state and its sequence come as one: a check that read
   * the control plane before a change and asks after it gets the revision of what it decided with.
   */
  inForce(control: AggregateEntry<ControlState>): PolicyInForce {
    const sequence = control.lastSequence;
    if (this.current?.sequence !== sequence) {
      const policies = {
        control: policySnapshot(control.state),
        strategy: this.policies.strategy,
        impact: this.policies.impact,
      } as unknown as PolicySnapshot;
      const text = canonicalize(policies);
      this.current = {
        sequence,
        policy: { revision: sha256Hex(text), policies, bytes: Buffer.byteLength(text) },
      };
    }
    return this.current.policy;
  }

  /** Resolves once `policy` is recorded; undefined when this replica knows it is (nothing to await). */
  whenRecorded(policy: PolicyInForce): Promise<void> | undefined {
    if (this.recorded.has(policy.revision)) return undefined;
    const inFlight = this.recording.get(policy.revision);
    if (inFlight) return inFlight;
    const append = this.record(policy).then(
      () => {
        this.recorded.add(policy.revision);
        this.recording.delete(policy.revision);
      },
      (error: unknown) => {
        this.recording.delete(policy.revision);
        throw error;
      },
    );
    this.recording.set(policy.revision, append);
    return append;
  }

  private async record(policy: PolicyInForce): Promise<void> {
    const { revision, bytes } = policy;
    const subject = this.messaging.naming.eventSubject('gate', 'policy', revision);
    const envelope = createEnvelope({
      type: 'gate.PolicyRevisionRecorded',
      subject,
      source: 'gate',
      actor: GATE_ACTOR,
      data: {
        revision,
        policies: keptPolicies(policy),
        bytes,
        recordedAt: new Date().toISOString(),
      },
    });
    try {
      await this.messaging.eventStore.append(subject, [envelope], 0, {
        timeoutMs: this.config.GATE_RECORD_TIMEOUT_MS,
      });
    } catch (error) {
      // Recorded already: by another replica, or by this one before a restart.
      if (!(error instanceof ConcurrencyError)) throw error;
    }
  }
}
