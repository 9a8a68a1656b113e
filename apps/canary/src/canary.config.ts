import { Type, type Static } from '@sinclair/typebox';
import { CommonConfigProperties } from '@bifrost/config';
import { DEFAULT_ALLOWED_GAP_MS } from '@bifrost/domain-canary';

/** The Bifrost services whose /health/ready the default probes watch: scripts/start.mjs ports. */
export const DEFAULT_SERVICE_URLS =
  'api-gateway=http://127.0.0.1:3000,gate=http://127.0.0.1:3001,risk-guard=http://127.0.0.1:3002,' +
  'projector=http://127.0.0.1:3003,tripwire=http://127.0.0.1:3004,heimdall=http://127.0.0.1:3005,' +
  'governance-agent=http://127.0.0.1:3007';

export const CanaryConfig = Type.Object({
  ...CommonConfigProperties,
  /** Define the default probes (NATS, Postgres, every service's /health/ready) on first start. */
  CANARY_DEFAULT_PROBES: Type.Boolean({ default: true }),
  /** `name=baseUrl` pairs, comma-separated: the services the default readiness probes watch. */
  CANARY_SERVICE_URLS: Type.String({ default: DEFAULT_SERVICE_URLS }),
  /** Allowed heartbeat silence of an engine without its own policy. */
  CANARY_HEARTBEAT_GAP_MS: Type.Integer({ minimum: 1_000, default: DEFAULT_ALLOWED_GAP_MS }),
  /** How often watched engines are checked for silence. */
  CANARY_HEARTBEAT_SWEEP_MS: Type.Integer({ minimum: 10, default: 1_000 }),
  /** How often a canary.SummaryReported is published. */
  CANARY_SUMMARY_INTERVAL_MS: Type.Integer({ minimum: 1_000, default: 300_000 }),
  /** Save the in-memory state to the KV snapshot after this many events (and on stop). */
  CANARY_SNAPSHOT_EVERY: Type.Integer({ minimum: 1, default: 1_000 }),
});
export type CanaryConfig = Static<typeof CanaryConfig>;

export const CANARY_CONFIG = 'canary:CONFIG';

/** Parses CANARY_SERVICE_URLS; an entry without `=` or URL is a config error. */
export function serviceUrls(value: string): Record<string, string> {
  const urls: Record<string, string> = {};
  for (const entry of value
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean)) {
    const [name, url] = entry.split('=', 2).map((s) => s.trim());
    if (!name || !url || !/^https?:\/\//.test(url) || !/^[A-Za-z0-9][A-Za-z0-9_-]*$/.test(name))
      throw new Error(`CANARY_SERVICE_URLS: "${entry}" is not name=http(s)://host:port`);
    urls[name] = url;
  }
  return urls;
}
