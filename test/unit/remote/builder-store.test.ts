import { readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BuilderStore, checkBuilderName } from '../../../remote/builder-store.js';
import { makeTempDir, type TempDir } from '../../helpers/cli.js';

describe('BuilderStore', () => {
  let tmp: TempDir;
  let store: BuilderStore;
  beforeEach(async () => {
    tmp = await makeTempDir('tbuild-builder-store-');
    store = new BuilderStore({ XDG_CONFIG_HOME: tmp.path, HOME: '/nonexistent' });
  });
  afterEach(async () => tmp[Symbol.asyncDispose]());

  const farm = { name: 'farm', nodes: [{ name: 'farm0', endpoint: 'tcp://10.0.0.1:8375' }], tls: {}, tokenFile: undefined };

  it('keeps each builder in a file of its own under $XDG_CONFIG_HOME/tbuild/builders, written by rename', async () => {
    await store.save(farm);
    await store.save({ ...farm, name: 'alpha', nodes: [{ name: 'alpha0', endpoint: 'dns+tcp://builders.test:1' }] });
    expect(store.dir).toBe(join(tmp.path, 'tbuild', 'builders'));
    expect((await readdir(store.dir)).sort()).toEqual(['alpha.json', 'farm.json']);
    expect((await stat(join(store.dir, 'farm.json'))).mode & 0o777).toBe(0o644);
    expect((await store.list()).map((b) => b.name)).toEqual(['alpha', 'farm']);
    expect(await store.get('farm')).toEqual({ ...farm, tls: { ca: undefined, cert: undefined, key: undefined } });
  });

  it('writes a builder naming TLS material or a token file readable by its owner only', async () => {
    await store.save({ ...farm, tokenFile: '/etc/tbuild/token' });
    expect((await stat(join(store.dir, 'farm.json'))).mode & 0o777).toBe(0o600);
    await store.save({ ...farm, name: 'tls', tls: { ca: '/ca.pem' } });
    expect((await stat(join(store.dir, 'tls.json'))).mode & 0o777).toBe(0o600);
    expect(JSON.parse(await readFile(join(store.dir, 'farm.json'), 'utf8'))).toMatchObject({ tokenFile: '/etc/tbuild/token' });
  });

  it('fails on an unknown name, listing the builders there are', async () => {
    await expect(store.get('farm')).rejects.toThrow('Cannot find builder "farm": no builders are defined');
    await store.save(farm);
    await store.save({ ...farm, name: 'other' });
    await expect(store.get('nope')).rejects.toThrow('Cannot find builder "nope": known builders: farm, other');
  });

  it('remembers the builder in use, and forgets it when that builder is removed', async () => {
    expect(await store.current()).toBeUndefined();
    await expect(store.use('farm')).rejects.toThrow(/Cannot find builder "farm"/);
    await store.save(farm);
    await store.use('farm');
    expect(await store.current()).toBe('farm');
    await store.remove('farm');
    expect(await store.current()).toBeUndefined();
    expect(await store.list()).toEqual([]);
  });

  it('refuses a builder file with a bad node address, naming the file', async () => {
    await store.save(farm);
    await writeFile(join(store.dir, 'farm.json'), JSON.stringify({ name: 'farm', nodes: [{ name: 'farm0', endpoint: 'http://x' }] }));
    await expect(store.get('farm')).rejects.toThrow(`Cannot read builder file ${join(store.dir, 'farm.json')}: node farm0 has a bad address`);
    await writeFile(join(store.dir, 'farm.json'), JSON.stringify({ name: 'farm', nodes: [{ endpoint: 'tcp://x:1' }] }));
    await expect(store.get('farm')).rejects.toThrow(`Cannot read builder file ${join(store.dir, 'farm.json')}: node 0 needs a name and an endpoint`);
  });

  it('takes names that are file names, not "embedded"', () => {
    expect(checkBuilderName('ci-farm.1')).toBe('ci-farm.1');
    expect(() => checkBuilderName('../x')).toThrow(/expected letters/);
    expect(() => checkBuilderName('embedded')).toThrow(/names the builder in this process/);
  });
});
