import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';
import { renderKustomization, validateManifests, type KubeObject } from '../helpers/kube-manifests.js';

/** at reads a path of keys and list indexes from a rendered object. */
function at(o: unknown, ...path: readonly (string | number)[]): unknown {
  let v = o;
  for (const k of path) v = typeof v === 'object' && v !== null ? Reflect.get(v, k) : undefined;
  return v;
}

describe('deploy/kubernetes: the kustomization', () => {
  let objects: KubeObject[];
  const find = (kind: string, name: string): KubeObject => {
    const o = objects.find((x) => x.kind === kind && at(x, 'metadata', 'name') === name);
    if (o === undefined) throw new Error(`no ${kind}/${name} in ${objects.map((x) => `${String(x.kind)}/${String(at(x, 'metadata', 'name'))}`).join(', ')}`);
    return o;
  };

  beforeAll(async () => {
    objects = await renderKustomization(join(REPO_ROOT, 'deploy', 'kubernetes'));
  });

  it('renders objects that Kubernetes\' OpenAPI schemas accept, every field known', async () => {
    expect(objects.map((o) => `${String(o.kind)}`).sort()).toEqual(['ConfigMap', 'PodDisruptionBudget', 'Service', 'Service', 'StatefulSet']);
    expect(await validateManifests(objects)).toEqual([]);
  });

  it('runs rootless builders, each with its store on a claim, TLS from the Secret and settings from the ConfigMap', () => {
    const sts = find('StatefulSet', 'tbuild');
    const pod = at(sts, 'spec', 'template', 'spec');
    const c = at(pod, 'containers', 0);
    expect(at(sts, 'spec', 'serviceName')).toBe('tbuild-headless');
    expect(at(sts, 'spec', 'volumeClaimTemplates', 0, 'metadata', 'name')).toBe('store');
    expect(at(c, 'volumeMounts')).toEqual(expect.arrayContaining([{ name: 'store', mountPath: '/home/tbuild/.local/share/tbuild' }]));
    const args = at(c, 'args');
    expect(args).toEqual(expect.arrayContaining(['serve', 'tcp://0.0.0.0:8375', '/certs/ca.pem', '--health-addr', ':8376']));
    // The pod's /proc stays masked (no procMount: Unmasked, which needs hostUsers: false): RUN steps share the server's.
    expect(args).toEqual(expect.arrayContaining(['--no-process-sandbox']));
    expect(at(c, 'securityContext', 'procMount')).toBeUndefined();
    const volumes = at(pod, 'volumes');
    expect(volumes).toEqual(expect.arrayContaining([expect.objectContaining({ name: 'certs', secret: expect.objectContaining({ secretName: 'tbuild-certs' }) })]));
    // The ConfigMap's name carries kustomize's hash of tbuild.toml, and the pods mount that one.
    const config = objects.find((o) => o.kind === 'ConfigMap');
    expect(at(config, 'metadata', 'name')).toMatch(/^tbuild-config-[a-z0-9]+$/);
    expect(volumes).toEqual(expect.arrayContaining([{ name: 'config', configMap: { name: at(config, 'metadata', 'name') } }]));
    expect(String(at(config, 'data', 'tbuild.toml'))).toContain('[gc]');
    // Only the relaxations of BuildKit's rootless example: seccomp and AppArmor unconfined, not privileged.
    expect(at(c, 'securityContext')).toEqual({ seccompProfile: { type: 'Unconfined' }, appArmorProfile: { type: 'Unconfined' }, runAsUser: 1000, runAsGroup: 1000 });
    expect(at(pod, 'securityContext', 'runAsNonRoot')).toBe(true);
    expect(at(c, 'resources', 'requests')).toBeDefined();
    expect(at(c, 'resources', 'limits')).toBeDefined();
  });

  it('probes the health listener, serves the builder on a headless and a client Service, and limits disruption', () => {
    const c = at(find('StatefulSet', 'tbuild'), 'spec', 'template', 'spec', 'containers', 0);
    expect(at(c, 'readinessProbe', 'httpGet')).toEqual({ path: '/readyz', port: 'health' });
    expect(at(c, 'livenessProbe', 'httpGet')).toEqual({ path: '/healthz', port: 'health' });
    expect(at(c, 'ports')).toEqual([
      { name: 'grpc', containerPort: 8375, protocol: 'TCP' },
      { name: 'health', containerPort: 8376, protocol: 'TCP' },
    ]);
    const labels = at(find('StatefulSet', 'tbuild'), 'spec', 'template', 'metadata', 'labels');
    expect(at(find('Service', 'tbuild-headless'), 'spec', 'clusterIP')).toBe('None');
    for (const name of ['tbuild-headless', 'tbuild']) {
      expect(at(find('Service', name), 'spec', 'selector')).toEqual(labels);
      expect(at(find('Service', name), 'spec', 'ports', 0, 'port')).toBe(8375);
    }
    expect(at(find('PodDisruptionBudget', 'tbuild'), 'spec', 'selector', 'matchLabels')).toEqual(labels);
  });
});
