import { GLOBAL_POLICY_ID, type Envelope, type LedgerEntry, type RiskPolicy } from '@bifrost/contracts';
import {
  dayKey,
  policyDecider,
  riskLedgerDecider,
  type LedgerState,
  type PolicyEvent,
  type PolicyState,
} from '@bifrost/domain-risk';
import { fold } from '@bifrost/event-sourcing';
import { createEnvelope, stateVersionOf, toDomainEvent, type Messaging } from '@bifrost/messaging';

/** One aggregate's folded state and the stream sequence of its subject's last event. */
export interface Versioned<S> {
  readonly state: S;
  readonly lastSequence: number;
}

/** Everything risk-guard decides against: every policy, and the current day's ledger. */
export interface RiskBook {
  readonly policies: Readonly<Record<string, Versioned<PolicyState>>>;
  readonly ledger: Versioned<LedgerState>;
}

const LEDGER_SNAPSHOT_KEY = 'risk-guard.ledger';
/** A snapshot folded by another ledger layout is left unread (ADR 0018). */
const LEDGER_STATE_VERSION = stateVersionOf([
  { aggregateType: 'ledger', stateVersion: riskLedgerDecider.stateVersion },
]);

/** Reads and writes risk-guard's aggregates on JetStream (ADR 0001: one subject per aggregate). */
export class RiskBookStore {
  /** Of the events stream the ledger was last loaded from; its snapshots carry it. */
  private streamCreated?: string;

  constructor(
    private readonly messaging: Messaging,
    private readonly actorId: string,
  ) {}

  private get naming() {
    return this.messaging.naming;
  }

  policySubject(policyId: string): string {
    return this.naming.eventSubject('risk', 'policy', policyId);
  }

  ledgerSubject(day: string): string {
    return this.naming.eventSubject('risk', 'ledger', day);
  }

  /** Snapshot + tail for the latest ledger day, full replay for the (few) policies. */
  async load(): Promise<RiskBook> {
    return { policies: await this.loadPolicies(), ledger: await this.loadLedger() };
  }

  async loadPolicies(): Promise<RiskBook['policies']> {
    const policies: Record<string, Versioned<PolicyState>> = {};
    await this.messaging.eventStore.readAll(this.policyFilter, 1, ({ envelope, sequence }) => {
      const event = toDomainEvent(envelope) as PolicyEvent;
      const current = policies[event.data.policyId]?.state ?? policyDecider.initialState();
      policies[event.data.policyId] = { state: policyDecider.evolve(current, event), lastSequence: sequence };
    });
    return policies;
  }

  /** Every policy subject, namespace applied. */
  get policyFilter(): string {
    return this.naming.qualify('bifrost.evt.risk.policy.>');
  }

  /**
   * The latest ledger day from the snapshot and its tail. Without a usable snapshot, the two days
   * before it are replayed first: the day keeps the previous day's closed reservations for late
   * settles, and those include reservations of the day before that which were settled late.
   */
  async loadLedger(): Promise<Versioned<LedgerState>> {
    const days = await this.ledgerDays();
    const day = days.at(-1);
    this.streamCreated = await this.messaging.eventStore.streamCreated();
    if (day === undefined) return { state: riskLedgerDecider.initialState(), lastSequence: 0 };
    const { snapshot } = await this.messaging.snapshots.load<LedgerState>(LEDGER_SNAPSHOT_KEY, {
      streamCreated: this.streamCreated,
      stateVersion: LEDGER_STATE_VERSION,
    });
    if (snapshot?.state.status === 'open' && snapshot.state.day === day)
      return this.replayDay(day, snapshot.lastSequence + 1, snapshot.state);
    let state = riskLedgerDecider.initialState();
    for (const earlier of days.slice(-3, -1)) state = (await this.replayDay(earlier, 1, state)).state;
    return this.replayDay(day, 1, state);
  }

  private async replayDay(day: string, from: number, state: LedgerState): Promise<Versioned<LedgerState>> {
    let folded = state;
    const lastSequence = await this.messaging.eventStore.readAll(
      this.ledgerSubject(day),
      from,
      ({ envelope }) => {
        folded = fold(riskLedgerDecider, (envelope.data as { entries: LedgerEntry[] }).entries, folded);
      },
    );
    return { state: folded, lastSequence };
  }

