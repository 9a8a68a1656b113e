import { clipText, INCIDENT_SEVERITIES, type IncidentSeverity } from '@bifrost/contracts';
import { ValidationError } from '@bifrost/event-sourcing';
import {
  commandTypesIn,
  severityRank,
  windowMetrics,
  type MetricsHistory,
  type WindowMetrics,
} from './command-metrics';

/** Whole minutes, `1m` to `60m` (the contract's `BreakerWindow` checks the form and range). */
export type BreakerWindow = string;

export const BREAKER_ACTIONS = ['revert_to_l3', 'pause_command_type', 'alert_only'] as const;
export type BreakerAction = (typeof BREAKER_ACTIONS)[number];

/** A circuit breaker: when `condition` holds over the last `window`, the agent takes `action`. */
export interface BreakerRule {
  readonly ruleId: string;
  readonly name: string;
  /** In the rule language, e.g. `errorRate > 0.05` (see `parseCondition`). */
  readonly condition: string;
  readonly window: BreakerWindow;
  readonly action: BreakerAction;
  /** Only this command type's commands (and incidents attributed to it) count. */
  readonly commandType?: string;
  readonly enabled: boolean;
}

/** The four rules of seed 003, every engine's initial rules. */
export const DEFAULT_BREAKER_RULES: readonly BreakerRule[] = [
  {
    ruleId: 'high-error-rate',
    name: 'High Error Rate',
    condition: 'errorRate > 0.05',
    window: '5m',
    action: 'revert_to_l3',
    enabled: true,
  },
  {
    ruleId: 'repeated-command-failures',
    name: 'Repeated Command Failures',
    condition: 'failures >= 3',
    window: '5m',
    action: 'pause_command_type',
    enabled: true,
  },
  {
    ruleId: 'critical-incident',
    name: 'Critical Incident',
    condition: 'severity == critical',
    window: '1m',
    action: 'revert_to_l3',
    enabled: true,
  },
  {
    ruleId: 'high-rollback-rate',
    name: 'High Rollback Rate',
    condition: 'rollbackRate > 0.10',
    window: '15m',
    action: 'alert_only',
    enabled: true,
  },
];

// ---------------------------------------------------------------------------------------------
// The rule language:
//   condition  := disjunct ( 'or' disjunct )*
//   disjunct   := term ( 'and' term )*
//   term       := comparison | '(' condition ')'
//   comparison := metric op literal        op ∈ > >= < <= == !=
//   literal    := number [ '%' ] | severity (low | medium | high | critical)
// Metrics are the numeric fields of WindowMetrics, plus `severity` (= maxSeverity, compared by
// rank; "no incident" ranks below low). Parsed by hand into a tree: no eval, no dynamic code.
// ---------------------------------------------------------------------------------------------

export const NUMERIC_METRICS = [
  'commands',
  'successes',
  'errors',
  'rollbacks',
  'failures',
  'successRate',
  'errorRate',
  'rollbackRate',
  'approvalRate',
  'approvalsRequired',
  'approvalsGranted',
  'incidents',
  'criticalIncidents',
] as const satisfies readonly (keyof WindowMetrics)[];
export type NumericMetric = (typeof NUMERIC_METRICS)[number];

export const COMPARISON_OPERATORS = ['>', '>=', '<', '<=', '==', '!='] as const;
export type ComparisonOperator = (typeof COMPARISON_OPERATORS)[number];

export type Condition =
  | {
      readonly kind: 'compare';
      readonly metric: NumericMetric;
      readonly op: ComparisonOperator;
      readonly value: number;
    }
  | {
      readonly kind: 'severity';
      readonly op: ComparisonOperator;
      readonly value: IncidentSeverity;
    }
  | { readonly kind: 'and' | 'or'; readonly left: Condition; readonly right: Condition };

export const MAX_CONDITION_LENGTH = 500;
export const BAD_CONDITION = 'GOVERNANCE.BAD_CONDITION';

type Token =
  | { readonly kind: 'word'; readonly text: string; readonly at: number }
  | { readonly kind: 'number'; readonly value: number; readonly text: string; readonly at: number }
  | { readonly kind: 'op'; readonly text: ComparisonOperator; readonly at: number }
  | { readonly kind: 'paren'; readonly text: '(' | ')'; readonly at: number };

