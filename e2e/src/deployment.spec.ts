import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** Every runnable service: an app with a main.ts (what `npm start` starts). */
const services = readdirSync(join(ROOT, 'apps')).filter((app) =>
  existsSync(join(ROOT, 'apps', app, 'src/main.ts')),
);

describe('deployment files', () => {
  it('should know at least the four core services', () => {
    expect(services).toEqual(expect.arrayContaining(['gate', 'risk-guard', 'projector', 'api-gateway']));
  });

  describe.each(services)('Given the service %s', (service) => {
    it('should run in docker-compose from the shared image', () => {
      const compose = read('docker-compose.yml');
      expect(compose).toMatch(new RegExp(`^  ${service}:\\n    <<: \\*bifrost\\n`, 'm'));
      expect(compose).toMatch(new RegExp(`BIFROST_SERVICE: ${service}\\b`));
    });

    it('should have a Deployment in the Helm chart', () => {
      expect(read('helm/bifrost/values.yaml')).toMatch(new RegExp(`^  ${service}: \\{ replicas: \\d+`, 'm'));
    });
  });

  it('should stop the old projector and canary pod before starting the new one on a Helm upgrade', () => {
    // A second projector is a standby that never reports ready, and two canaries judge heartbeats
    // each from half of them: a rolling update would hang, or pause live engines.
    const values = read('helm/bifrost/values.yaml');
    for (const service of ['projector', 'canary']) {
      expect(values).toMatch(new RegExp(`^  ${service}: \\{ replicas: 1, strategy: Recreate,`, 'm'));
    }
    expect(read('helm/bifrost/templates/deployments.yaml')).toContain(
      '{{- with $svc.strategy }}\n  strategy:\n    type: {{ . }}\n  {{- end }}',
    );
  });

  it('should document every configuration variable of every service in deploy/env.example', () => {
    const sources = [
      'libs/config/src/common-config.ts',
      ...services.flatMap((service) =>
        readdirSync(join(ROOT, 'apps', service, 'src'))
          .filter((file) => /(config|\.service)\.ts$/.test(file))
          .map((file) => `apps/${service}/src/${file}`),
      ),
    ].filter((path) => existsSync(join(ROOT, path)));
    const variables = new Set(
      sources.flatMap((path) =>
        [...read(path).matchAll(/^\s+([A-Z][A-Z0-9_]{2,}): (?:Type\.|rate\()/gm)].map((m) => m[1]),
      ),
    );
    const documented = new Set(
      [...read('deploy/env.example').matchAll(/^([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]),
    );

    expect(variables.size).toBeGreaterThan(20);
    expect([...variables].filter((name) => !documented.has(name))).toEqual([]);
  });

  it('should point the canary of docker-compose at every other service', () => {
    const urls = /CANARY_SERVICE_URLS: (\S+)/.exec(read('docker-compose.yml'))?.[1] ?? '';
    const watched = urls.split(',').map((entry) => entry.split('=')[0]);
    expect(watched.sort()).toEqual(services.filter((s) => s !== 'canary').sort());
  });

  it('should start the service BIFROST_SERVICE names in the image', () => {
    expect(read('deploy/Dockerfile')).toContain(
      'exec node -r @swc-node/register apps/$BIFROST_SERVICE/src/main.ts',
    );
  });
});
