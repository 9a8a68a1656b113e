import { Type } from '@sinclair/typebox';
import { catalogue } from './catalogue';
import { ServiceStarted } from './messages/system.messages';
import { Catalogue, defineMessage, defineRpc, type MessageDefinition } from './registry';

describe('Catalogue', () => {
  describe('Given the Bifrost catalogue', () => {
    it('should accept a known type with valid data', () => {
      expect(
        catalogue.check({
          type: 'system.ServiceStarted',
          version: 1,
          data: { service: 'gate', instanceId: 'i-1', version: '0.1.0', previousStarts: 0 },
        }),
      ).toEqual({ ok: true });
    });

    it('should reject an unknown type', () => {
      expect(catalogue.check({ type: 'gate.NeverHeardOf', version: 1, data: {} })).toEqual({
        ok: false,
        code: 'UNKNOWN_TYPE',
        message: 'unknown message type gate.NeverHeardOf v1',
      });
    });

    it('should reject a known type at an unknown version', () => {
      expect(catalogue.check({ type: 'system.ServiceStarted', version: 99, data: {} })).toMatchObject({
        ok: false,
        code: 'UNKNOWN_TYPE',
      });
    });

    it('should reject invalid data with every issue', () => {
      const result = catalogue.check({
        type: 'system.ServiceStarted',
        version: 1,
        data: { service: '', instanceId: 'i-1', version: '0.1.0', previousStarts: -1, extra: true },
      });
      expect(result).toMatchObject({ ok: false, code: 'INVALID_DATA' });
      if (!result.ok) {
        expect(result.message).toMatch(/^system\.ServiceStarted v1: /);
        expect(result.issues?.map((i) => i.path)).toEqual(
          expect.arrayContaining(['/service', '/previousStarts', '/']),
        );
      }
    });

    it('should find definitions by type and version', () => {
      expect(catalogue.find('system.ServiceStarted', 1)).toBe(ServiceStarted);
      expect(catalogue.find('system.ServiceStarted', 2)).toBeUndefined();
      expect(catalogue.definitions).toContain(ServiceStarted);
    });

    it('should list only well-formed definitions', () => {
      for (const def of catalogue.definitions) {
        expect(def.type).toMatch(/^[a-z]+\.[A-Z][A-Za-z0-9]*$/);
        expect(def.version).toBeGreaterThanOrEqual(1);
        expect(def.subject).toMatch(/^bifrost\.(evt|dec|ingest)\./);
      }
    });
  });

  describe('When two definitions share a type and version', () => {
    it('should throw', () => {
      expect(() => new Catalogue([aDefinition(1), aDefinition(2), aDefinition(1)], [])).toThrow(
        'duplicate message definition test.ThingHappened@1',
      );
    });

    it('should accept two versions of one type', () => {
      const twoVersions = new Catalogue([aDefinition(1), aDefinition(2)], []);
      expect(twoVersions.check({ type: 'test.ThingHappened', version: 2, data: { n: 1 } })).toEqual({
        ok: true,
      });
    });
  });

  describe('Given rpc definitions', () => {
    it('should keep them as given', () => {
      const rpc = defineRpc({
        service: 'gate',
        operation: 'check',
        request: Type.Object({}),
        response: Type.Object({}),
        description: 'd',
      });
      expect(new Catalogue([], [rpc]).rpcs).toEqual([rpc]);
    });
  });
});

function aDefinition(version: number): MessageDefinition {
  return defineMessage({
    type: 'test.ThingHappened',
    version,
    kind: 'event',
    producer: 'test',
    consumers: [],
    subject: 'bifrost.evt.test.thing.{thingId}',
    description: 'A thing happened.',
    data: Type.Object({ n: Type.Integer() }, { additionalProperties: false }),
  });
}