/** Parses a rule condition; throws ValidationError (code GOVERNANCE.BAD_CONDITION) saying where it went wrong. */
export function parseCondition(text: string): Condition {
  if (text.length > MAX_CONDITION_LENGTH) {
    throw badCondition(text, `longer than ${MAX_CONDITION_LENGTH} characters`, MAX_CONDITION_LENGTH);
  }
  const tokens = tokenize(text);
  let next = 0;
  const peek = (): Token | undefined => tokens[next];
  const end = text.length;

  const parseOr = (depth: number): Condition => {
    let left = parseAnd(depth);
    while (isWord(peek(), 'or')) {
      next += 1;
      left = { kind: 'or', left, right: parseAnd(depth) };
    }
    return left;
  };
  const parseAnd = (depth: number): Condition => {
    let left = parseTerm(depth);
    while (isWord(peek(), 'and')) {
      next += 1;
      left = { kind: 'and', left, right: parseTerm(depth) };
    }
    return left;
  };
  const parseTerm = (depth: number): Condition => {
    const token = peek();
    if (token?.kind === 'paren' && token.text === '(') {
      if (depth >= 10) throw badCondition(text, 'parentheses nested too deeply', token.at);
      next += 1;
      const inner = parseOr(depth + 1);
      const close = peek();
      if (close?.kind !== 'paren' || close.text !== ')') {
        throw badCondition(text, `expected ")" ${describe(close)}`, close?.at ?? end);
      }
      next += 1;
      return inner;
    }
    return parseComparison();
  };
  const parseComparison = (): Condition => {
    const metric = peek();
    if (metric?.kind !== 'word' || metric.text === 'and' || metric.text === 'or') {
      throw badCondition(text, `expected a metric ${describe(metric)}`, metric?.at ?? end);
    }
    next += 1;
    const op = peek();
    if (op?.kind !== 'op') {
      throw badCondition(
        text,
        `expected one of ${COMPARISON_OPERATORS.join(' ')} ${describe(op)}`,
        op?.at ?? end,
      );
    }
    next += 1;
    const literal = peek();
    next += 1;
    if (metric.text === 'severity' || metric.text === 'maxSeverity') {
      if (literal?.kind !== 'word' || !isSeverity(literal.text)) {
        throw badCondition(
          text,
          `expected a severity (${INCIDENT_SEVERITIES.join(', ')}) ${describe(literal)}`,
          literal?.at ?? end,
        );
      }
      return { kind: 'severity', op: op.text, value: literal.text };
    }
    if (!isNumericMetric(metric.text)) {
      throw badCondition(
        text,
        `unknown metric "${metric.text}" (known: ${[...NUMERIC_METRICS, 'severity', 'maxSeverity'].join(', ')})`,
        metric.at,
      );
    }
    if (literal?.kind !== 'number') {
      throw badCondition(text, `expected a number ${describe(literal)}`, literal?.at ?? end);
    }
    return { kind: 'compare', metric: metric.text, op: op.text, value: literal.value };
  };

  if (tokens.length === 0) throw badCondition(text, 'empty condition', 0);
  const condition = parseOr(0);
  const rest = peek();
  if (rest) throw badCondition(text, `unexpected ${describe(rest).replace(/^but found /, '')}`, rest.at);
  return condition;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const rest = text.slice(i);
    const space = /^\s+/.exec(rest);
    if (space) {
      i += space[0].length;
      continue;
    }
    const op = /^(>=|<=|==|!=|>|<)/.exec(rest);
    if (op) {
      tokens.push({ kind: 'op', text: op[0] as ComparisonOperator, at: i });
      i += op[0].length;
      continue;
    }
    if (rest[0] === '(' || rest[0] === ')') {
      tokens.push({ kind: 'paren', text: rest[0], at: i });
      i += 1;
      continue;
    }
    const number = /^(\d+(?:\.\d+)?|\.\d+)(%?)(?![A-Za-z0-9_.])/.exec(rest);
    if (number) {
      // 4.1% is the number 0.041 exactly as written "0.041" is (4.1 / 100 is 0.040999…).
      const value = Number(number[2] === '%' ? `${number[1]}e-2` : number[1]);
      tokens.push({ kind: 'number', value, text: number[0], at: i });
      i += number[0].length;
      continue;
    }
    const word = /^[A-Za-z][A-Za-z0-9_]*/.exec(rest);
    if (word) {
      tokens.push({ kind: 'word', text: word[0], at: i });
      i += word[0].length;
      continue;
    }
    throw badCondition(text, `unexpected character "${rest[0]}"`, i);
  }
  return tokens;
}

function isWord(token: Token | undefined, word: string): boolean {
  return token?.kind === 'word' && token.text === word;
}

function isNumericMetric(text: string): text is NumericMetric {
  return (NUMERIC_METRICS as readonly string[]).includes(text);
}

function isSeverity(text: string): text is IncidentSeverity {
  return (INCIDENT_SEVERITIES as readonly string[]).includes(text);
}

function describe(token: Token | undefined): string {
  return token === undefined ? 'but the condition ended' : `but found "${token.text}"`;
}

function badCondition(condition: string, problem: string, position: number): ValidationError {
  return new ValidationError(`bad breaker condition at position ${position}: ${problem}`, {
    code: BAD_CONDITION,
    details: { condition: clipText(condition, MAX_CONDITION_LENGTH), position },
  });
}

/** Whether the condition holds for these metrics. */
export function conditionHolds(condition: Condition, metrics: WindowMetrics): boolean {
  switch (condition.kind) {
    case 'compare':
      return compare(metrics[condition.metric], condition.op, condition.value);
    case 'severity':
      return compare(severityRank(metrics.maxSeverity), condition.op, severityRank(condition.value));
    case 'and':
      return conditionHolds(condition.left, metrics) && conditionHolds(condition.right, metrics);
    case 'or':
      return conditionHolds(condition.left, metrics) || conditionHolds(condition.right, metrics);
    default: {
      const unreachable: never = condition;
      return unreachable;
    }
  }
}

