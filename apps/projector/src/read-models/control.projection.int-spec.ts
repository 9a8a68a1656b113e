import { rebuildReadModels } from '../rebuild/rebuild-read-models';
import {
  gateEvents,
  publishAll,
  startProjectorHarness,
  type ProjectorHarness,
} from '../testing/projector.fixtures';

describe('control read models against real NATS and Postgres', () => {
  let h: ProjectorHarness;
  const killSwitches = () =>
    h.rows(`SELECT kind, scope, engaged, released_at FROM control_kill_switches ORDER BY kind DESC, scope`);

  beforeAll(async () => {
    h = await startProjectorHarness('projctl');
    const fx = gateEvents(h.ns.naming);
    const projector = h.startProjector();
    // An engine may be named `global` (an EntityId like any other): the gate keeps its switch apart
    // from the global one, and so must the read model.
    await publishAll(h.client, [
      fx.killSwitchEngaged(),
      fx.killSwitchEngaged('global'),
      fx.killSwitchReleased('global'),
      fx.killSwitchEngaged('eng-1'),
    ]);
    await h.caughtUp();
    await projector.stop();
  });
  afterAll(() => h?.stop());

  const expected = () => [
    { kind: 'global', scope: 'global', engaged: true, released_at: null },
    { kind: 'engine', scope: 'eng-1', engaged: true, released_at: null },
    { kind: 'engine', scope: 'global', engaged: false, released_at: new Date(gateEvents(h.ns.naming).at(1)) },
  ];

  describe('Given the global switch engaged and an engine named global engaged then released', () => {
    it('should keep the global switch engaged, apart from the engine switch that was released', async () => {
      expect(await killSwitches()).toEqual(expected());
    });

    it('should keep them apart when the read models are rebuilt from the streams', async () => {
      await rebuildReadModels({
        dataSource: h.dataSource,
        js: h.client.js,
        jsm: h.client.jsm,
        naming: h.client.naming,
        catalogue: h.client.catalogue,
        lockWaitMs: 1000,
      });

      expect(await killSwitches()).toEqual(expected());
    });
  });
});
