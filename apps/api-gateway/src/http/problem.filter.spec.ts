import { databaseUnreachable } from './problem.filter';

describe('databaseUnreachable', () => {
  it.each([
    ['a refused connection', { code: 'ECONNREFUSED' }],
    ['a lost connection (class 08)', { driverError: { code: '08006' } }],
    ['too many connections (class 53)', { code: '53300' }],
    ['a database shutting down', { driverError: { code: '57P01' } }],
    ['node-postgres timing out a new connection', new Error('timeout exceeded when trying to connect')],
  ])('should take %s for a database out for now', (_, error) => {
    expect(databaseUnreachable(error)).toBe(true);
  });

  it.each([
    ['a unique violation', { code: '23505' }],
    ['a syntax error', { driverError: { code: '42601' } }],
    ['a canceled statement', { code: '57014' }],
    ['anything else', new Error('boom')],
  ])('should not take %s for one', (_, error) => {
    expect(databaseUnreachable(error)).toBe(false);
  });
});
