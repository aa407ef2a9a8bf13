import { describe, expect, it } from 'vitest';
import { parseManifests, validateManifests } from '../../helpers/kube-manifests.js';

const SERVICE = `apiVersion: v1
kind: Service
metadata:
  name: tbuild
spec:
  selector:
    app.kubernetes.io/name: tbuild
  ports:
    - name: grpc
      port: 8375
      targetPort: grpc
`;

const STATEFULSET = `apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: tbuild
spec:
  serviceName: tbuild-headless
  replicas: 2
  selector:
    matchLabels:
      app: tbuild
  template:
    metadata:
      labels:
        app: tbuild
    spec:
      containers:
        - name: tbuild
          image: tbuild
          readinessProbe:
            httpGet:
              path: /readyz
              port: health
`;

describe('validateManifests (Kubernetes OpenAPI schemas, offline)', () => {
  it('accepts valid objects', async () => {
    expect(await validateManifests(parseManifests(`${SERVICE}---\n${STATEFULSET}`))).toEqual([]);
  });

  it('refuses a field the schema does not have, naming it', async () => {
    const problems = await validateManifests(parseManifests(STATEFULSET.replace('image: tbuild', 'image: tbuild\n          imagePullPolicyy: Always')));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^manifests\.ts\(\d+,\d+\): error TS\d+: .*"imagePullPolicyy".* does not exist in type 'IContainer'/);
  });

  it('refuses a value of the wrong type and a missing required field', async () => {
    expect(await validateManifests(parseManifests(STATEFULSET.replace('replicas: 2', 'replicas: two')))).toEqual(
      expect.arrayContaining(['StatefulSet/tbuild: data/spec/replicas must be integer']),
    );
    const problems = await validateManifests(parseManifests(SERVICE.replace('      port: 8375\n', '')));
    expect(problems).toEqual(expect.arrayContaining(['Service/tbuild: data/spec/ports/0 must have required property port']));
  });

  it('refuses an object of a kind it has no schema for', async () => {
    expect(await validateManifests(parseManifests('apiVersion: apps/v1beta9\nkind: StatefulSet\nmetadata:\n  name: x\n'))).toEqual([
      'StatefulSet/x: no schema for apiVersion apps/v1beta9 kind StatefulSet',
    ]);
  });
});
