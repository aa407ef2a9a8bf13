import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openMetadataStore } from '../../../cache/index.js';
import { nameImage, type StoredImage } from '../../../controller/image-naming.js';
import { makeTempDir } from '../../helpers/cli.js';

const image = (config: string, createdAt: number): StoredImage => ({
  manifestDigest: `sha256:${'m'.repeat(63)}${config}`,
  manifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
  manifestSize: 500,
  configDigest: `sha256:${'c'.repeat(63)}${config}`,
  snapshotId: `snap-${config}`,
  createdAt,
});

describe('naming an image', () => {
  it('leaves the record of a name that already holds the same image as it was, and moves a name to another image', async () => {
    await using tmp = await makeTempDir();
    const meta = openMetadataStore(join(tmp.path, 'meta'));
    try {
      const name = 'docker.io/library/app:latest';
      await nameImage({ meta }, image('1', 1000), [name]);
      const puts: string[] = [];
      const put = meta.images.put.bind(meta.images);
      meta.images.put = (key, value) => {
        puts.push(String(key));
        return put(key, value);
      };
      // A rebuild made the same image: nothing is written, and it keeps its date.
      await nameImage({ meta }, image('1', 2000), [name]);
      expect(puts).toEqual([]);
      expect(meta.images.get(name)?.createdAt).toBe(1000);
      // Another image takes the name; the one it held stays, dangling, under its ID.
      await nameImage({ meta }, image('2', 3000), [name]);
      expect(puts).toEqual([name, `sha256:${'c'.repeat(63)}1`]);
      expect(meta.images.get(name)).toMatchObject({ configDigest: `sha256:${'c'.repeat(63)}2`, createdAt: 3000 });
    } finally {
      await meta.close();
    }
  });
});
