import { describe, expect, it } from 'vitest';
import { isRootless, mapsId, parseIdMap, userNamespace } from '../../../native/index.js';

describe('user namespace id maps', () => {
  it('reads the lines of a uid_map, as the kernel pads them', () => {
    const text = '         0       1001          1\n         1     100000      65535\n';
    expect(parseIdMap(text)).toEqual([
      { inside: 0, outside: 1001, count: 1 },
      { inside: 1, outside: 100000, count: 65535 },
    ]);
  });

  it('tells which ids of the namespace have an owner outside it', () => {
    const single = parseIdMap('0 1001 1\n');
    expect(mapsId(single, 0)).toBe(true);
    expect(mapsId(single, 1000)).toBe(false);
    const ranged = parseIdMap('0 1001 1\n1 100000 65535\n');
    expect(mapsId(ranged, 1000)).toBe(true);
    expect(mapsId(ranged, 65535)).toBe(true);
    expect(mapsId(ranged, 65536)).toBe(false);
  });

  it('finds the tests, run by root on the host, not rootless', () => {
    expect(userNamespace().uids).toEqual([{ inside: 0, outside: 0, count: 4294967295 }]);
    expect(isRootless()).toBe(false);
  });
});
