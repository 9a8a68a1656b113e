import { MATURITY_LEVELS, type MaturityLevel } from '@bifrost/contracts';
import { strategyDecider, type PendingDemotion, type StrategyEvent } from '@bifrost/domain-gate';
import { createEnvelope } from '@bifrost/messaging';
import { publishAll, startProjectorHarness, type ProjectorHarness } from '../testing/projector.fixtures';

const ENGINE = 'eng-dem';
const OPERATOR = { kind: 'operator' as const, id: 'op-7' };

/** A strategy's events after its registration; each is stamped a second after the one before. */
type Change = (at: string, pending: PendingDemotion | null) => StrategyEvent;

const promoted =
  (from: MaturityLevel, to: MaturityLevel): Change =>
  (at) => ({
    type: 'MaturityPromoted',
    data: { from, to, evidence: { outcomes: 50, winRate: 0.52, profitFactor: null }, promotedAt: at },
  });
const demoted =
  (from: MaturityLevel, to: MaturityLevel): Change =>
  (at) => ({
    type: 'MaturityDemoted',
    data: {
      from,
      to,
      reason: 'drawdown',
      drawdown: 0.12,
      lossStreak: 0,
      detail: 'drawdown 12 %',
      demotedAt: at,
    },
  });
const overridden =
  (from: MaturityLevel, to: MaturityLevel): Change =>
  (at) => ({
    type: 'MaturityOverridden',
    data: { from, to, reason: 'review', overriddenBy: 'op-7', overriddenAt: at },
  });
/** As the gate acknowledges: the pending demotion, told to the engine. */
const acknowledged: Change = (at, pending) => {
  if (pending === null) throw new Error('nothing pending to acknowledge');
  const { from, to, demotedAt } = pending;
  return { type: 'DemotionAcknowledged', data: { from, to, demotedAt, acknowledgedAt: at } };
};

/**
 * The strategy registered, set to `start` by an override (a raise: nothing pending), then `changes`,
 * as domain events; `gate` is the gate's strategy state after them.
 */
function history(strategyId: string, start: MaturityLevel, changes: readonly Change[]) {
  const at = (i: number) => new Date(Date.UTC(2026, 10, 21, 9, 0, i)).toISOString();
  let gate = strategyDecider.initialState();
  const events: StrategyEvent[] = [];
  const add = (event: StrategyEvent) => {
    events.push(event);
    gate = strategyDecider.evolve(gate, event);
  };
  add({
    type: 'StrategyRegistered',
    data: { engineId: ENGINE, strategyId, level: 'L0', capital: null, registeredAt: at(0) },
  });
  if (start !== 'L0') add(overridden('L0', start)(at(1), null));
  for (const change of changes) {
    if (gate.status !== 'registered') throw new Error('not registered');
    add(change(at(events.length), gate.pendingDemotion));
  }
  if (gate.status !== 'registered') throw new Error('not registered');
  return { strategyId, events, gate };
}

/** Every change the gate may record at `level` with `pending` (an acknowledgement only then). */
function changesAt(level: MaturityLevel, pending: boolean): Change[] {
  const i = MATURITY_LEVELS.indexOf(level);
  const next = MATURITY_LEVELS[i + 1];
  return [
    ...(next === undefined ? [] : [promoted(level, next)]),
    ...MATURITY_LEVELS.slice(0, i).map((to) => demoted(level, to)),
    ...MATURITY_LEVELS.filter((to) => to !== level).map((to) => overridden(level, to)),
    ...(pending ? [acknowledged] : []),
  ];
}

/** Every sequence of `depth` changes from `start`, as the gate would record them. */
function everySequence(start: MaturityLevel, depth: number): Change[][] {
  if (depth === 0) return [[]];
  const shorter = everySequence(start, depth - 1);
  return shorter.flatMap((changes) => {
    const { gate } = history('probe', start, changes);
    return changesAt(gate.level, gate.pendingDemotion !== null).map((change) => [...changes, change]);
  });
}

