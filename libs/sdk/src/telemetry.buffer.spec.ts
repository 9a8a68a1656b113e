import { TelemetryBuffer } from './telemetry.buffer';

describe('Telemetry buffer', () => {
  describe('when below capacity', () => {
    it('should hand facts back oldest first and drop nothing', () => {
      const buffer = filled(3, ['a', 'b']);

      expect(buffer.depth).toBe(2);
      expect([buffer.shift(), buffer.shift(), buffer.shift()]).toEqual(['a', 'b', undefined]);
      expect(buffer.droppedCount).toBe(0);
    });

    it('should accept exactly maxItems without dropping', () => {
      const buffer = filled(3, ['a', 'b', 'c']);

      expect(buffer.toArray()).toEqual(['a', 'b', 'c']);
      expect(buffer.droppedCount).toBe(0);
    });
  });

  describe('when full', () => {
    it('should evict the oldest fact for a new one and count it', () => {
      const buffer = filled(3, ['a', 'b', 'c']);

      expect(buffer.push('d')).toBe('a');

      expect(buffer.toArray()).toEqual(['b', 'c', 'd']);
      expect(buffer.depth).toBe(3);
      expect(buffer.droppedCount).toBe(1);
    });

    it('should keep the newest maxItems of a long overflow, in order', () => {
      const buffer = filled(
        4,
        Array.from({ length: 11 }, (_, i) => `f${i}`),
      );

      expect(buffer.toArray()).toEqual(['f7', 'f8', 'f9', 'f10']);
      expect(buffer.droppedCount).toBe(7);
    });

    it('should work with a single slot', () => {
      const buffer = filled(1, ['a', 'b']);

      expect(buffer.toArray()).toEqual(['b']);
      expect(buffer.droppedCount).toBe(1);
    });
  });

  describe('when a fact whose delivery failed is put back', () => {
    it('should be first in line again', () => {
      const buffer = filled(3, ['a', 'b']);
      const head = buffer.shift() as string;

      expect(buffer.pushFront(head)).toBeUndefined();

      expect(buffer.toArray()).toEqual(['a', 'b']);
    });

    it('should be the one dropped when the buffer filled up meanwhile, being the oldest', () => {
      const buffer = filled(2, ['a', 'b']);
      const head = buffer.shift() as string;
      buffer.push('c');

      expect(buffer.pushFront(head)).toBe('a');

      expect(buffer.toArray()).toEqual(['b', 'c']);
      expect(buffer.droppedCount).toBe(1);
    });

    it('should wrap around the ring', () => {
      const buffer = filled(3, ['a', 'b', 'c']);
      buffer.shift();
      buffer.shift();
      buffer.push('d');
      buffer.push('e');
      const head = buffer.shift() as string;

      buffer.pushFront(head);

      expect(buffer.toArray()).toEqual(['c', 'd', 'e']);
    });
  });

  describe('when created', () => {
    it.each([0, -1, 1.5, Number.NaN])('should refuse maxItems %p', (maxItems) => {
      expect(() => new TelemetryBuffer<string>(maxItems)).toThrow(RangeError);
    });
  });
});

function filled(maxItems: number, items: string[]): TelemetryBuffer<string> {
  const buffer = new TelemetryBuffer<string>(maxItems);
  for (const item of items) buffer.push(item);
  return buffer;
}
