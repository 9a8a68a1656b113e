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
