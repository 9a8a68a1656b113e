import { catalogue, createNaming, type Envelope } from '@bifrost/contracts';
import { encodeJson } from '@bifrost/messaging';
import { gateEvents } from '../testing/projector.fixtures';
import { commitRefused, prepareMessage, type PreparedMessage } from './batch';
import { EventIdReusedError } from './bisect';

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
            // The envelope schema's `instant` format or prepareMessage's own check, whichever says it first.
            message: expect.stringContaining('occurredAt'),
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
          message: expect.stringContaining('engagedAt'),
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

describe('commitRefused', () => {
  const naming = createNaming();
  const fx = gateEvents(naming);
  const overflow = Object.assign(new Error('integer out of range'), { severity: 'ERROR', code: '22003' });
  const message = prepareMessage(
    {
      stream: 'events',
      streamName: naming.streams.events.name,
      streamSeq: 3,
      subject: naming.eventSubject('gate', 'control', 'global'),
      data: encodeJson(fx.killSwitchEngaged()),
    },
    catalogue,
  );

  /**
   * A transaction that refuses what `refuses` picks; the steps in order: the statements of each
   * attempt, the letters parked, and COMMIT.
   */
  function postgres(refuses: (message: PreparedMessage) => unknown) {
    const steps: string[] = [];
    const committed: PreparedMessage[] = [];
    return {
      steps,
      committed,
      commit: async (messages: readonly PreparedMessage[], beforeCommit?: () => Promise<void>) => {
        steps.push(`statements: ${messages.map(writes).join(', ')}`);
        const refusal = messages.map(refuses).find(Boolean);
        if (refusal) throw refusal;
        await beforeCommit?.();
        steps.push('COMMIT');
        committed.push(...messages);
        return messages.length;
      },
      park: (parked: PreparedMessage) => {
        steps.push(`letter: ${parked.problem?.code}`);
        return Promise.resolve();
      },
    };
  }

  function writes(m: PreparedMessage): string {
    if (m.kind === 'park') return 'checkpoint only';
    return m.projected ? 'audit row and read models' : 'audit row only';
  }

  describe('Given a message whose read-model rows Postgres refused', () => {
    it('should record it without them, and park it once Postgres took its audit row, before COMMIT', async () => {
      const pg = postgres((m) => m.kind === 'record' && m.projected && overflow);

      await expect(commitRefused(message, overflow, pg.commit, pg.park)).resolves.toBe(1);

      expect(pg.steps).toEqual(['statements: audit row only', 'letter: PROJECTION.REFUSED', 'COMMIT']);
      expect(pg.committed).toEqual([
        {
          kind: 'record',
          raw: message.raw,
          entry: message.kind === 'record' && message.entry,
          problem: {
            code: 'PROJECTION.REFUSED',
            message:
              'Postgres refused its read-model rows: integer out of range (SQLSTATE 22003); recorded in the audit log only',
          },
        },
      ]);
    });
  });

  describe('Given a message whose audit row Postgres refuses as well', () => {
    it("should park it only, with the audit row's refusal, and never with PROJECTION.REFUSED", async () => {
      const check = Object.assign(new Error('violates check constraint'), {
        severity: 'ERROR',
        code: '23514',
      });
      const pg = postgres((m) => m.kind === 'record' && check);

      await expect(commitRefused(message, overflow, pg.commit, pg.park)).resolves.toBe(1);

      expect(pg.steps).toEqual([
        'statements: audit row only',
        'letter: AUDIT.UNRECORDABLE',
        'statements: checkpoint only',
        'COMMIT',
      ]);
      expect(pg.committed).toEqual([
        {
          kind: 'park',
          raw: message.raw,
          problem: {
            code: 'AUDIT.UNRECORDABLE',
            message: 'Postgres refused the message: violates check constraint (SQLSTATE 23514)',
          },
        },
      ]);
    });
  });

  describe('Given a message whose envelope id the log holds with other content', () => {
    it('should park it only, without trying its audit row again', async () => {
      const pg = postgres(() => undefined);
      const reused = new EventIdReusedError('evt-1');

      await commitRefused(message, reused, pg.commit, pg.park);

      expect(pg.steps).toEqual(['letter: AUDIT.ID_REUSED', 'statements: checkpoint only', 'COMMIT']);
    });
  });

  describe('Given a failure that is not about the data while recording the audit row alone', () => {
    it('should give up, parking nothing: the batch is tried again from the checkpoint', async () => {
      const lost = Object.assign(new Error('terminating connection'), { severity: 'FATAL', code: '57P01' });
      const pg = postgres(() => lost);

      await expect(commitRefused(message, overflow, pg.commit, pg.park)).rejects.toBe(lost);

      expect(pg.steps).toEqual(['statements: audit row only']);
    });
  });
});
