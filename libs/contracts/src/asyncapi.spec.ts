import { Parser } from '@asyncapi/parser';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Type } from '@sinclair/typebox';
import { buildAsyncApi, renderEventCatalogueMarkdown, toJsonSchema } from './asyncapi';
import { catalogue } from './catalogue';
import { createNaming } from './naming';
import { Catalogue, defineMessage, defineRpc } from './registry';

jest.setTimeout(60_000);

const repoRoot = resolve(__dirname, '../../..');
const docsDir = resolve(repoRoot, 'docs');

const ERROR_SEVERITY = 0;

/**
 * The generated files are committed so that readers need no build. Locally a stale file is
 * rewritten; in CI it fails the test, because the catalogue changed without regenerating docs.
 */
function syncGenerated(fileName: string, generated: string): void {
  const file = resolve(docsDir, fileName);
  const committed = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
  if (process.env['CI']) {
    expect(committed).toEqual(generated);
    return;
  }
  if (committed !== generated) {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, generated);
  }
}

const parser = new Parser();

async function errorsOf(document: object): Promise<string[]> {
  const { diagnostics } = await parser.parse(JSON.stringify(document));
  return diagnostics
    .filter((d) => d.severity === ERROR_SEVERITY)
    .map((d) => `${d.path.join('/')}: ${d.message}`);
}

describe('AsyncAPI document', () => {
  describe('Given the Bifrost catalogue', () => {
    const document = buildAsyncApi(catalogue);

    it('should be a valid AsyncAPI 3.0.0 document', async () => {
      expect(document.asyncapi).toBe('3.0.0');
      expect(await errorsOf(document)).toEqual([]);
    });

    it('should be checked for real: a dangling reference is an error', async () => {
      const broken = {
        ...document,
        operations: { dangling: { action: 'send', channel: { $ref: '#/channels/nowhere' } } },
      };
      expect(await errorsOf(broken)).toEqual([
        expect.stringContaining("'#/channels/nowhere' does not exist"),
      ]);
    });

    it('should match docs/asyncapi.json', () => {
      syncGenerated('asyncapi.json', `${JSON.stringify(document, null, 2)}\n`);
    });

    it('should describe every message type and version with its envelope payload', () => {
      const messages = document.components['messages'] as Record<
        string,
        { payload: { properties: Record<string, unknown> } }
      >;
      for (const def of catalogue.definitions) {
        const message = messages[`${def.type}.v${def.version}`];
        expect(message?.payload.properties['data']).toEqual(toJsonSchema(def.data));
        expect(message?.payload.properties['actor']).toBeDefined();
      }
    });

    it('should give every rpc a receive operation with a reply', () => {
      for (const rpc of catalogue.rpcs) {
        const operation = document.operations[`rpc.${rpc.service}.${rpc.operation}`];
        expect(operation?.['action']).toBe('receive');
        expect(operation?.['reply']).toBeDefined();
        expect(document.channels[`rpc.${rpc.service}.${rpc.operation}`]?.['address']).toBe(
          `bifrost.rpc.${rpc.service}.${rpc.operation}`,
        );
      }
    });

    it('should contain no TypeBox symbols and no $id', () => {
      expect(JSON.stringify(document)).not.toContain('"$id"');
      expect(JSON.parse(JSON.stringify(document))).toEqual(document);
    });
  });

  describe('Given several events on one aggregate subject and a namespace', () => {
    const data = Type.Object({ strategyId: Type.String() }, { $id: 'Shared' });
    const sample = new Catalogue(
      [
        defineMessage({
          type: 'gate.StrategyRegistered',
          version: 1,
          kind: 'event',
          producer: 'gate',
          consumers: ['projector'],
          subject: 'bifrost.evt.gate.strategy.{strategyId}',
          description: 'A strategy was registered | with a pipe.',
          data,
        }),
        defineMessage({
          type: 'gate.StrategyRegistered',
          version: 2,
          kind: 'event',
          producer: 'gate',
          consumers: ['projector', 'heimdall'],
          subject: 'bifrost.evt.gate.strategy.{strategyId}',
          description: 'A strategy was registered, v2.',
          data,
        }),
        defineMessage({
          type: 'gate.VerdictRecorded',
          version: 1,
          kind: 'decision',
          producer: 'gate',
          consumers: [],
          subject: 'bifrost.dec.gate.{engineId}',
          description: 'A verdict.',
          data,
        }),
      ],
      [
        defineRpc({
          service: 'gate',
          operation: 'cmd.kill-switch',
          request: Type.Object({}),
          response: Type.Object({}),
          description: 'Kill switch.',
        }),
      ],
    );
    const document = buildAsyncApi(sample, createNaming('t1'));

    it('should put both versions on one channel with its parameter', () => {
      expect(document.channels['evt.gate.strategy']).toMatchObject({
        address: 't1.bifrost.evt.gate.strategy.{strategyId}',
        parameters: { strategyId: {} },
        messages: {
          'gate.StrategyRegistered.v1': { $ref: '#/components/messages/gate.StrategyRegistered.v1' },
          'gate.StrategyRegistered.v2': { $ref: '#/components/messages/gate.StrategyRegistered.v2' },
        },
      });
    });

    it('should carry producer and consumers as extensions', () => {
      expect(
        (document.components['messages'] as Record<string, unknown>)['gate.StrategyRegistered.v2'],
      ).toMatchObject({
        'x-producer': 'gate',
        'x-consumers': ['projector', 'heimdall'],
      });
    });

    it('should document the namespaced streams', () => {
      expect(document['x-streams']).toContainEqual(
        expect.objectContaining({ name: 'T1_BIFROST_EVENTS', subjects: 't1.bifrost.evt.>' }),
      );
    });

    it('should stay valid with a shared $id and a dotted operation', async () => {
      expect(JSON.stringify(document)).not.toContain('"$id"');
      expect(document.channels['rpc.gate.cmd.kill-switch']?.['address']).toBe(
        't1.bifrost.rpc.gate.cmd.kill-switch',
      );
      expect(await errorsOf(document)).toEqual([]);
    });

    it('should escape table cells in the Markdown catalogue', () => {
      expect(renderEventCatalogueMarkdown(sample)).toContain('A strategy was registered \\| with a pipe.');
    });
  });
});

describe('Event catalogue (Markdown)', () => {
  const markdown = renderEventCatalogueMarkdown(catalogue);

  it('should list every message with its data schema', () => {
    for (const def of catalogue.definitions) {
      expect(markdown).toContain(`| \`${def.type}\` | ${def.version} | ${def.kind} |`);
      expect(markdown).toContain(JSON.stringify(toJsonSchema(def.data), null, 2));
    }
  });

  it('should match docs/events.md', () => {
    syncGenerated('events.md', markdown);
  });
});
