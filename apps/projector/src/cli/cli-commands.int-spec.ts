import { execFile } from 'node:child_process';
import { tmpdir } from 'node:os';
import { resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../../..');
/** Nothing listens there: a command that got past its usage would fail to connect (exit 1 or 2). */
const NO_POSTGRES = 'postgres://postgres@127.0.0.1:1/none';
const NO_NATS = 'nats://127.0.0.1:1';
const REBUILD_USAGE = 'usage: npm run projector:rebuild';
const AUDIT_USAGE = 'usage: bifrost-audit verify';

describe('the command lines of projector:rebuild and bifrost-audit', () => {
  describe('projector:rebuild', () => {
    it('should exit 2 with its usage on an option it does not know, including one of bifrost-audit', async () => {
      const bogus = await rebuild(['--database-url', NO_POSTGRES, '--bogus', 'x']);
      expect(bogus).toMatchObject({ code: 2, stdout: '' });
      expect(bogus.stderr).toContain("Unknown option '--bogus'");
      expect(bogus.stderr).toContain(REBUILD_USAGE);

      const schema = await rebuild(['--database-url', NO_POSTGRES, '--schema', 'audit']);
      expect(schema).toMatchObject({ code: 2, stdout: '' });
      expect(schema.stderr).toContain("Unknown option '--schema'");
    }, 60_000);

    it('should exit 2 on an empty --nats-url rather than fall back to NATS_URL or the default', async () => {
      // An unset shell variable (`--nats-url "$NATS"`).
      const empty = await rebuild(['--database-url', NO_POSTGRES, '--nats-url', ''], { NATS_URL: NO_NATS });
      expect(empty).toMatchObject({ code: 2, stdout: '' });
      expect(empty.stderr).toContain('--nats-url is empty');
      expect(empty.stderr).toContain(REBUILD_USAGE);
    }, 60_000);

    it('should exit 2 on an empty --namespace rather than fall back to BIFROST_NAMESPACE or none', async () => {
      const empty = await rebuild(['--database-url', NO_POSTGRES, '--namespace', ''], {
        NATS_URL: NO_NATS,
        BIFROST_NAMESPACE: 'prod',
      });
      expect(empty).toMatchObject({ code: 2, stdout: '' });
      expect(empty.stderr).toContain('--namespace is empty');
    }, 60_000);

    it('should take an empty variable as unset', async () => {
      const unset = await rebuild([], { DATABASE_URL: '', NATS_URL: NO_NATS });
      expect(unset).toMatchObject({ code: 2, stdout: '' });
      expect(unset.stderr).toContain(REBUILD_USAGE);
    }, 60_000);

    it('should exit 2 on a word, which it does not take', async () => {
      const word = await rebuild(['--database-url', NO_POSTGRES, 'now'], { NATS_URL: NO_NATS });
      expect(word).toMatchObject({ code: 2, stdout: '' });
      expect(word.stderr).toContain('not for projector:rebuild: now');
    }, 60_000);
  });

  describe('bifrost-audit', () => {
    it('should exit 2 with its usage on an option it does not know', async () => {
      const bogus = await audit(['verify', '--database-url', NO_POSTGRES, '--bogus', 'x']);
      expect(bogus).toMatchObject({ code: 2, stdout: '' });
      expect(bogus.stderr).toContain("Unknown option '--bogus'");
      expect(bogus.stderr).toContain(AUDIT_USAGE);
    }, 60_000);

    it('should refuse on verify the options of projector:rebuild, which only accept takes', async () => {
      const natsUrl = await audit(['verify', '--database-url', NO_POSTGRES, '--nats-url', NO_NATS]);
      expect(natsUrl).toMatchObject({ code: 2, stdout: '' });
      expect(natsUrl.stderr).toContain('not for bifrost-audit verify: --nats-url');

      const namespace = await audit(['verify', '--database-url', NO_POSTGRES, '--namespace', 'prod']);
      expect(namespace).toMatchObject({ code: 2, stdout: '' });
      expect(namespace.stderr).toContain('not for bifrost-audit verify: --namespace');
    }, 60_000);

    it('should exit 2 on an empty value of any option, as projector:rebuild does', async () => {
      const schema = await audit(['verify', '--database-url', NO_POSTGRES, '--schema', '']);
      expect(schema).toMatchObject({ code: 2, stdout: '' });
      expect(schema.stderr).toContain('--schema is empty');

      const natsUrl = await audit(
        ['accept', '--database-url', NO_POSTGRES, '--reason', 'r', '--operator', 'o', '--nats-url', ''],
        { NATS_URL: NO_NATS },
      );
      expect(natsUrl).toMatchObject({ code: 2, stdout: '' });
      expect(natsUrl.stderr).toContain('--nats-url is empty');
      expect(natsUrl.stderr).toContain(AUDIT_USAGE);
    }, 60_000);
  });
});

type Run = { code: number; stdout: string; stderr: string };

/** `npm run projector:rebuild -- …args` as an operator runs it. */
function rebuild(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return run(['-r', '@swc-node/register', 'apps/projector/src/cli/projector-rebuild.ts', ...args], ROOT, env);
}

/** `bifrost-audit …args` as an operator runs it, from anywhere. */
function audit(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return run([resolve(ROOT, 'scripts/bifrost-audit.cjs'), ...args], tmpdir(), env);
}

function run(args: string[], cwd: string, env: Record<string, string>): Promise<Run> {
  return new Promise((done) =>
    execFile('node', args, { cwd, env: { ...process.env, ...env } }, (error, stdout, stderr) =>
      done({ code: error ? Number(error.code) : 0, stdout, stderr }),
    ),
  );
}
