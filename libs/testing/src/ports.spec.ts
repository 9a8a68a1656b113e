import { createServer } from 'node:net';
import { freePort } from './ports';

describe('freePort', () => {
  describe('Given ports asked for by parallel tests', () => {
    it('should give ports below the ephemeral range that a service can listen on', async () => {
      const ports = await Promise.all(Array.from({ length: 20 }, () => freePort()));
      for (const port of ports) {
        expect(port).toBeGreaterThanOrEqual(20_000);
        expect(port).toBeLessThan(32_768);
      }
      const server = createServer();
      const port = ports[0] as number;
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '0.0.0.0', resolve);
      });
      await new Promise((resolve) => server.close(resolve));
    });
  });
});