function compare(left: number, op: ComparisonOperator, right: number): boolean {
  switch (op) {
    case '>':
      return left > right;
    case '>=':
      return left >= right;
    case '<':
      return left < right;
    case '<=':
      return left <= right;
    case '==':
      return left === right;
    case '!=':
      return left !== right;
    default: {
      const unreachable: never = op;
      return unreachable;
    }
  }
}

/** The condition written back in the rule language (normalised spacing). */
export function formatCondition(condition: Condition): string {
  switch (condition.kind) {
    case 'compare':
      return `${condition.metric} ${condition.op} ${condition.value}`;
    case 'severity':
      return `severity ${condition.op} ${condition.value}`;
    case 'and':
    case 'or': {
      const side = (c: Condition) =>
        c.kind === 'or' && condition.kind === 'and' ? `(${formatCondition(c)})` : formatCondition(c);
      return `${side(condition.left)} ${condition.kind} ${side(condition.right)}`;
    }
    default: {
      const unreachable: never = condition;
      return unreachable;
    }
  }
}

function metricsOf(condition: Condition): string[] {
  switch (condition.kind) {
    case 'compare':
      return [condition.metric];
    case 'severity':
      return ['maxSeverity'];
    case 'and':
    case 'or':
      return [...metricsOf(condition.left), ...metricsOf(condition.right)];
    default: {
      const unreachable: never = condition;
      return unreachable;
    }
  }
}

export interface RuleEvaluation {
  readonly tripped: boolean;
  /** The window, the command count and every metric the condition reads, as evaluated. */
  readonly observed: Record<string, number | string | null>;
  readonly explanation: string;
  /**
   * The command types to pause when a `pause_command_type` rule trips: its own `commandType`, or,
   * for a rule without one, every command type whose own metrics meet the condition. Empty for
   * the other actions.
   */
  readonly commandTypes: readonly string[];
}

/**
 * Evaluates a rule over the window ending at `now`. A disabled rule never trips. A
 * `pause_command_type` rule without a `commandType` is evaluated per command type seen in the
 * window (three failures of SET_FAN pause SET_FAN, not every type); `observed` then shows the
 * worst-hit type's metrics.
 */
export function evaluateRule(rule: BreakerRule, h: MetricsHistory, now: string): RuleEvaluation {
  const condition = parseCondition(rule.condition);
  if (!rule.enabled) {
    const metrics = windowMetrics(h, rule.window, now, rule.commandType);
    return {
      tripped: false,
      observed: observedOf(condition, metrics, rule.commandType),
      explanation: `${rule.name}: disabled`,
      commandTypes: [],
    };
  }
  if (rule.action === 'pause_command_type' && rule.commandType === undefined) {
    const types = commandTypesIn(h, rule.window, now);
    const perType = types.map((type) => ({ type, metrics: windowMetrics(h, rule.window, now, type) }));
    const tripped = perType.filter((t) => conditionHolds(condition, t.metrics));
    const shown =
      tripped[0] ??
      perType.reduce<(typeof perType)[number] | undefined>(
        (worst, t) => (worst === undefined || t.metrics.failures > worst.metrics.failures ? t : worst),
        undefined,
      );
    const metrics = shown?.metrics ?? windowMetrics(h, rule.window, now);
    const observed = observedOf(condition, metrics, shown?.type);
    return {
      tripped: tripped.length > 0,
      observed,
      explanation:
        tripped.length > 0
          ? `${rule.name}: ${formatCondition(condition)} holds over ${rule.window} for ${tripped.map((t) => t.type).join(', ')} (${describeObserved(observed)})`
          : `${rule.name}: ${formatCondition(condition)} holds for no command type over ${rule.window}${shown ? ` (worst ${describeObserved(observed)})` : ' (no commands)'}`,
      commandTypes: tripped.map((t) => t.type),
    };
  }
  const metrics = windowMetrics(h, rule.window, now, rule.commandType);
  const holds = conditionHolds(condition, metrics);
  const observed = observedOf(condition, metrics, rule.commandType);
  return {
    tripped: holds,
    observed,
    explanation: `${rule.name}: ${formatCondition(condition)} ${holds ? 'holds' : 'does not hold'} over ${rule.window} (${describeObserved(observed)})`,
    commandTypes: holds && rule.action === 'pause_command_type' && rule.commandType ? [rule.commandType] : [],
  };
}

function observedOf(
  condition: Condition,
  metrics: WindowMetrics,
  commandType: string | undefined,
): Record<string, number | string | null> {
  const observed: Record<string, number | string | null> = { window: metrics.window };
  if (commandType !== undefined) observed['commandType'] = commandType;
  observed['commands'] = metrics.commands;
  for (const name of metricsOf(condition)) observed[name] = metrics[name as keyof WindowMetrics];
  return observed;
}

function describeObserved(observed: Record<string, number | string | null>): string {
  return Object.entries(observed)
    .filter(([key]) => key !== 'window')
    .map(([key, value]) => `${key}=${typeof value === 'number' ? round(value) : String(value)}`)
    .join(', ');
}

function round(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}
