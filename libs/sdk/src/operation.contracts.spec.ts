import { CONTRACTS } from './operation.contracts';
import {
  approvalReply,
  evaluationReply,
  reservationReply,
  reserveReply,
  verdictReply,
} from './replies.fixtures';

describe('Reply contracts', () => {
  describe('when a service answers as its contract says', () => {
    it.each([
      ['check', CONTRACTS.check.reply, verdictReply({ action: 'REDUCE_SIZE', sizeMultiplier: 0.25 })],
      ['approval', CONTRACTS.approval.reply, approvalReply()],
      [
        'granted approval',
        CONTRACTS.approval.reply,
        approvalReply({
          status: 'granted',
          decidedBy: 'op-1',
          token: { tokenId: 't-1', status: 'active', expiresAt: '2026-11-21T20:30:00.000Z' },
        }),
      ],
      ['reserve', CONTRACTS.reserve.reply, reserveReply()],
      ['settle', CONTRACTS.settle.reply, reservationReply()],
      ['evaluate', CONTRACTS.evaluate.reply, evaluationReply()],
    ])('should accept the %s reply', (_operation, reply, data) => {
      expect(reply(data)).toMatchObject({ ok: true });
    });
  });

  describe('when it does not', () => {
    it.each([
      ['a size multiplier above 1', CONTRACTS.check.reply, verdictReply({ sizeMultiplier: 5 })],
      ['a negative size multiplier', CONTRACTS.check.reply, verdictReply({ sizeMultiplier: -1 })],
      ['a bare action', CONTRACTS.check.reply, { action: 'ALLOW', sizeMultiplier: 1 }],
      ['a grant with nothing but an id', CONTRACTS.reserve.reply, { outcome: 'GRANTED', reservationId: 'x' }],
      ['a string for a reservation', CONTRACTS.settle.reply, 'hello'],
      ['a grant without its request and token', CONTRACTS.approval.reply, { status: 'granted' }],
      [
        'a grant without its token',
        CONTRACTS.approval.reply,
        approvalReply({ status: 'granted', decidedBy: 'op-1', token: null }),
      ],
      [
        'an evaluation without its gates',
        CONTRACTS.evaluate.reply,
        { evaluationId: 'x', outcome: 'ELIGIBLE' },
      ],
    ])('should refuse %s', (_what, reply, data) => {
      expect(reply(data)).toMatchObject({ ok: false });
    });
  });
});
