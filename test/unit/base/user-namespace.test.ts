import { describe, expect, it } from 'vitest';
import { isRootless, mapsId, parseIdMap, subordinateRanges, userNamespace } from '../../../base/user-namespace.js';

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

describe('subordinate id ranges', () => {
  it('reads the ranges of a user named by login name or id, and no one else', () => {
    const text = 'alice:100000:65536\n# comment\nbob:165536:65536\n1003:231072:1000\nalice:300000:0\n';
    expect(subordinateRanges(text, { name: 'alice', id: 1001 })).toEqual([{ start: 100000, count: 65536 }]);
    expect(subordinateRanges(text, { name: 'carol', id: 1003 })).toEqual([{ start: 231072, count: 1000 }]);
    expect(subordinateRanges(text, { name: 'dave', id: 1004 })).toEqual([]);
  });
});
