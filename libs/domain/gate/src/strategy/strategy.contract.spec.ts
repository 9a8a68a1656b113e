import { catalogue, gateStrategyMessages } from '@bifrost/contracts';

import { decideCheckEffects } from './strategy.checks';
import { strategyDecider } from './strategy.decider';
import type { StrategyCommand } from './strategy.commands';
import type { StrategyEvent } from './strategy.events';
import {
  HASH_A,
  HASH_B,
  T0,
  at,
  checkRequest,
  engine,
  operator,
  otherOperator,
  usd,
} from './strategy.fixtures';
import { DEFAULT_STRATEGY_POLICY } from './strategy.policy';
import { initialStrategyState, type StrategyState } from './strategy.state';

// Events leave the domain for JetStream, where the catalogue validates them: every type the
// decider emits must satisfy its published schema.

function run(commands: StrategyCommand[]): StrategyEvent[] {
  let state: StrategyState = initialStrategyState();
  const emitted: StrategyEvent[] = [];
  for (const command of commands) {
    const events = strategyDecider.decide(command, state, DEFAULT_STRATEGY_POLICY);
    state = events.reduce(strategyDecider.evolve, state);
    emitted.push(...events);
  }
  // The demotion the scenario ends with is acknowledged by a check answered DEMOTE; the next check asks for approval.
  for (const verdict of ['DEMOTE', 'REQUIRE_APPROVAL'] as const) {
    const { events } = decideCheckEffects(state, {
      request: checkRequest(),
      actionHash: HASH_B,
      verdict,
      approvalId: 'ap-2',
      now: at(100),
      actor: engine,
    });
    state = events.reduce(strategyDecider.evolve, state);
    emitted.push(...events);
  }
  return emitted;
}

const ids = { engineId: 'engine-1', strategyId: 'momentum-1' };
const scenario: StrategyCommand[] = [
  { type: 'RegisterStrategy', ...ids, capital: usd(100_000), now: T0, actor: operator },
  { type: 'SetStrategyCapital', capital: usd(200_000), now: T0, actor: operator },
  {
    type: 'RegisterBaseline',
    winRate: 0.6,
    profitFactor: 1.5,
    avgPnl: usd(40),
    source: 'bt-7',
    now: T0,
    actor: operator,
  },
  ...Array.from(
    { length: 50 },
    (_, i): StrategyCommand => ({
      type: 'RecordOutcome',
      ...ids,
      outcomeId: `o-${i}`,
      pnl: usd(i % 3 === 0 ? -50 : 120),
      now: at(i),
      actor: engine,
    }),
  ),
  { type: 'OverrideMaturity', level: 'L3', reason: 'reviewed', now: at(51), actor: operator },
  { type: 'RecordOutcome', ...ids, outcomeId: 'big-loss', pnl: usd(-30_000), now: at(52), actor: engine },
  ...Array.from(
    { length: 25 },
    (_, i): StrategyCommand => ({
      type: 'RecordOutcome',
      ...ids,
      outcomeId: `bad-${i}`,
      pnl: usd(i % 2 === 0 ? -10 : 1),
      now: at(53),
      actor: engine,
    }),
  ),
  { type: 'ResumeStrategy', reason: 'checked', now: at(54), actor: operator },
  { type: 'PauseStrategy', reason: 'news', cooldownUntil: at(600), now: at(55), actor: operator },
  {
    type: 'IssueToken',
    tokenId: 't-1',
    scope: { actionKinds: ['order.place'] },
    maxNotional: usd(1000),
    expiresAt: at(3600),
    singleUse: false,
    now: at(56),
    actor: operator,
  },
  {
    type: 'ConsumeToken',
    tokenId: 't-1',
    actionHash: HASH_A,
    action: { kind: 'order.place', notional: usd(10) },
    now: at(57),
    actor: engine,
  },
  {
    type: 'ConsumeToken',
    tokenId: 't-x',
    actionHash: HASH_A,
    action: { kind: 'order.place' },
    now: at(57),
    actor: engine,
  },
  { type: 'RevokeToken', tokenId: 't-1', reason: 'done', now: at(58), actor: operator },
  {
    type: 'RecordGateCheck',
    request: checkRequest(),
    actionHash: HASH_A,
    verdict: 'REQUIRE_APPROVAL',
    approvalId: 'ap-1',
    now: at(59),
    actor: engine,
  },
  {
    type: 'ApproveRequest',
    approvalId: 'ap-1',
    approver: otherOperator.id,
    tokenId: 't-2',
    tokenExpiresAt: at(960),
    now: at(60),
    actor: otherOperator,
  },
  { type: 'RevokeAllTokens', reason: 'incident', now: at(61), actor: operator },
  {
    type: 'RecordGateCheck',
    request: checkRequest(),
    actionHash: HASH_B,
    verdict: 'REQUIRE_APPROVAL',
    approvalId: 'ap-3',
    now: at(62),
    actor: engine,
  },
  {
    type: 'RejectRequest',
    approvalId: 'ap-3',
    rejectedBy: otherOperator.id,
    reason: 'no',
    now: at(63),
    actor: otherOperator,
  },
];

describe('Strategy events on the wire', () => {
  const events = run(scenario);

  it.each(events.map((e, i) => [i, e.type, e] as const))(
    'should publish event %i (%s) valid for the catalogue',
    (_, type, event) => {
      expect(catalogue.check({ type: `gate.${type}`, version: 1, data: event.data })).toEqual({ ok: true });
    },
  );

  it('should exercise every event type', () => {
    const published = gateStrategyMessages.map((m) => m.type.replace(/^gate\./, ''));
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(published));
  });
});
