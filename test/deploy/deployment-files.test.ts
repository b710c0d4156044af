/**
 * README "Deployment" (issue 7): the Dockerfile, the Kubernetes manifest and web.config say what the README says
 * (no Docker engine, cluster or IIS here: their directives are parsed and checked).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { validate as lintDockerfile } from 'dockerfile-utils';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, it } from 'mocha';
import { parseAllDocuments } from 'yaml';

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

  it('Kubernetes: 2+ replicas, liveness and readiness probes on /health, PIN from a Secret file, non-root', () => {
    const docs = parseAllDocuments(read('deploy/kubernetes/dke-service.yaml'), { version: '1.1' }).map((d) => d.toJS());
    const deployment = docs.find((d) => d.kind === 'Deployment');
    assert.ok(deployment.spec.replicas >= 2);
    const pod = deployment.spec.template.spec;
    assert.equal(pod.securityContext.runAsNonRoot, true);
    const container = pod.containers[0];
    assert.equal(container.livenessProbe.httpGet.path, '/health/live');
    assert.equal(container.readinessProbe.httpGet.path, '/health/ready');
    const config = docs.find((d) => d.kind === 'ConfigMap');
    assert.equal(config.data.DKE_PKCS11_PIN_FILE, '/run/secrets/dke/pin');
    assert.equal(config.data.DKE_PKCS11_PIN, undefined, 'no PIN in the ConfigMap');
    const pinVolume = pod.volumes.find((v: { secret?: unknown }) => v.secret !== undefined);
    assert.equal(pinVolume.secret.secretName, docs.find((d) => d.kind === 'Secret').metadata.name);
    assert.ok(container.volumeMounts.some((m: { mountPath: string }) => m.mountPath === '/run/secrets/dke'));
    assert.ok(pod.terminationGracePeriodSeconds > 10, 'longer than the service\'s 10 s stop bound');
    assert.ok(docs.some((d) => d.kind === 'PodDisruptionBudget'));
    // Kubernetes reads manifests as YAML 1.1, where 0400 is octal: owner read-only.
    assert.equal(pinVolume.secret.defaultMode, 0o400);
    assert.ok(!(container.env ?? []).some((e: { name: string }) => e.name === 'DKE_PKCS11_PIN'), 'no PIN literal in the container env');
  });

  it('Kubernetes: the replicas share ONE key-state store, so they are held on the node of its ReadWriteOnce volume', () => {
    const docs = parseAllDocuments(read('deploy/kubernetes/dke-service.yaml'), { version: '1.1' }).map((d) => d.toJS());
    const pod = docs.find((d) => d.kind === 'Deployment').spec.template.spec;
    const dataDir = docs.find((d) => d.kind === 'ConfigMap').data.DKE_DATA_DIR;
    const mount = pod.containers[0].volumeMounts.find((m: { mountPath: string }) => m.mountPath === dataDir);
    const volume = pod.volumes.find((v: { name: string }) => v.name === mount.name);
    const claim = docs.find((d) => d.kind === 'PersistentVolumeClaim' && d.metadata.name === volume.persistentVolumeClaim.claimName);
    assert.deepEqual(claim.spec.accessModes, ['ReadWriteOnce'], 'SQLite needs one kernel: no network share');
    const together = pod.affinity.podAffinity.requiredDuringSchedulingIgnoredDuringExecution;
    assert.deepEqual(together, [{ topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { app: 'dke-service' } } }]);
    assert.equal(pod.affinity.podAntiAffinity, undefined, 'spreading replicas over nodes would split or block the store');
  });
});
