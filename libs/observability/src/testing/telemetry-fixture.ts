// Child process for telemetry.spec.ts: the OTLP exporter loads `http` with a dynamic import(),
// which Jest's module sandbox cannot run, so the real SDK is exercised in a plain Node process.
// Usage: node -r @swc-node/register telemetry-fixture.ts <otlp-endpoint>
import { startTelemetry } from '../telemetry';

async function main(endpoint: string): Promise<void> {
  const telemetry = startTelemetry({
    serviceName: 'fixture',
    serviceVersion: '1.2.3',
    otlpEndpoint: endpoint,
  });
  // Loaded only after the SDK started, as main.ts does, so HttpInstrumentation can patch it.
  const http = await import('node:http');
  const server = http.createServer((_request, response) => response.end('pong'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  await new Promise<void>((resolve, reject) => {
    http
      .get(`http://127.0.0.1:${port}/ping`, (response) => response.resume().on('end', resolve))
      .on('error', reject);
  });
  await new Promise((resolve) => server.close(resolve));
  await telemetry.shutdown();
}

const endpoint = process.argv[2];
if (endpoint === undefined) throw new Error('usage: telemetry-fixture <otlp-endpoint>');
main(endpoint).catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`);
  process.exitCode = 1;
});
