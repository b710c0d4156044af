/**
 * docs/operations.md (issue 7, issue 27): the Dockerfile, the Kubernetes manifest, web.config and the systemd unit say
 * what the operations guide says (no Docker engine, cluster, IIS or systemd here: their directives are parsed and
 * checked).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validate as lintDockerfile } from 'dockerfile-utils';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, it } from 'mocha';
import { parseAllDocuments } from 'yaml';
import { productionNodeFlags } from '../../scripts/bench/production-node-flags.js';

const ROOT = process.cwd();
const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

/** Dockerfile instructions (continuation lines joined), as [instruction, arguments]. */
function dockerInstructions(text: string): [string, string][] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((l) => {
      const [instruction, ...rest] = l.split(/\s+/);
      return [instruction!.toUpperCase(), rest.join(' ')];
    });
}

describe('issue 7: deployment files (no Docker engine or IIS here: their directives are checked)', () => {
  it('Dockerfile lints clean (dockerfile-utils: hadolint is on neither npm nor Debian), and the linter does catch faults', () => {
    const text = read('Dockerfile');
    assert.deepEqual(lintDockerfile(text).map((d) => `${d.range.start.line + 1}: ${d.message}`), []);
    const broken = text.replace('--interval=30s', '--interval=30x').replace('EXPOSE 8080', 'EXPOSE http');
    assert.equal(lintDockerfile(broken).length, 2);
  });

  it('Dockerfile: multi-stage on one base, non-root user, HEALTHCHECK on readiness, no secrets baked in', () => {
    const steps = dockerInstructions(read('Dockerfile'));
    const froms = steps.filter(([i]) => i === 'FROM').map(([, a]) => a);
    assert.deepEqual(froms, ['node:20-bookworm-slim AS build', 'node:20-bookworm-slim AS runtime']);
    const runtime = steps.slice(steps.findIndex(([i, a]) => i === 'FROM' && a.endsWith('runtime')));
    const user = runtime.filter(([i]) => i === 'USER').map(([, a]) => a);
    assert.deepEqual(user, ['dke'], 'the runtime stage runs as the dke user');
    assert.ok(runtime.some(([i, a]) => i === 'COPY' && a.startsWith('--from=build')), 'only built output is copied from the build stage');
    assert.ok(!runtime.some(([i, a]) => i === 'RUN' && /npm (ci|install)/.test(a)), 'no dev dependencies installed in the runtime stage');
    const healthcheck = runtime.find(([i]) => i === 'HEALTHCHECK')?.[1] ?? '';
    assert.match(healthcheck, /dist\/healthcheck\.js/);
    assert.match(read('src/healthcheck.ts'), /\/health\/ready/);
    assert.ok(runtime.some(([i, a]) => i === 'EXPOSE' && a === '8080'));
    assert.ok(runtime.some(([i, a]) => i === 'CMD' && a.includes('dist/cli.js') && a.includes('serve')));
    for (const [instruction, args] of steps) {
      if (instruction === 'ENV' || instruction === 'ARG') assert.doesNotMatch(args, /PIN|SECRET|PASSWORD|KEY=/i, `${instruction} ${args}`);
    }
    assert.match(read('.dockerignore'), /^node_modules$/m);
    assert.match(read('.dockerignore'), /^data$/m);
  });

  it('web.config is well-formed XML that hands every path to iisnode on the built entry', () => {
    const text = read('web.config');
    assert.equal(XMLValidator.validate(text), true);
    const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '' }).parse(text);
    const server = xml.configuration['system.webServer'];
    assert.equal(server.handlers.add.modules, 'iisnode');
    assert.equal(server.handlers.add.path, 'server.cjs');
    assert.equal(server.rewrite.rules.rule.action.url, 'server.cjs');
    assert.equal(server.rewrite.rules.rule.match.url, '.*');
    assert.equal(server.httpErrors.existingResponse, 'PassThrough', 'JSON errors and 401 challenges reach Office unchanged');
    assert.equal(server.iisnode.enableXFF, 'true', 'issue 18: the client address reaches the rate limiter through the pipe');
    assert.ok(existsSync(join(ROOT, 'server.cjs')));
    assert.match(read('server.cjs'), /import\('\.\/dist\/cli\.js'\)/);
    assert.match(read('server.cjs'), /'serve'/);
  });

  it('the systemd unit runs dke serve as its own user, stops it gracefully, reloads TLS with SIGHUP, hands the PIN as a credential', () => {
    const unit = read('deploy/systemd/dke-service.service');
    const lines = unit.split('\n').filter((l) => l !== '' && !l.startsWith('#'));
    const sections = lines.filter((l) => l.startsWith('[')).map((l) => l.slice(1, -1));
    assert.deepEqual(sections, ['Unit', 'Service', 'Install']);
    const values = (key: string) => lines.filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));
    assert.deepEqual(values('ExecStart'), ['/usr/bin/node /opt/dke-service/dist/cli.js serve']);
    assert.deepEqual(values('User'), ['dke']);
    assert.deepEqual(values('KillSignal'), ['SIGTERM']);
    assert.deepEqual(values('ExecReload'), ['/bin/kill -HUP $MAINPID']);
    assert.deepEqual(values('Restart'), ['always']);
    const stopMs = Number(/const STOP_TIMEOUT_MS = ([\d_]+);/.exec(read('src/main/run-service.ts'))![1]!.replace(/_/g, ''));
    assert.ok(Number(values('TimeoutStopSec')[0]) >= stopMs / 1000 + 3, 'the graceful stop ends before systemd kills');
    assert.deepEqual(values('LoadCredential'), ['pkcs11-pin:/etc/dke/pkcs11-pin']);
    assert.ok(values('Environment').includes('DKE_PKCS11_PIN_FILE=%d/pkcs11-pin'), 'the PIN file is the credential');
    assert.doesNotMatch(unit, /DKE_PKCS11_PIN=/, 'no PIN in the unit');
    assert.deepEqual(values('WantedBy'), ['multi-user.target']);
  });

  it('issue 30: npm start, the Dockerfile and the systemd unit give node the same flags (the bench reads them from npm start)', () => {
    const flags = productionNodeFlags();
    // The young generation's cap (docs/benchmarks.md: 10 to 30 MB less resident under load, no cost per request) and
    // a heap limit of the service's own, not the machine's (V8 sizes how far the heap grows from it; below the pod's
    // 512Mi).
    assert.deepEqual(flags, ['--max-semi-space-size=4', '--max-old-space-size=384']);
    // Quoted, for the space between the flags: the image's ENV and the unit's Environment= each carry one value.
    const image = [...read('Dockerfile').matchAll(/NODE_OPTIONS=("?)([^"\n]*)\1/g)].map((m) => m[2]);
    assert.deepEqual(image, [flags.join(' ')]);
    const unit = read('deploy/systemd/dke-service.service').split('\n').filter((l) => /^Environment="?NODE_OPTIONS=/.test(l));
    assert.deepEqual(unit, [`Environment="NODE_OPTIONS=${flags.join(' ')}"`]);
    // The Kubernetes pod keeps the image's NODE_OPTIONS: a value of its own would replace the flags.
    const manifest = read('deploy/kubernetes/dke-service.yaml');
    assert.doesNotMatch(manifest, /NODE_OPTIONS/);
  });

  /** The parts of Kubernetes objects these tests read (the YAML parser returns untyped values). */
  interface Volume { name: string; secret?: { secretName: string; defaultMode?: number }; emptyDir?: object; persistentVolumeClaim?: object }
  interface Mount { name: string; mountPath: string; readOnly?: boolean }
  interface EnvVar { name: string; value?: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }
  interface Spread { topologyKey: string; maxSkew: number; whenUnsatisfiable: string; labelSelector: { matchLabels: object } }
  interface Manifest { kind: string; [field: string]: any }

  describe('Kubernetes (issue 13: replicas over nodes and zones, one PostgreSQL; issue 25: each keeps its journal)', () => {
    const docs = (): Manifest[] => parseAllDocuments(read('deploy/kubernetes/dke-service.yaml'), { version: '1.1' }).map((d) => d.toJS());
    /** The one object of this kind in the manifest. */
    const only = (all: Manifest[], kind: string): Manifest => {
      const found = all.filter((d) => d.kind === kind);
      assert.equal(found.length, 1, kind);
      return found[0]!;
    };
    const statefulSetOf = (all: Manifest[]) => only(all, 'StatefulSet');
    const podOf = (all: Manifest[]) => statefulSetOf(all).spec.template.spec;
    const containerOf = (all: Manifest[]) => podOf(all).containers[0];

    it('3+ replicas spread over zones and nodes, a PodDisruptionBudget that keeps 2 serving, probes on /health', () => {
      const all = docs();
      const set = statefulSetOf(all);
      assert.ok(set.spec.replicas >= 3);
      const labels = set.spec.template.metadata.labels;
      const spread = podOf(all).topologySpreadConstraints;
      for (const key of ['topology.kubernetes.io/zone', 'kubernetes.io/hostname']) {
        const constraint = spread.find((c: Spread) => c.topologyKey === key);
        assert.ok(constraint, `spread over ${key}`);
        assert.equal(constraint.maxSkew, 1);
        assert.equal(constraint.whenUnsatisfiable, 'DoNotSchedule', `${key}: a hard constraint, not a preference`);
        assert.deepEqual(constraint.labelSelector.matchLabels, labels);
      }
      assert.equal(podOf(all).affinity?.podAffinity, undefined, 'nothing holds the replicas together on one node');
      const budget = only(all, 'PodDisruptionBudget');
      assert.deepEqual(budget.spec.selector.matchLabels, labels);
      const available = budget.spec.minAvailable ?? set.spec.replicas - budget.spec.maxUnavailable;
      assert.ok(available >= 2 && available < set.spec.replicas, 'a drain may take one replica, never all');
      // A StatefulSet replaces one pod at a time (its successor mounts the same volume); the budget keeps 2 serving.
      assert.equal(set.spec.updateStrategy.type, 'RollingUpdate');
      assert.equal(set.spec.updateStrategy.rollingUpdate?.maxUnavailable ?? 1, 1);
      const container = containerOf(all);
      assert.equal(container.livenessProbe.httpGet.path, '/health/live');
      assert.equal(container.readinessProbe.httpGet.path, '/health/ready');
      assert.equal(podOf(all).securityContext.runAsNonRoot, true);
      assert.equal(container.securityContext.readOnlyRootFilesystem, true);
    });

    it('preStop delay, then the service\'s graceful stop, both fit in the termination grace period', () => {
      const all = docs();
      const [command, seconds] = containerOf(all).lifecycle.preStop.exec.command;
      assert.equal(command, 'sleep');
      const preStop = Number(seconds);
      assert.ok(preStop >= 3, 'long enough for load balancers to take the pod out');
      const stopMs = Number(/const STOP_TIMEOUT_MS = ([\d_]+);/.exec(read('src/main/run-service.ts'))![1]!.replace(/_/g, ''));
      assert.ok(podOf(all).terminationGracePeriodSeconds >= preStop + stopMs / 1000 + 5, 'preStop + graceful stop + closing the HSM and database');
    });

    it('defines no Secret (an apply overwrites nothing); DKE_DATABASE_URL and the PIN come from Secrets the operations guide creates', () => {
      const all = docs();
      assert.deepEqual(all.filter((d) => d.kind === 'Secret'), [], 'no placeholder Secret');
      const container = containerOf(all);
      const url = container.env.find((e: EnvVar) => e.name === 'DKE_DATABASE_URL');
      assert.equal(url.value, undefined, 'no URL literal');
      const guide = read('docs/operations.md');
      const referenced = [
        url.valueFrom.secretKeyRef.name,
        ...podOf(all).volumes.filter((v: Volume) => v.secret).map((v: Volume) => v.secret!.secretName),
      ];
      assert.equal(referenced.length, 3);
      for (const name of referenced) assert.ok(guide.includes(`kubectl create secret generic ${name} `), `docs/operations.md creates ${name}`);
      const config = only(all, 'ConfigMap').data;
      assert.equal(config.DKE_DATABASE_URL, undefined);
      assert.equal(config.DKE_PKCS11_PIN, undefined, 'no PIN in the ConfigMap');
      assert.equal(config.DKE_PKCS11_PIN_FILE, '/run/secrets/dke/pin');
      const pinVolume = podOf(all).volumes.find((v: Volume) => v.secret?.secretName === 'dke-hsm-pin');
      // Kubernetes reads manifests as YAML 1.1, where 0400 is octal: owner read-only.
      assert.equal(pinVolume.secret.defaultMode, 0o400);
      assert.ok(container.volumeMounts.some((m: Mount) => m.name === pinVolume.name && m.mountPath === '/run/secrets/dke' && m.readOnly));
      assert.ok(!container.env.some((e: EnvVar) => e.name === 'DKE_PKCS11_PIN'), 'no PIN literal in the container env');
    });

    it('issue 25: DKE_DATA_DIR (the outage journal) on a persistent volume of each replica, never an emptyDir; the HSM client configuration read-only', () => {
      const all = docs();
      const set = statefulSetOf(all);
      const pod = podOf(all);
      const container = containerOf(all);
      const config = only(all, 'ConfigMap').data;
      assert.equal(config.DKE_OUTAGE_MODE, 'journal');
      const dataMount = container.volumeMounts.find((m: Mount) => m.mountPath === config.DKE_DATA_DIR);
      assert.ok(dataMount, 'DKE_DATA_DIR is mounted');
      assert.equal(dataMount.readOnly, undefined);
      // The claim template gives every replica a volume of its own that outlives the pod, and the pod's volumes hold
      // nothing of that name (a pod volume would shadow the claim), least of all an emptyDir.
      const claim = set.spec.volumeClaimTemplates.find((c: Manifest) => c.metadata.name === dataMount.name);
      assert.ok(claim, `a volumeClaimTemplate named ${dataMount.name}`);
      assert.deepEqual(claim.spec.accessModes, ['ReadWriteOnce']);
      assert.match(claim.spec.resources.requests.storage, /^\d+(Mi|Gi)$/);
      assert.equal(pod.volumes.find((v: Volume) => v.name === dataMount.name), undefined);
      const emptyDirMounts = container.volumeMounts.filter((m: Mount) => pod.volumes.some((v: Volume) => v.name === m.name && v.emptyDir));
      assert.deepEqual(emptyDirMounts.map((m: Mount) => m.mountPath), ['/tmp'], 'only /tmp is scratch');
      // A replica scaled away keeps its volume (its journal may still hold entries to drain).
      assert.deepEqual(set.spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: 'Retain', whenScaled: 'Retain' });
      const headless = all.find((d) => d.kind === 'Service' && d.metadata.name === set.spec.serviceName);
      assert.equal(headless?.spec.clusterIP, 'None', 'the governing Service is headless');
      const routed = all.find((d) => d.kind === 'Service' && d.metadata.name === 'dke-service');
      assert.deepEqual(routed?.spec.selector, set.spec.template.metadata.labels);
      assert.deepEqual(all.filter((d) => d.kind === 'PersistentVolumeClaim'), [], 'no shared claim: one per replica, from the template');
      const hsmVolume = pod.volumes.find((v: Volume) => v.name === 'hsm-client');
      assert.equal(hsmVolume.secret.secretName, 'dke-hsm-client');
      const hsmMount = container.volumeMounts.find((m: Mount) => m.name === 'hsm-client');
      assert.equal(hsmMount.readOnly, true);
    });
  });
});
