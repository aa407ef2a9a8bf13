import { randomBytes } from 'node:crypto';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StatefulSet } from 'kubernetes-models/apps/v1/StatefulSet';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT, run } from './cli.js';

/**
 * Offline checks of Kubernetes manifests against Kubernetes' OpenAPI schemas, as kubernetes-models carries them:
 * its validators (generated from the schemas) check types, required fields and enums; its TypeScript interfaces
 * (generated from the same schemas) check that every field exists, through the compiler's excess property check on
 * the manifests written as object literals, as the API server's strict field validation would refuse them.
 */

/** KubeObject is one rendered object. */
export type KubeObject = Readonly<Record<string, unknown>> & { readonly apiVersion?: unknown; readonly kind?: unknown };

interface Kind {
  /** A model of the kind, whose validate() checks the fields given to it against the schema and throws. */
  readonly model: () => { validate(): void };
  /** The module and interface the TypeScript check types the object with. */
  readonly module: string;
  readonly type: string;
}

const KINDS: Readonly<Record<string, Kind>> = {
  'apps/v1/StatefulSet': { model: () => new StatefulSet(), module: 'kubernetes-models/apps/v1/StatefulSet', type: 'IStatefulSet' },
  'v1/Service': { model: () => new Service(), module: 'kubernetes-models/v1/Service', type: 'IService' },
  'v1/ConfigMap': { model: () => new ConfigMap(), module: 'kubernetes-models/v1/ConfigMap', type: 'IConfigMap' },
  'v1/Secret': { model: () => new Secret(), module: 'kubernetes-models/v1/Secret', type: 'ISecret' },
  'policy/v1/PodDisruptionBudget': { model: () => new PodDisruptionBudget(), module: 'kubernetes-models/policy/v1/PodDisruptionBudget', type: 'IPodDisruptionBudget' },
};

/** schemaProblems validates the object with its kind's model: the schema's complaints, or none. */
function schemaProblems(kind: Kind, object: KubeObject): string[] {
  // The object's fields go onto the model as they are, unchecked by the compiler: the validator is what checks them.
  const model = Object.assign(kind.model(), object);
  try {
    model.validate();
    return [];
  } catch (err) {
    return [err instanceof Error ? err.message : String(err)];
  }
}

const nameOf = (o: KubeObject): string => {
  const meta = o['metadata'];
  const name = typeof meta === 'object' && meta !== null && 'name' in meta ? String(meta.name) : '?';
  return `${String(o.kind)}/${name}`;
};

/** renderKustomization runs `kubectl kustomize DIR` and parses the objects it prints. */
export async function renderKustomization(dir: string): Promise<KubeObject[]> {
  const res = await run('kubectl', ['kustomize', dir]);
  if (res.code !== 0) throw new Error(`kubectl kustomize ${dir} failed (${res.code}): ${res.stderr}`);
  return parseManifests(res.stdout);
}

/** parseManifests reads a multi-document YAML stream, failing on a YAML error. */
export function parseManifests(text: string): KubeObject[] {
  return parseAllDocuments(text).map((doc) => {
    if (doc.errors.length > 0) throw new Error(`Cannot parse the manifests: ${doc.errors.map((e) => e.message).join('; ')}`);
    const value: unknown = doc.toJS();
    if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`Cannot read a manifest: not an object: ${JSON.stringify(value)}`);
    return value as KubeObject;
  });
}

/** validateManifests returns every problem found in the objects (none when they are valid), each naming its object. */
export async function validateManifests(objects: readonly KubeObject[]): Promise<string[]> {
  const problems: string[] = [];
  const typed: { readonly object: KubeObject; readonly kind: Kind }[] = [];
  for (const o of objects) {
    const kind = KINDS[`${String(o.apiVersion)}/${String(o.kind)}`];
    if (kind === undefined) {
      problems.push(`${nameOf(o)}: no schema for apiVersion ${String(o.apiVersion)} kind ${String(o.kind)}`);
      continue;
    }
    problems.push(...schemaProblems(kind, o).map((e) => `${nameOf(o)}: ${e}`));
    typed.push({ object: o, kind });
  }
  return [...problems, ...(await unknownFields(typed))];
}

/** unknownFields type-checks the objects as literals of their interfaces and returns the compiler's complaints. */
async function unknownFields(objects: readonly { readonly object: KubeObject; readonly kind: Kind }[]): Promise<string[]> {
  if (objects.length === 0) return [];
  // Under the repository, so that the compiler resolves kubernetes-models from its node_modules.
  const dir = join(REPO_ROOT, '.tbuild-test', `kube-${randomBytes(6).toString('hex')}`);
  await mkdir(dir, { recursive: true });
  try {
    const modules = [...new Set(objects.map((o) => o.kind))];
    const lines = [
      ...modules.map((k) => `import type { ${k.type} } from '${k.module}';`),
      ...objects.map((o, i) => `// ${nameOf(o.object)}\nexport const object${i}: ${o.kind.type} = ${JSON.stringify(o.object, null, 2)};`),
    ];
    await writeFile(join(dir, 'manifests.ts'), `${lines.join('\n')}\n`);
    const options = { strict: true, noEmit: true, module: 'nodenext', moduleResolution: 'nodenext', target: 'es2022', types: [], skipLibCheck: true };
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify({ compilerOptions: options, files: ['manifests.ts'] }));
    const res = await run(join(REPO_ROOT, 'node_modules', '.bin', 'tsc'), ['-p', join(dir, 'tsconfig.json')]);
    if (res.code === 0) return [];
    const out = `${res.stdout}${res.stderr}`.split('\n').filter((l) => /error TS\d+/.test(l));
    if (out.length === 0) throw new Error(`tsc failed without a type error (${res.code}): ${res.stdout}${res.stderr}`);
    return out.map((l) => l.replace(/^.*manifests\.ts/, 'manifests.ts'));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
