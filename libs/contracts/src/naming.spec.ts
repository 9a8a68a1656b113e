import { createNaming, isSubjectToken, parseEventSubject } from './naming';

describe('Naming', () => {
  describe('Given the empty namespace', () => {
    const naming = createNaming();

    it('should give the canonical subjects of DESIGN §4', () => {
      expect(naming.eventSubject('gate', 'strategy', 's-123')).toBe('bifrost.evt.gate.strategy.s-123');
      expect(naming.contextEvents('risk')).toBe('bifrost.evt.risk.>');
      expect(naming.decisionSubject('gate', 'engine_1')).toBe('bifrost.dec.gate.engine_1');
      expect(naming.ingestSubject('heartbeat', 'e1')).toBe('bifrost.ingest.heartbeat.e1');
      expect(naming.rpcSubject('gate', 'check')).toBe('bifrost.rpc.gate.check');
      expect(naming.rpcSubject('gate', 'cmd.kill-switch')).toBe('bifrost.rpc.gate.cmd.kill-switch');
      expect(naming.dlqSubject('risk-guard')).toBe('bifrost.dlq.risk-guard');
    });

    it('should give the canonical streams, consumer and bucket names', () => {
      expect(naming.streams).toEqual({
        events: { name: 'BIFROST_EVENTS', subjects: 'bifrost.evt.>' },
        decisions: { name: 'BIFROST_DECISIONS', subjects: 'bifrost.dec.>' },
        ingest: { name: 'BIFROST_INGEST', subjects: 'bifrost.ingest.>' },
        dlq: { name: 'BIFROST_DLQ', subjects: 'bifrost.dlq.>' },
      });
      expect(naming.consumerName('projector', 'read-models')).toBe('projector__read-models');
      expect(naming.snapshotBucket).toBe('bifrost_snapshots');
      expect(naming.auditBucket).toBe('bifrost_audit');
    });

    it('should leave subjects unchanged when qualifying', () => {
      expect(naming.qualify('bifrost.evt.>')).toBe('bifrost.evt.>');
      expect(naming.canonical('bifrost.evt.gate.strategy.s1')).toBe('bifrost.evt.gate.strategy.s1');
    });
  });

  describe('Given a namespace', () => {
    const naming = createNaming('test-42');

    it('should prefix every subject', () => {
      expect(naming.eventSubject('gate', 'strategy', 's1')).toBe('test-42.bifrost.evt.gate.strategy.s1');
      expect(naming.contextEvents('gate')).toBe('test-42.bifrost.evt.gate.>');
      expect(naming.decisionSubject('risk', 'e1')).toBe('test-42.bifrost.dec.risk.e1');
      expect(naming.ingestSubject('kpi', 'e1')).toBe('test-42.bifrost.ingest.kpi.e1');
      expect(naming.rpcSubject('gate', 'check')).toBe('test-42.bifrost.rpc.gate.check');
      expect(naming.dlqSubject('gate')).toBe('test-42.bifrost.dlq.gate');
    });

    it('should prefix every stream name and its subjects', () => {
      for (const stream of Object.values(naming.streams)) {
        expect(stream.name).toMatch(/^TEST_42_BIFROST_[A-Z]+$/);
        expect(stream.subjects).toMatch(/^test-42\.bifrost\.[a-z]+\.>$/);
      }
    });

    it('should prefix the snapshot bucket', () => {
      expect(naming.snapshotBucket).toBe('test_42_bifrost_snapshots');
      expect(naming.auditBucket).toBe('test_42_bifrost_audit');
    });

    it('should round-trip between canonical and qualified subjects', () => {
      const canonical = 'bifrost.evt.gate.strategy.s1';
      expect(naming.qualify(canonical)).toBe('test-42.bifrost.evt.gate.strategy.s1');
      expect(naming.canonical(naming.qualify(canonical))).toBe(canonical);
      expect(naming.canonical(naming.eventSubject('gate', 'strategy', 's1'))).toBe(canonical);
    });

    it('should not keep consumer names apart by namespace (streams already are)', () => {
      expect(naming.consumerName('gate', 'rebuild')).toBe('gate__rebuild');
    });
  });

  describe('When a token is not a single subject token', () => {
    const naming = createNaming();
    const invalid = ['a.b', 'a*', '>', 'a b', ' ', '', 'tab\tbed'];

    it.each(invalid)('should reject %j as an aggregate id, engine id, service and namespace', (bad) => {
      expect(isSubjectToken(bad)).toBe(false);
      expect(() => naming.eventSubject('gate', 'strategy', bad)).toThrow(/invalid aggregate id/);
      expect(() => naming.eventSubject('gate', bad, 'x')).toThrow(/invalid aggregate type/);
      expect(() => naming.decisionSubject('gate', bad)).toThrow(/invalid engine id/);
      expect(() => naming.ingestSubject('kpi', bad)).toThrow(/invalid engine id/);
      expect(() => naming.rpcSubject(bad, 'check')).toThrow(/invalid service/);
      expect(() => naming.dlqSubject(bad)).toThrow(/invalid service/);
      expect(() => naming.consumerName('gate', bad)).toThrow(/invalid purpose/);
      if (bad !== '') expect(() => createNaming(bad)).toThrow(/invalid namespace/);
    });

    it('should reject wildcards and empty parts inside a dotted operation', () => {
      expect(() => naming.rpcSubject('gate', 'cmd.*')).toThrow(/invalid operation/);
      expect(() => naming.rpcSubject('gate', 'cmd..x')).toThrow(/invalid operation/);
      expect(() => naming.rpcSubject('gate', 'cmd.>')).toThrow(/invalid operation/);
    });

    it('should accept letters, digits, "-" and "_"', () => {
      expect(isSubjectToken('Abc-1_2')).toBe(true);
    });
  });

  describe('parseEventSubject', () => {
    it('should split a canonical event subject', () => {
      expect(parseEventSubject('bifrost.evt.gate.strategy.s-1')).toEqual({
        context: 'gate',
        aggregateType: 'strategy',
        aggregateId: 's-1',
      });
    });

    it.each([
      'bifrost.dec.gate.e1',
      'bifrost.evt.gate.strategy',
      'bifrost.evt.gate.strategy.s1.extra',
      'ns.bifrost.evt.gate.strategy.s1',
    ])('should return undefined for %s', (subject) => {
      expect(parseEventSubject(subject)).toBeUndefined();
    });

    it('should parse a namespaced subject once made canonical', () => {
      const naming = createNaming('ns');
      expect(parseEventSubject(naming.canonical(naming.eventSubject('risk', 'ledger', 'l1')))).toEqual({
        context: 'risk',
        aggregateType: 'ledger',
        aggregateId: 'l1',
      });
    });
  });
});