describe('strategies read model: the pending demotion against real NATS and Postgres', () => {
  let h: ProjectorHarness;

  beforeAll(async () => {
    h = await startProjectorHarness('projstrat');
    h.startProjector();
  });
  afterAll(() => h?.stop());

  /** Publishes each history on its strategy's stream, as the gate does, and reads the rows once projected. */
  async function project(histories: readonly ReturnType<typeof history>[]) {
    await publishAll(
      h.client,
      histories.flatMap(({ strategyId, events }) =>
        events.map((event) =>
          createEnvelope({
            type: `gate.${event.type}`,
            subject: h.ns.naming.eventSubject('gate', 'strategy', `${ENGINE}:${strategyId}`),
            source: 'gate',
            actor: OPERATOR,
            data: event.data,
          }),
        ),
      ),
    );
    await h.caughtUp();
    const rows = await h.rows(
      `SELECT strategy_id, level, demotion_pending, demotion_pending_from FROM strategies
       WHERE engine_id = $1 AND strategy_id = ANY ($2::text[])`,
      [ENGINE, histories.map((x) => x.strategyId)],
    );
    return new Map(rows.map((row) => [row['strategy_id'], row]));
  }

  const pendingOf = (row: Record<string, unknown> | undefined) => ({
    level: row?.['level'],
    pending: row?.['demotion_pending'],
    from: row?.['demotion_pending_from'],
  });

  describe('Given a strategy at L4', () => {
    const cases: [
      string,
      Change[],
      { level: MaturityLevel; pending: boolean; from: MaturityLevel | null },
    ][] = [
      [
        'should keep a demotion pending from L4 when an operator override lowers it to L2',
        [overridden('L4', 'L2')],
        { level: 'L2', pending: true, from: 'L4' },
      ],
      [
        'should keep one demotion pending from L4 when demoted twice, and clear it when acknowledged',
        [demoted('L4', 'L3'), demoted('L3', 'L2'), acknowledged],
        { level: 'L2', pending: false, from: null },
      ],
      [
        'should keep the demotion pending from L4 when demoted to L2 and then promoted to L3',
        [demoted('L4', 'L2'), promoted('L2', 'L3')],
        { level: 'L3', pending: true, from: 'L4' },
      ],
      [
        'should clear the demotion when promoted back to L4',
        [demoted('L4', 'L2'), promoted('L2', 'L3'), promoted('L3', 'L4')],
        { level: 'L4', pending: false, from: null },
      ],
      [
        'should clear the demotion when an override raises it back to L4',
        [demoted('L4', 'L1'), overridden('L1', 'L4')],
        { level: 'L4', pending: false, from: null },
      ],
    ];

    it.each(cases.map(([name, changes, expected], i) => ({ name, changes, expected, i })))(
      '$name',
      async ({ changes, expected, i }) => {
        const strategy = history(`case-${i}`, 'L4', changes);
        expect({ level: strategy.gate.level, pending: strategy.gate.pendingDemotion !== null }).toEqual({
          level: expected.level,
          pending: expected.pending,
        });

        const rows = await project([strategy]);

        expect(pendingOf(rows.get(strategy.strategyId))).toEqual(expected);
      },
    );
  });

  describe('Given every sequence of three maturity changes and acknowledgements from L3', () => {
    it("should hold the gate's pending demotion (from the level the engine knew) after each", async () => {
      const histories = everySequence('L3', 3).map((changes, i) => history(`seq-${i}`, 'L3', changes));
      expect(histories.some(({ gate }) => gate.pendingDemotion !== null)).toBe(true);

      const rows = await project(histories);

      const mismatches = histories.flatMap(({ strategyId, events, gate }) => {
        const expected = {
          level: gate.level,
          pending: gate.pendingDemotion !== null,
          from: gate.pendingDemotion?.from ?? null,
        };
        const actual = pendingOf(rows.get(strategyId));
        return JSON.stringify(actual) === JSON.stringify(expected)
          ? []
          : [{ events: events.map((e) => `${e.type} ${JSON.stringify(e.data)}`), expected, actual }];
      });
      expect(mismatches).toEqual([]);
    });
  });
});
