// Contract §6 and issue 14: the OpenAPI 3 description at /admin/api/openapi.json names exactly the routes the admin
// listener registers (read from Express's own router), with their methods and path parameters.
import assert from 'node:assert/strict';
import type { Express } from 'express';
import { after, before, describe, it } from 'mocha';
import supertest from 'supertest';
import { startTestEnv, TEST_ADMIN_AUDIENCE, type TestEnv } from '../support/test-env.js';

const METHODS = ['get', 'post', 'put', 'delete', 'patch'] as const;

interface RouterLayer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: RouterLayer[] };
}

/** Every `METHOD /path` Express will route, in OpenAPI's `{param}` form, read from the app's router itself. */
function registeredRoutes(app: Express): string[] {
  const found: string[] = [];
  const walk = (stack: RouterLayer[]): void => {
    for (const layer of stack) {
      if (layer.route) {
        for (const method of Object.keys(layer.route.methods)) found.push(`${method.toUpperCase()} ${layer.route.path.replace(/:(\w+)/g, '{$1}')}`);
      } else if (layer.handle?.stack) walk(layer.handle.stack);
    }
  };
  walk((app as unknown as { router: { stack: RouterLayer[] } }).router.stack);
  return found.sort();
}

function documentedRoutes(doc: { paths: Record<string, Record<string, unknown>> }): string[] {
  return Object.entries(doc.paths)
    .flatMap(([path, item]) => METHODS.filter((m) => item[m] !== undefined).map((m) => `${m.toUpperCase()} ${path}`))
    .sort();
}

describe('§6 admin API: the OpenAPI description matches the registered routes', () => {
  let env: TestEnv;
  let doc: { openapi: string; paths: Record<string, Record<string, unknown>> };
  before(async () => {
    env = await startTestEnv();
    doc = (await supertest(env.service.adminApp).get('/admin/api/openapi.json').expect(200).expect('Content-Type', /json/)).body;
  });
  after(() => env?.close());

  it('is OpenAPI 3, served without a token', () => {
    assert.match(doc.openapi, /^3\.\d+\.\d+$/);
  });

  it('documents every registered route and nothing else', () => {
    const registered = registeredRoutes(env.service.adminApp);
    assert.ok(registered.length >= 14, `only ${registered.length} routes found in the router`);
    assert.deepEqual(documentedRoutes(doc), registered);
  });

  it('declares each path parameter of each path, and every protected operation its 401 and 403', () => {
    for (const [path, item] of Object.entries(doc.paths)) {
      const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();
      const declared = ((item.parameters ?? []) as { name: string; in: string }[]).filter((p) => p.in === 'path').map((p) => p.name).sort();
      assert.deepEqual(declared, inPath, path);
      for (const method of METHODS) {
        const operation = item[method] as { security?: unknown; responses: Record<string, unknown> } | undefined;
        if (operation?.security === undefined) continue;
        assert.ok(operation.responses['401'] && operation.responses['403'], `${method} ${path}`);
      }
    }
  });

  it('every documented operation reaches a route on the live app (no "No such route." 404)', async () => {
    const token = await env.issuer.issueToken({ audience: TEST_ADMIN_AUDIENCE, roles: ['DKE.Auditor'] });
    const http = supertest(env.service.adminApp);
    for (const entry of documentedRoutes(doc)) {
      const [method, path] = entry.split(' ') as [string, string];
      const url = path.replace(/\{\w+\}/g, 'x');
      const res = await http[method.toLowerCase() as 'get'](url).set('Authorization', `Bearer ${token}`);
      assert.notEqual(res.body.message, 'No such route.', entry);
    }
  });
});
