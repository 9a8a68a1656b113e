import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../..');
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** Every runnable service: an app with a main.ts (what `npm start` starts). */
const services = readdirSync(join(ROOT, 'apps')).filter((app) =>
  existsSync(join(ROOT, 'apps', app, 'src/main.ts')),
);

/** The services that connect to Postgres; the others must not get its password. */
const DATABASE_SERVICES = ['api-gateway', 'canary', 'projector'];

/**
 * The lines of the YAML mapping entry `key:` at `indent` spaces (its own line included): up to the
 * next line indented as much or less. Enough for the repository's compose file and values.
 */
function entry(text: string, key: string, indent: number): string {
  const lines = text.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`${' '.repeat(indent)}${key}:`));
  if (start < 0) return '';
  const end = lines.findIndex(
    (line, i) => i > start && line.trim() !== '' && line.length - line.trimStart().length <= indent,
  );
  return lines.slice(start, end < 0 ? undefined : end).join('\n');
}

/** Variables the services read, from their config schemas (as the env.example spec finds them). */
function configVariables(): Set<string> {
  const sources = [
    'libs/config/src/common-config.ts',
    ...services.flatMap((service) =>
      readdirSync(join(ROOT, 'apps', service, 'src'))
        .filter((file) => /(config|\.service)\.ts$/.test(file))
        .map((file) => `apps/${service}/src/${file}`),
    ),
  ].filter((path) => existsSync(join(ROOT, path)));
  return new Set(
    sources.flatMap((path) =>
      [...read(path).matchAll(/^\s+([A-Z][A-Z0-9_]{2,}): (?:Type\.|rate\()/gm)].map((m) => m[1] as string),
    ),
  );
}

/** Every metric name the services register: `name: 'bifrost_…'`, and the governance agent's `gauge('…')`. */
function exportedMetrics(): Set<string> {
  const sources = (dir: string): string[] =>
    readdirSync(join(ROOT, dir), { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory()
        ? sources(join(dir, entry.name))
        : /\.ts$/.test(entry.name) && !/spec\.ts$/.test(entry.name)
          ? [read(join(dir, entry.name))]
          : [],
    );
  const names = new Set<string>();
  for (const text of [...sources('apps'), ...sources('libs')]) {
    for (const m of text.matchAll(/name: '(bifrost_[a-z_]+)'/g)) names.add(m[1] as string);
    for (const m of text.matchAll(/\bgauge\(\s*'([a-z_]+)'/g)) names.add(`bifrost_governance_${m[1]}`);
  }
  return names;
}

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
      expect(read('helm/bifrost/values.yaml')).toMatch(
        new RegExp(`^  ${service}:\\n    replicas: \\d+\\n`, 'm'),
      );
    });

    it('should get DATABASE_URL in docker-compose only if it connects to Postgres', () => {
      const compose = read('docker-compose.yml');
      const environment = entry(compose, service, 2);
      expect(entry(compose, 'x-bifrost-env', 0)).not.toContain('DATABASE_URL');
      if (DATABASE_SERVICES.includes(service)) expect(environment).toContain('DATABASE_URL: *database-url');
      else expect(environment).not.toContain('DATABASE_URL');
    });
  });

  it('should run every service with the same V8 flags under npm start, docker-compose and Helm', () => {
    const compose = read('docker-compose.yml');
    const values = read('helm/bifrost/values.yaml');
    const flagsIn = (text: string) => /NODE_OPTIONS: '?([^'\n]*)'?$/m.exec(text)?.[1] ?? '';
    const started = /const NODE_FLAGS = \{([\s\S]*?)\};/.exec(read('scripts/start.mjs'))?.[1] ?? '';
    const startFlags = (service: string) =>
      new RegExp(`^\\s*'?${service}'?: \\[([^\\]]*)\\]`, 'm')
        .exec(started)?.[1]
        ?.split(',')
        .map((flag) => flag.trim().replace(/^'|'$/g, ''))
        .join(' ') ?? '';
    const flags = services.map((service) => ({
      service,
      start: startFlags(service),
      compose: flagsIn(entry(compose, service, 2)),
      helm: flagsIn(entry(entry(values, 'services', 0), service, 2)),
    }));
    for (const f of flags) expect({ ...f, compose: f.start, helm: f.start }).toEqual(f);
    expect(flags.filter((f) => f.start !== '').map((f) => f.service)).toEqual(
      expect.arrayContaining(['gate', 'api-gateway']),
    );
  });

  it('should stop the old projector and canary pod before starting the new one on a Helm upgrade', () => {
    // A second projector is a standby that never reports ready, and two canaries judge heartbeats
    // each from half of them: a rolling update would hang, or pause live engines.
    const values = read('helm/bifrost/values.yaml');
    for (const service of ['projector', 'canary']) {
      expect(values).toMatch(new RegExp(`^  ${service}:\\n    replicas: 1\\n    strategy: Recreate\\n`, 'm'));
    }
    expect(read('helm/bifrost/templates/deployments.yaml')).toContain(
      '{{- with $svc.strategy }}\n  strategy:\n    type: {{ . }}\n  {{- end }}',
    );
  });

  it('should document every configuration variable of every service in deploy/env.example', () => {
    const variables = configVariables();
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
      'exec node --enable-source-maps -r @swc-node/register apps/$BIFROST_SERVICE/src/main.ts',
    );
  });

  describe('Given docker-compose.yml', () => {
    const compose = read('docker-compose.yml');

    it('should pass every variable of deploy/env.example on to the services', () => {
      // Either fixed for the compose network or taken from .env (`${NAME:-}`: empty = the default).
      const documented = [...read('deploy/env.example').matchAll(/^([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]);
      expect(documented.filter((name) => !new RegExp(`^ +${name}: `, 'm').test(compose))).toEqual([]);
    });

    it('should publish NATS and Postgres on the loopback only', () => {
      // NATS has no authentication: whoever reaches it can command the services past the gateway.
      for (const port of ['4222', '8222', '5432']) {
        expect(compose).toContain(`'127.0.0.1:${port}:${port}'`);
        expect(compose).not.toMatch(new RegExp(`- '${port}:`));
      }
    });

    it('should run the Bifrost containers read-only, without capabilities', () => {
      const bifrost = entry(compose, 'x-bifrost', 0);
      expect(bifrost).toContain('read_only: true');
      expect(bifrost).toContain('cap_drop: [ALL]');
      expect(bifrost).toContain("security_opt: ['no-new-privileges:true']");
    });

    it('should keep the shutdown bound below the stop grace period', () => {
      const timeoutMs = Number(/SHUTDOWN_TIMEOUT_MS: '(\d+)'/.exec(compose)?.[1]);
      const graceS = Number(/stop_grace_period: (\d+)s/.exec(compose)?.[1]);
      expect(timeoutMs).toBeGreaterThan(0);
      expect(graceS * 1000).toBeGreaterThan(timeoutMs);
    });

    it("should wait for the projector's migrations however long they take", () => {
      // Before it answers, the projector migrates the database; marked unhealthy meanwhile, it would
      // keep the gateway (depends_on service_healthy) from starting.
      const startPeriod = /start_period: (\d+)m/.exec(entry(compose, 'projector', 2))?.[1];
      expect(Number(startPeriod)).toBeGreaterThanOrEqual(30);
    });
  });

  describe('Given the image', () => {
    const dockerfile = read('deploy/Dockerfile');

    it('should install the runtime dependencies only, from the manifests before the sources', () => {
      expect(dockerfile).toContain('npm ci --omit=dev');
      const install = dockerfile.indexOf('RUN npm ci');
      expect(dockerfile.lastIndexOf('COPY --from=manifests', install)).toBeGreaterThan(0);
      expect(dockerfile.indexOf('COPY . .', install)).toBeGreaterThan(install);
    });

    it('should run as node on files it cannot change', () => {
      expect(dockerfile).toMatch(/^USER node$/m);
      expect(dockerfile).not.toContain('--chown');
    });

    it('should leave secrets, logs and local state out of the build context', () => {
      const ignored = read('.dockerignore').split('\n');
      expect(ignored).toEqual(
        expect.arrayContaining(['**/node_modules', '.git', '**/.data', '**/.env', '**/.env.*', '**/*.log']),
      );
    });
  });

  describe('Given the Helm chart', () => {
    const values = read('helm/bifrost/values.yaml');
    const deployments = read('helm/bifrost/templates/deployments.yaml');

    it('should give DATABASE_URL only from a Secret, and only to the services that use it', () => {
      expect(deployments).not.toMatch(/name: DATABASE_URL, value:/);
      expect(deployments).toContain(
        '- name: DATABASE_URL\n              valueFrom:\n                secretKeyRef:',
      );
      const databaseServices = /\{\{- define "bifrost\.databaseServices" -\}\}\n(.*)\n/.exec(
        read('helm/bifrost/templates/_helpers.tpl'),
      )?.[1];
      expect(databaseServices?.split(' ').sort()).toEqual(DATABASE_SERVICES);
      expect(read('helm/bifrost/templates/database-secret.yaml')).toContain(
        'database-url: {{ .Values.postgres.url | quote }}',
      );
      // No password in the chart's defaults.
      expect(entry(values, 'postgres', 0)).toMatch(/^ {2}url: ''/m);
    });

    it('should give every service a startup probe before liveness may restart it', () => {
      for (const probe of ['startupProbe', 'livenessProbe']) {
        expect(deployments).toContain(`${probe}:\n            httpGet: { path: /health/live, port: http }\n`);
      }
      expect(deployments).toContain(
        'readinessProbe:\n            httpGet: { path: /health/ready, port: http }\n',
      );
      expect(deployments).toContain('failureThreshold: {{ div (add $startup 4) 5 }}');
      // Readiness checks time out after 2 s inside the service; Kubernetes' default is 1 s.
      expect(deployments.match(/timeoutSeconds: \{\{ \$\.Values\.probes\.timeoutSeconds \}\}/g)).toHaveLength(
        3,
      );
      expect(entry(values, 'probes', 0)).toMatch(/^ {2}timeoutSeconds: [3-9]$/m);
      // The projector migrates the database before it answers.
      const projectorStartup = /startupSeconds: (\d+)/.exec(entry(values, 'projector', 2))?.[1];
      expect(Number(projectorStartup)).toBeGreaterThanOrEqual(1800);
    });

    it('should give a pod longer to stop than its service takes to drain', () => {
      expect(deployments).toContain('terminationGracePeriodSeconds: {{ add $preStop $shutdown 5 }}');
      expect(deployments).toContain('{ name: SHUTDOWN_TIMEOUT_MS, value: {{ mul $shutdown 1000 | quote }} }');
      expect(entry(values, 'api-gateway', 2)).toMatch(/^ {4}preStopSleepSeconds: [1-9]/m);
    });

    it('should run the containers non-root and read-only', () => {
      for (const setting of [
        'runAsNonRoot: true',
        'automountServiceAccountToken: false',
        'allowPrivilegeEscalation: false',
        'readOnlyRootFilesystem: true',
        'capabilities: { drop: [ALL] }',
        'seccompProfile: { type: RuntimeDefault }',
      ]) {
        expect(deployments).toContain(setting);
      }
    });

    it('should alert only on metrics the services export', () => {
      const rule = read('helm/bifrost/templates/prometheusrule.yaml');
      const used = new Set(rule.match(/\bbifrost_[a-z_]+/g));
      expect(used.size).toBeGreaterThanOrEqual(10);
      expect([...used].filter((name) => !exportedMetrics().has(name))).toEqual([]);
    });

    it('should raise the governance alerts seed 003 recommends, with its thresholds and timing', () => {
      const rule = read('helm/bifrost/templates/prometheusrule.yaml');

      expect(rule).toMatch(/expr: bifrost_governance_readiness_score < 0\.90\n\s+for: 5m\n/);
      expect(rule).toMatch(/expr: bifrost_governance_command_error_rate > 0\.05\n\s+for: 5m\n/);
      expect(rule).toMatch(/expr: bifrost_governance_circuit_breaker_events_unresolved > 0\n\s+for: 1m\n/);
      expect(rule).toContain('increase(bifrost_governance_incidents_total{severity="critical"}[5m]) > 0');
    });

    it("should keep the services' own service label when the ServiceMonitor scrapes them", () => {
      expect(read('helm/bifrost/templates/servicemonitor.yaml')).toMatch(/^ {6}honorLabels: true$/m);
    });

    it('should refuse a second canary and keep two replicas of a service apart', () => {
      expect(deployments).toMatch(/\(eq \$name "canary"\) \(gt \$replicas 1\) \}\}\n\{\{- fail /);
      expect(deployments).toContain('kind: PodDisruptionBudget');
    });
  });
});
