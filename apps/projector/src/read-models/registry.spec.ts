import { catalogue } from '@bifrost/contracts';
import { projections, projectedTypes, readModelTables } from './registry';

describe('read-model registry', () => {
  describe('Given the message catalogue', () => {
    it('should have a read model for every event and decision type', () => {
      const streamed = catalogue.definitions.filter((def) => def.kind !== 'ingest').map((def) => def.type);
      const missing = streamed.filter((type) => !projectedTypes().has(type));

      expect(missing).toEqual([]);
    });
  });

  describe('Given the projections', () => {
    it('should let each table have one owner', () => {
      expect(new Set(readModelTables).size).toBe(readModelTables.length);
    });

    it('should not apply a type twice', () => {
      const handled = projections.flatMap((projection) => projection.handles);
      expect(new Set(handled).size).toBe(handled.length);
    });
  });
});
