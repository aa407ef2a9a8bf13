import { describe, expect, it } from 'vitest';
import { DockerfileError } from '../../../base/errors.js';
import type { CheckFinding } from '../../../base/progress.js';
import { lintResults, renderCheckText, violationOf } from '../../../cli/check-report.js';
import { parseCall } from '../../../cli/inspect-flags.js';

const DOCKERFILE = '#check=skip=ConsistentInstructionCasing\nFROM scratch as base\ncopy Dockerfile .\nFROM scratch AS Bad\n';
const SOURCE = { name: 'Dockerfile', data: Buffer.from(DOCKERFILE) };
const finding = (rule: string, page: string, description: string, detail: string, line: number): CheckFinding => ({
  rule,
  description,
  url: `https://docs.docker.com/go/dockerfile/rule/${page}/`,
  detail,
  location: { file: 'Dockerfile', startLine: line, endLine: line },
});
const AS_CASING = finding('FromAsCasing', 'from-as-casing', "The 'as' keyword should match the case of the 'from' keyword", "'as' and 'FROM' keywords' casing do not match", 2);
const STAGE_CASING = finding('StageNameCasing', 'stage-name-casing', 'Stage names should be lowercase', "Stage name 'Bad' should be lowercase", 4);

describe('--check output', () => {
  it('prints each finding as buildx does, by line: rule and URL, detail, the rule description, the lines around it', () => {
    expect(renderCheckText([STAGE_CASING, AS_CASING], SOURCE)).toBe(
      [
        'Check complete, 2 warnings have been found!',
        '',
        'WARNING: FromAsCasing - https://docs.docker.com/go/dockerfile/rule/from-as-casing/',
        "'as' and 'FROM' keywords' casing do not match",
        "The 'as' keyword should match the case of the 'from' keyword",
        'Dockerfile:2',
        '--------------------',
        '   1 |     #check=skip=ConsistentInstructionCasing',
        '   2 | >>> FROM scratch as base',
        '   3 |     copy Dockerfile .',
        '   4 |     FROM scratch AS Bad',
        '--------------------',
        '',
        'WARNING: StageNameCasing - https://docs.docker.com/go/dockerfile/rule/stage-name-casing/',
        "Stage name 'Bad' should be lowercase",
        'Stage names should be lowercase',
        'Dockerfile:4',
        '--------------------',
        '   2 |     FROM scratch as base',
        '   3 |     copy Dockerfile .',
        '   4 | >>> FROM scratch AS Bad',
        '   5 |     ',
        '--------------------',
        '',
      ].join('\n'),
    );
    expect(renderCheckText([], SOURCE)).toBe('Check complete, no warnings found.\n');
    // A rule without a page, and a Dockerfile gone since the build: the location alone.
    const { url: _url, ...platform } = { ...AS_CASING, rule: 'InvalidBaseImagePlatform' };
    expect(renderCheckText([platform], { name: 'Dockerfile', data: undefined })).toContain('\nWARNING: InvalidBaseImagePlatform\n');
    expect(renderCheckText([platform], { name: 'Dockerfile', data: undefined })).toMatch(/\nDockerfile:2\n$/);
  });

  it('gives BuildKit lint result JSON for format=json, with the error the check ended with', () => {
    const result = lintResults([AS_CASING], SOURCE, new DockerfileError('dockerfile parse error on line 3: unknown instruction: copyy', { location: { file: 'Dockerfile', startLine: 3, endLine: 3 } }));
    expect(result).toEqual({
      warnings: [
        {
          ruleName: 'FromAsCasing',
          description: AS_CASING.description,
          url: AS_CASING.url,
          detail: AS_CASING.detail,
          location: { ranges: [{ start: { line: 2 }, end: { line: 2 } }] },
        },
      ],
      sources: [{ filename: 'Dockerfile', language: 'Dockerfile', data: Buffer.from(DOCKERFILE).toString('base64') }],
      buildError: { message: 'dockerfile parse error on line 3: unknown instruction: copyy', location: { ranges: [{ start: { line: 3 }, end: { line: 3 } }] } },
    });
    // As Go marshals a nil slice; a violation of `# check=error=true` has no location.
    const none = lintResults([], SOURCE, new Error(violationOf([AS_CASING, STAGE_CASING, AS_CASING])));
    expect(none.warnings).toBeNull();
    expect(none.buildError).toEqual({ message: 'lint violation found for rules: FromAsCasing, StageNameCasing', location: {} });
  });

  it('reads --call as buildx does, with its format and ignorestatus fields', () => {
    expect(parseCall('check')).toEqual({ request: { check: true }, format: 'text', ignoreStatus: false });
    expect(parseCall('check,format=json')).toEqual({ request: { check: true }, format: 'json', ignoreStatus: false });
    expect(parseCall('targets,ignorestatus=true,format=json')).toEqual({ request: { print: 'targets-json' }, format: 'json', ignoreStatus: true });
    expect(parseCall('build')).toEqual({ request: {}, format: 'text', ignoreStatus: false });
    // ignorestatus takes what Go's strconv.ParseBool takes, and the last one counts.
    expect(['1', 't', 'TRUE', 'True'].map((v) => parseCall(`check,ignorestatus=${v}`).ignoreStatus)).toEqual([true, true, true, true]);
    expect(parseCall('check,ignorestatus=true,ignorestatus=F').ignoreStatus).toBe(false);
    expect(() => parseCall('check,ignorestatus=yes')).toThrow(/ignorestatus=yes/);
    expect(() => parseCall('check,ignorestatus=tRUE')).toThrow(/ignorestatus=tRUE/);
    expect(() => parseCall('check,format=yaml')).toThrow(/format=yaml/);
    expect(() => parseCall('check,outline')).toThrow(/outline/);
  });
});
