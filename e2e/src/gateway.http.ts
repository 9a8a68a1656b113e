/** An API key as the gateway created it: the public id and the secret shown once. */
export interface Key {
  readonly id: string;
  readonly apiKey: string;
}

export interface RequestOptions {
  readonly key?: string;
  readonly token?: string;
  readonly body?: unknown;
}

export interface Reply {
  readonly status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- assertions dig into bodies freely
  readonly body: any;
}

/** One HTTP call to the gateway with an API key or a bearer token; the body parsed as JSON. */
export async function request(
  base: string,
  method: string,
  path: string,
  options: RequestOptions,
): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (options.key) headers['x-api-key'] = options.key;
  if (options.token) headers['authorization'] = `Bearer ${options.token}`;
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${base}${path}`, {
    method,
    headers,
    ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}),
  });
  const text = await response.text();
  return { status: response.status, body: text === '' ? undefined : JSON.parse(text) };
}

/** Creates an API key as `by` (a key, or the bootstrap owner key's secret). */
export async function createKey(base: string, by: Key | string, body: Record<string, unknown>): Promise<Key> {
  const created = await request(base, 'POST', '/api/v1/keys', {
    key: typeof by === 'string' ? by : by.apiKey,
    body,
  });
  if (created.status !== 201) throw new Error(`key creation failed: ${JSON.stringify(created.body)}`);
  return { id: created.body.id, apiKey: created.body.apiKey };
}

export interface AuditRow {
  readonly seq: number;
  readonly envelope: Record<string, unknown>;
}

/** The audit rows of one event type, oldest first, read through the gateway with `key`. */
export async function auditRows(base: string, key: Key, eventType: string): Promise<AuditRow[]> {
  const reply = await request(base, 'GET', `/api/v1/audit?afterSeq=0&eventType=${eventType}&limit=500`, {
    key: key.apiKey,
  });
  return reply.body.items as AuditRow[];
}
