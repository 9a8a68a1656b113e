import { catalogue, createNaming, type Envelope } from '@bifrost/contracts';
import { encodeJson } from '@bifrost/messaging';
import { gateEvents } from '../testing/projector.fixtures';
import { prepareMessage } from './batch';

describe('prepareMessage', () => {
  const naming = createNaming();
  const fx = gateEvents(naming);
  const prepare = (envelope: Envelope) =>
    prepareMessage(
      {
        stream: 'events',
        streamName: naming.streams.events.name,
        streamSeq: 1,
        subject: envelope.subject,
        data: encodeJson(envelope),
      },
      catalogue,
    );

  describe('Given an envelope whose occurredAt is no real instant', () => {
    it('should park it only: its audit row could not hold it', () => {
      for (const occurredAt of ['2026-02-31T10:00:00.000Z', '0000-01-01T00:00:00.000Z']) {
        expect(prepare({ ...fx.killSwitchEngaged(), occurredAt })).toMatchObject({
          kind: 'park',
          problem: {
            code: 'ENVELOPE.INVALID',
            message: expect.stringContaining(`occurredAt "${occurredAt}"`),
          },
        });
      }
    });
  });

  describe('Given an envelope with a timestamp in its data that is no real instant', () => {
    it('should record and park it, and keep it out of the read models', () => {
      const envelope = fx.killSwitchEngaged();
      const prepared = prepare({
        ...envelope,
        data: { ...envelope.data, engagedAt: '2026-04-31T08:00:00.000Z' },
      });
      expect(prepared).toMatchObject({
        kind: 'record',
        problem: {
          code: 'ENVELOPE.INVALID_DATA',
          message: expect.stringContaining('data.engagedAt "2026-04-31T08:00:00.000Z"'),
        },
      });
      expect(prepared.kind === 'record' && prepared.projected).toBeFalsy();
    });
  });

  describe('Given a valid envelope', () => {
    it('should record and project it', () => {
      expect(prepare(fx.killSwitchEngaged())).toMatchObject({ kind: 'record', projected: expect.anything() });
      expect(prepare(fx.killSwitchEngaged())).not.toHaveProperty('problem');
    });
  });
});
