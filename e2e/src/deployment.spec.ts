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

  it('should start the service BIFROST_SERVICE names in the image', () => {
    expect(read('deploy/Dockerfile')).toContain(
      'exec node -r @swc-node/register apps/$BIFROST_SERVICE/src/main.ts',
    );
  });
});
