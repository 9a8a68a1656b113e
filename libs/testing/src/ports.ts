import { createServer } from 'node:net';

/**
 * Below Linux's default ephemeral range (32768–60999): the kernel never gives these ports to
 * outgoing connections. A port from the ephemeral range, free when checked, was once taken by a
 * parallel test's outgoing connection before the service it was meant for could listen on it
 * (EADDRINUSE, seen in CI).
 */
const FIRST = 20_000;
const COUNT = 12_000;
const ATTEMPTS = 50;
/**
 * Each jest worker draws from its own slice of the range: a port one worker checked and has not
 * bound yet (a stack of services takes seconds to start) cannot be drawn by another (EADDRINUSE
 * between two workers, seen in CI). Within a worker, tests run one after another.
 */
const SLICES = 16;
const SLICE = Math.floor(COUNT / SLICES);
const SLICE_START = FIRST + ((Number(process.env['JEST_WORKER_ID'] ?? '1') - 1) % SLICES) * SLICE;

/** Whether nothing listens on `port` on any interface (the services listen on 0.0.0.0). */
function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '0.0.0.0', () => server.close(() => resolve(true)));
  });
}

/** A TCP port that was free a moment ago, outside the ephemeral range (for services started by a test). */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt += 1) {
    const port = SLICE_START + Math.floor(Math.random() * SLICE);
    if (await isFree(port)) return port;
  }
  throw new Error(`no free port among ${ATTEMPTS} tries in ${SLICE_START}–${SLICE_START + SLICE - 1}`);
}
