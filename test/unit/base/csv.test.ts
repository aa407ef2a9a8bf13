import { describe, expect, it } from 'vitest';
import { splitCsvRecord } from '../../../base/csv.js';

describe('splitCsvRecord', () => {
  it('splits a record as Go\'s encoding/csv reads one: quotes keep separators, "" is a quote, empty fields stay', () => {
    expect(splitCsvRecord('type=bind,target=/a')).toEqual(['type=bind', 'target=/a']);
    expect(splitCsvRecord('"name=a,b",push=true')).toEqual(['name=a,b', 'push=true']);
    expect(splitCsvRecord('"say ""hi""",x')).toEqual(['say "hi"', 'x']);
    expect(splitCsvRecord('a,,b,')).toEqual(['a', '', 'b', '']);
    expect(splitCsvRecord('run=1,2,3:error=red', ':')).toEqual(['run=1,2,3', 'error=red']);
    expect(splitCsvRecord('')).toEqual(['']);
  });
});
