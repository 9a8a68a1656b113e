// Pure verdict composition throughput on one core (issue 3 target: ≥ 200 000 verdicts/s).
// Run: node -r @swc-node/register bench/gate-compose.bench.ts [iterations]
import type { Check, EngineMode, VerdictAction } from '@bifrost/contracts';
import { composeVerdict } from '@bifrost/domain-gate';

const TARGET_PER_SECOND = 200_000;
const iterations = Number(process.argv[2] ?? 2_000_000);

function check(name: string, outcome: VerdictAction, sizeMultiplier?: number): Check {
  return {
    name,
    outcome,
    value: null,
    threshold: null,
    distanceToTrip: null,
    ...(sizeMultiplier === undefined ? {} : { sizeMultiplier }),
  };
}

// Ten checks, the size of a real gate verdict; several variants so the JIT cannot fold one answer.
const names = [
  'executionClass',
  'goLiveChecklist',
  'killSwitch',
  'enginePause',
  'autonomyPhase',
  'maturity',
  'health',
  'drift',
  'impact',
  'token',
];
const variants: Check[][] = [
  names.map((n) => check(n, 'ALLOW')),
  names.map((n, i) => check(n, i === 6 ? 'REDUCE_SIZE' : 'ALLOW', i === 6 ? 0.8 : undefined)),
  names.map((n, i) => check(n, i === 5 ? 'REQUIRE_APPROVAL' : 'ALLOW', i === 5 ? 0.1 : undefined)),
  names.map((n, i) => check(n, i === 2 ? 'KILL' : 'ALLOW')),
];
const modes: EngineMode[] = ['enforce', 'enforce', 'enforce', 'observe'];

function run(count: number): number {
  let sink = 0;
  for (let i = 0; i < count; i += 1) {
    const k = i & 3;
    sink += composeVerdict(variants[k] as Check[], modes[k] as EngineMode).sizeMultiplier;
  }
  return sink;
}

run(200_000); // warm-up
const started = process.hrtime.bigint();
const sink = run(iterations);
const seconds = Number(process.hrtime.bigint() - started) / 1e9;
const perSecond = Math.round(iterations / seconds);

process.stdout.write(
  [
    `gate composition: ${iterations} verdicts of ${names.length} checks in ${seconds.toFixed(3)} s`,
    `  ${perSecond.toLocaleString('en-US')} verdicts/s (target ${TARGET_PER_SECOND.toLocaleString('en-US')}: ${perSecond >= TARGET_PER_SECOND ? 'met' : 'MISSED'})`,
    `  ${((seconds / iterations) * 1e9).toFixed(0)} ns/verdict (checksum ${sink.toFixed(1)})`,
    '',
  ].join('\n'),
);
