import { connect as tcpConnect } from 'node:net';
import { Client } from 'pg';
import { clipText, type ProbeConfig } from '@bifrost/contracts';
import type { Messaging } from '@bifrost/messaging';

export interface CheckResult {
  readonly passed: boolean;
  /** `ok`, or what failed: `HTTP 503`, `timeout after 2000 ms`, `ECONNREFUSED` … */
  readonly detail: string;
  readonly latencyMs: number;
}

export interface CheckDeps {
  readonly messaging: Messaging;
  /** What a postgres probe targeting `$DATABASE_URL` connects to. */
  readonly databaseUrl?: string;
}

/**
 * Most code points of a failure's description: error messages may quote the whole target (up to
 * 500 code points) or a server's text, and the detail still has to fit an alert's reason after
 * its prefix.
 */
const MAX_DETAIL_LENGTH = 300;

/**
 * Replies that mean nobody answered: the NATS path (or the responder) is broken, or the canary's
 * own connection is closed or draining and nothing was sent.
 */
const NO_ANSWER = new Set(['RPC.NO_RESPONDERS', 'RPC.TIMEOUT', 'INFRA.CONNECTION_CLOSED']);

/**
 * Runs one check of a probe. Never throws and never outlives `timeoutMs` by more than a few ms:
 * every kind gets an AbortSignal, and a hard deadline settles the check even if a client library
 * ignores it, so a hung target is a timeout failure and the probe's loop keeps its rhythm.
 */
export async function runCheck(probe: ProbeConfig, deps: CheckDeps): Promise<CheckResult> {
  const started = process.hrtime.bigint();
  const elapsed = () => Math.round(Number(process.hrtime.bigint() - started) / 1e6);
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<string>((resolve) => {
    timer = setTimeout(() => {
      controller.abort();
      resolve(`timeout after ${probe.timeoutMs} ms`);
    }, probe.timeoutMs);
  });
  try {
    const outcome = await Promise.race([
      checkByKind(probe, deps, controller.signal).then(
        (failure) => failure,
        (error: unknown) => describeError(error),
      ),
      deadline,
    ]);
    return {
      passed: outcome === null,
      detail: outcome === null ? 'ok' : clipText(outcome, MAX_DETAIL_LENGTH),
      latencyMs: elapsed(),
    };
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
}

/** Resolves null when the check passed, or a description of the failure. */
function checkByKind(probe: ProbeConfig, deps: CheckDeps, signal: AbortSignal): Promise<string | null> {
  switch (probe.kind) {
    case 'http':
      return checkHttp(probe, signal);
    case 'tcp':
      return checkTcp(probe.target, signal);
    case 'nats':
      return checkNats(probe, deps.messaging);
    case 'postgres':
      return checkPostgres(probe, deps.databaseUrl, signal);
    default: {
      const unknown: never = probe.kind;
      return Promise.resolve(`unknown probe kind ${String(unknown)}`);
    }
  }
}

async function checkHttp(probe: ProbeConfig, signal: AbortSignal): Promise<string | null> {
  const response = await fetch(probe.target, { signal, headers: { 'user-agent': 'bifrost-canary' } });
  const statusOk =
    probe.expectStatus === undefined
      ? response.status >= 200 && response.status < 300
      : response.status === probe.expectStatus;
  if (probe.expectBody === undefined) {
    await response.body?.cancel().catch(() => undefined);
    return statusOk ? null : `HTTP ${response.status}`;
  }
  const body = await response.text();
  if (!statusOk) return `HTTP ${response.status}`;
  return body.includes(probe.expectBody) ? null : `body does not contain "${probe.expectBody}"`;
}

function checkTcp(target: string, signal: AbortSignal): Promise<string | null> {
  const separator = target.lastIndexOf(':');
  const host = target.slice(0, separator).replace(/^\[|\]$/g, '');
  const port = Number(target.slice(separator + 1));
  return new Promise((resolve) => {
    const socket = tcpConnect({ host, port });
    const finish = (result: string | null) => {
      signal.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(result);
    };
    const onAbort = () => finish('aborted');
    signal.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish(null));
    socket.once('error', (error) => finish(describeError(error)));
  });
}

async function checkNats(probe: ProbeConfig, messaging: Messaging): Promise<string | null> {
  const reply = await messaging.rpc.request(probe.target, {}, { timeoutMs: probe.timeoutMs });
  // Any answer, even an error reply, proves the round trip through the NATS server works.
  if (!reply.ok && NO_ANSWER.has(reply.error.code)) return `${reply.error.code}: ${reply.error.message}`;
  return null;
}

async function checkPostgres(
  probe: ProbeConfig,
  databaseUrl: string | undefined,
  signal: AbortSignal,
): Promise<string | null> {
  const connectionString = probe.target === '$DATABASE_URL' ? databaseUrl : probe.target;
  if (!connectionString) return 'DATABASE_URL is not configured';
  const client = new Client({
    connectionString,
    connectionTimeoutMillis: probe.timeoutMs,
    statement_timeout: probe.timeoutMs,
    query_timeout: probe.timeoutMs,
    application_name: 'bifrost-canary',
  });
  const onAbort = () => void client.end().catch(() => undefined);
  signal.addEventListener('abort', onAbort, { once: true });
  // A client that errors after the check settled must not crash the process.
  client.on('error', () => undefined);
  try {
    await client.connect();
    // A probe's query only reads: it runs alone (a named, prepared statement is one statement, so no
    // `; DROP …` rides along) inside a read-only transaction that is rolled back, whatever login
    // the target's URL carries ($DATABASE_URL is the one that owns the tables).
    await client.query('BEGIN READ ONLY');
    await client.query({ name: 'canary-probe', text: probe.query ?? 'select 1' });
    await client.query('ROLLBACK');
    return null;
  } finally {
    signal.removeEventListener('abort', onAbort);
    await client.end().catch(() => undefined);
  }
}

function describeError(error: unknown): string {
  const e = error as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.cause?.code ?? e.code;
  const message = e.cause?.message ?? e.message ?? String(error);
  return code && !message.includes(code) ? `${code}: ${message}` : message;
}
