import { Kvm, type KV } from '@nats-io/kv';
import type { Messaging } from '@bifrost/messaging';
import { createTestNamespace, waitFor, type TestNamespace } from '@bifrost/testing';
import { connectClient } from '../risk-guard.fixtures';
import { LeaderLease } from './leader-lease';

jest.setTimeout(30_000);

const TTL_MS = 300;

/**
 * Two instances on connections of their own, against the real KV bucket, each with a clock the test
 * sets: races are made to happen by holding a `get` until the other instance has read (or written).
 */
describe('LeaderLease against the NATS KV bucket', () => {
  let ns: TestNamespace;
  let connections: Messaging[];
  let kvA: KV;
  let kvB: KV;
  let kvC: KV;
  let now: number;
  let key: string;
  let keys = 0;
  const clock = () => now;

  beforeAll(async () => {
    ns = await createTestNamespace('leaselease');
    connections = await Promise.all(['lease-a', 'lease-b', 'lease-c'].map((name) => connectClient(ns, name)));
    [kvA, kvB, kvC] = (await Promise.all(
      connections.map((c) => new Kvm(c.js).open(ns.naming.snapshotBucket)),
    )) as [KV, KV, KV];
  });
  beforeEach(() => {
    now = 1_700_000_000_000;
    keys += 1;
    key = `risk-guard.leader-${keys}`;
  });
  afterEach(() => jest.restoreAllMocks());
  afterAll(async () => {
    for (const c of connections ?? []) await c.drain();
    await ns?.cleanup();
  });

  const lease = (kv: KV, holder: string, at: () => number = clock) =>
    new LeaderLease(kv, key, holder, TTL_MS, at);

  async function holderInBucket(): Promise<string | undefined> {
    const entry = await kvC.get(key);
    return entry?.json<{ holder: string }>().holder;
  }

  it.each([
    ['free', undefined],
    ['expired', { holder: 'crashed', expiresAt: -1 }],
  ])('should let exactly one of two instances take the lease when both read it %s', async (_, found) => {
    if (found) await kvC.put(key, JSON.stringify({ ...found, expiresAt: now + found.expiresAt }));
    const a = lease(kvA, 'a');
    const b = lease(kvB, 'b');
    const bothRead = barrier(2);
    holdAfterGet(kvA, bothRead);
    holdAfterGet(kvB, bothRead);

    const taken = await Promise.all([a.acquire(), b.acquire()]);

    expect(taken.filter(Boolean)).toHaveLength(1);
    const [winner, loser] = taken[0] ? [a, b] : [b, a];
    expect([winner.held, loser.held]).toEqual([true, false]);
    expect(await holderInBucket()).toBe(winner.holder);
  });

  it('should not let another instance take a lease that has not run out by its clock', async () => {
    const a = lease(kvA, 'a');
    const b = lease(kvB, 'b');
    expect(await a.acquire()).toBe(true);
    now += TTL_MS - 1;

    expect(await b.acquire()).toBe(false);
    expect(b.held).toBe(false);
    expect(b.heldElsewhere).toBe(true);
    expect(a.held).toBe(true);
    expect(await holderInBucket()).toBe('a');
  });

  it('should stop leading by its own clock when it has not renewed within the lease, and let another take over', async () => {
    const a = lease(kvA, 'a');
    const b = lease(kvB, 'b');
    expect(await a.acquire()).toBe(true);
    now += TTL_MS - 1;
    expect(a.held).toBe(true);

    now += 1;

    // No KV call in between: a stalled holder knows from its clock alone.
    expect(a.held).toBe(false);
    expect(await b.acquire()).toBe(true);
    expect(b.heldElsewhere).toBe(false);
    expect(await a.acquire()).toBe(false);
    expect([a.held, a.heldElsewhere]).toEqual([false, true]);
  });

  it('should let exactly one win when the holder renews just as the lease runs out and another takes it', async () => {
    const a = lease(kvA, 'a');
    const b = lease(kvB, 'b');
    expect(await a.acquire()).toBe(true);
    now += TTL_MS;
    const bothRead = barrier(2);
    holdAfterGet(kvA, bothRead);
    holdAfterGet(kvB, bothRead);

    const [renewed, taken] = await Promise.all([a.acquire(), b.acquire()]);

    expect([renewed, taken].filter(Boolean)).toHaveLength(1);
    expect([a.held, b.held]).toEqual([renewed, taken]);
    expect(await holderInBucket()).toBe(renewed ? 'a' : 'b');
  });

  it('should not lead once it lost a renewal to a revision conflict, though its lease still runs by its clock', async () => {
    const a = lease(kvA, 'a');
    // A clock a whole lease ahead: to it, a's lease has run out.
    const b = lease(kvB, 'b', () => now + TTL_MS);
    expect(await a.acquire()).toBe(true);
    now += 1;
    // a reads its own lease, then b takes it before a's update lands.
    holdAfterGet(kvA, async () => expect(await b.acquire()).toBe(true));

    const renewed = await a.acquire();

    expect(renewed).toBe(false);
    expect(a.held).toBe(false);
    expect(b.held).toBe(true);
    expect(await holderInBucket()).toBe('b');
  });

  it('should take its lease back at once after a renewal whose answer was lost, not wait it out', async () => {
    const a = lease(kvA, 'a');
    const b = lease(kvB, 'b');
    expect(await a.acquire()).toBe(true);
    now += 1;
    // The renewal lands in the bucket, but its answer never reaches a.
    const update = kvA.update.bind(kvA);
    jest.spyOn(kvA, 'update').mockImplementationOnce(async (...args) => {
      await update(...args);
      throw new Error('TIMEOUT');
    });

    expect(await a.acquire()).toBe(false);
    expect(a.held).toBe(false);

    expect(await b.acquire()).toBe(false);
    expect(await a.acquire()).toBe(true);
    expect(a.heldElsewhere).toBe(false);
    expect(await b.acquire()).toBe(false);
    expect(await holderInBucket()).toBe('a');
  });

  it('should let another instance take the lease at once when the holder releases it', async () => {
    const a = lease(kvA, 'a');
    const b = lease(kvB, 'b');
    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(false);

    await a.release();

    expect(a.held).toBe(false);
    expect(await b.acquire()).toBe(true);
    expect(await holderInBucket()).toBe('b');
  });

  it('should leave the lease alone on a release after another instance took it over', async () => {
    const a = lease(kvA, 'a');
    const b = lease(kvB, 'b');
    const c = lease(kvC, 'c');
    expect(await a.acquire()).toBe(true);
    now += TTL_MS;
    expect(await b.acquire()).toBe(true);

    // a never saw that it lost the lease: it releases the revision it last wrote.
    await a.release();

    expect(await c.acquire()).toBe(false);
    expect(c.heldElsewhere).toBe(true);
    expect(await b.acquire()).toBe(true);
    expect(await holderInBucket()).toBe('b');
  });

  it('should run on the system clock by default: a lease not renewed runs out and another takes it', async () => {
    // On the real clock, a lease long enough that a stall of the machine between two reads of it
    // does not let it run out.
    const ttlMs = 3_000;
    const a = new LeaderLease(kvA, key, 'a', ttlMs);
    const b = new LeaderLease(kvB, key, 'b', ttlMs);
    expect(await a.acquire()).toBe(true);
    expect(await b.acquire()).toBe(false);

    await waitFor(() => b.acquire(), { timeoutMs: 15_000, what: 'b takes the lease a did not renew' });

    expect(a.held).toBe(false);
    expect(await a.acquire()).toBe(false);
    expect(await holderInBucket()).toBe('b');
  });
});

/** Lets the first `kv.get` read, then holds its answer until `wait()` settles. */
function holdAfterGet(kv: KV, wait: () => Promise<unknown>): void {
  const get = kv.get.bind(kv);
  jest.spyOn(kv, 'get').mockImplementationOnce(async (...args) => {
    const entry = await get(...args);
    await wait();
    return entry;
  });
}

/** Settles for every caller once `parties` callers have arrived. */
function barrier(parties: number): () => Promise<void> {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return () => {
    arrived += 1;
    if (arrived >= parties) open();
    return opened;
  };
}