  /** Saves the ledger's snapshot (none before the first day opens); `stored: false` when too large once compressed. */
  async saveSnapshot(
    ledger: Versioned<LedgerState>,
    takenAt: string,
  ): Promise<{ stored: boolean; bytes: number } | undefined> {
    if (ledger.state.status !== 'open') return undefined;
    return this.messaging.snapshots.save(LEDGER_SNAPSHOT_KEY, {
      state: ledger.state,
      lastSequence: ledger.lastSequence,
      takenAt,
      ...(this.streamCreated ? { streamCreated: this.streamCreated } : {}),
      stateVersion: LEDGER_STATE_VERSION,
    });
  }

  /**
   * Appends one batch of ledger entries as a single message, or several when an opening carries its
   * reservations in `ReservationsCarried` entries: each of those starts a message, so that no message
   * outgrows NATS's max_payload. Returns the last message's stream sequence. A cut between them is
   * completed by the next command (the state knows what is left to carry).
   */
  async appendLedger(day: string, entries: LedgerEntry[], expectedSequence: number): Promise<number> {
    const subject = this.ledgerSubject(day);
    const messages: LedgerEntry[][] = [];
    for (const entry of entries) {
      const last = messages.at(-1);
      if (last && entry.type !== 'ReservationsCarried') last.push(entry);
      else messages.push([entry]);
    }
    const envelopes = messages.map((part) =>
      createEnvelope({
        type: 'risk.LedgerEntriesRecorded',
        subject,
        source: 'risk-guard',
        actor: { kind: 'system', id: this.actorId },
        data: { day, entries: part },
      }),
    );
    return this.messaging.eventStore.append(subject, envelopes, expectedSequence);
  }

  /**
   * Whether the day's last entry (at `sequence`) is a leader's fence appended after the day had
   * ended: a takeover after midnight, or a leader closing the day before it opens the next.
   */
  async closedByAFence(state: LedgerState, sequence: number): Promise<boolean> {
    if (state.status !== 'open' || sequence === 0) return false;
    const message = await this.messaging.jsm.streams.getMessage(this.naming.streams.events.name, {
      seq: sequence,
    });
    const last = message?.json<Envelope<{ entries: LedgerEntry[] }>>().data.entries.at(-1);
    return last?.type === 'LeaderChanged' && dayKey(last.data.at, state.timeZone) > state.day;
  }

  async appendPolicyEvent(
    event: PolicyEvent,
    expectedSequence: number,
    actor: Envelope['actor'],
  ): Promise<number> {
    const subject = this.policySubject(event.data.policyId);
    const envelope = createEnvelope({
      type: `risk.${event.type}`,
      subject,
      source: 'risk-guard',
      actor,
      data: event.data,
    });
    return this.messaging.eventStore.append(subject, [envelope], expectedSequence);
  }

  /** The days that have a ledger subject, oldest first, from the stream's per-subject counts. */
  private async ledgerDays(): Promise<string[]> {
    const filter = this.naming.qualify('bifrost.evt.risk.ledger.>');
    const info = await this.messaging.jsm.streams.info(this.naming.streams.events.name, {
      subjects_filter: filter,
    });
    return Object.keys(info.state.subjects ?? {})
      .map((s) => s.slice(s.lastIndexOf('.') + 1))
      .sort();
  }
}

/** The policies in force, as the ledger decider reads them. */
export function policiesInForce(book: Pick<RiskBook, 'policies'>): Record<string, RiskPolicy> {
  const result: Record<string, RiskPolicy> = {};
  for (const [policyId, { state }] of Object.entries(book.policies)) {
    if (state.status === 'defined') result[policyId] = state.policy;
  }
  return result;
}

export function installationCurrency(policies: Readonly<Record<string, RiskPolicy>>): string | undefined {
  return policies[GLOBAL_POLICY_ID]?.maxDailyLoss.currency;
}
