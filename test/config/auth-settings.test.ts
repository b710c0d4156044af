/**
 * Contract §2 (DKE_AUTH_AUDIENCE, DKE_AUTH_TENANT_IDS, DKE_AUTH_ISSUERS, DKE_AUTH_CLOUD), issue 16: the service
 * refuses to start when it could authenticate nobody, and a named cloud gives its metadata URL, the issuers of each
 * tenant and the challenge's authorization URL; explicit variables still win.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'mocha';
import { allowedIssuers } from '../../src/auth/entra-token-verifier.js';
import { ConfigError, loadConfig } from '../../src/config/config.js';
import { challengeHeaders } from '../../src/http/error-responses.js';
import { runCli } from '../support/run-cli.js';
import { startTestEnv } from '../support/test-env.js';

const TID = '8d2f4a61-3c5e-4b7a-9f10-2e6c1d7b5a93';
const base = { DKE_AUTH_AUDIENCE: 'https://dke.example', DKE_AUTH_TENANT_IDS: TID, DKE_PKCS11_LIBRARY: '/x.so', DKE_PKCS11_TOKEN_LABEL: 'l' };
const emptyConfigDir = () => mkdtempSync(join(tmpdir(), 'dke-config-'));

describe('§2 authentication settings (issue 16)', () => {
  it('§2 DKE_AUTH_CLOUD presets: metadata URL, v1/v2 issuers of each tenant, and the challenge authorization URL', () => {
    const expected = {
      public: {
        metadata: 'https://login.microsoftonline.com/common/v2.0/.well-known/openid-configuration',
        issuers: [`https://sts.windows.net/${TID}/`, `https://login.microsoftonline.com/${TID}/v2.0`],
        authorization: 'https://login.windows.net/common/oauth2/authorize',
      },
      usgov: {
        metadata: 'https://login.microsoftonline.us/common/v2.0/.well-known/openid-configuration',
        issuers: [`https://sts.windows.net/${TID}/`, `https://login.microsoftonline.us/${TID}/v2.0`],
        authorization: 'https://login.microsoftonline.us/common/oauth2/authorize',
      },
      china: {
        metadata: 'https://login.chinacloudapi.cn/common/v2.0/.well-known/openid-configuration',
        issuers: [`https://sts.chinacloudapi.cn/${TID}/`, `https://login.partner.microsoftonline.cn/${TID}/v2.0`],
        authorization: 'https://login.chinacloudapi.cn/common/oauth2/authorize',
      },
    };
    for (const [cloud, want] of Object.entries(expected)) {
      const { auth } = loadConfig({ ...base, DKE_AUTH_CLOUD: cloud.toUpperCase() }, emptyConfigDir());
      assert.equal(auth.metadataUrl, want.metadata, cloud);
      assert.deepEqual([...allowedIssuers(auth).keys()], want.issuers, cloud);
      assert.equal(challengeHeaders(auth).authorization, want.authorization, cloud);
      assert.match(challengeHeaders(auth)['WWW-Authenticate']!, new RegExp(`authorization="${want.authorization}"`), cloud);
    }
    assert.equal(loadConfig(base, emptyConfigDir()).auth.cloud?.name, 'public', 'unset: the public cloud');
  });

  it('§2 explicit DKE_AUTH_METADATA_URL and DKE_AUTH_AUTHORIZATION_URL win over the cloud; the cloud keeps the issuers', () => {
    const { auth } = loadConfig(
      { ...base, DKE_AUTH_CLOUD: 'usgov', DKE_AUTH_METADATA_URL: 'https://mirror.corp.example/meta', DKE_AUTH_AUTHORIZATION_URL: 'https://login.microsoftonline.us/tenant/oauth2/authorize' },
      emptyConfigDir(),
    );
    assert.equal(auth.metadataUrl, 'https://mirror.corp.example/meta');
    assert.equal(auth.authorizationUrl, 'https://login.microsoftonline.us/tenant/oauth2/authorize');
    assert.deepEqual([...allowedIssuers(auth).keys()], [`https://sts.windows.net/${TID}/`, `https://login.microsoftonline.us/${TID}/v2.0`]);
    // Without DKE_AUTH_CLOUD, a sovereign metadata host still picks its cloud (deployments from before the variable).
    const legacy = loadConfig({ ...base, DKE_AUTH_METADATA_URL: `https://login.partner.microsoftonline.cn/${TID}/v2.0/.well-known/openid-configuration` }, emptyConfigDir());
    assert.equal(legacy.auth.cloud?.name, 'china');
    assert.throws(() => loadConfig({ ...base, DKE_AUTH_CLOUD: 'germany' }, emptyConfigDir()), (e: unknown) => e instanceof ConfigError && e.message === 'DKE_AUTH_CLOUD must be one of public, usgov, china, not "germany".');
  });

  it('§1 the 401 of a China deployment sends Office to the China authority', async function () {
    this.timeout(20_000);
    const env = await startTestEnv({ settings: { DKE_AUTH_CLOUD: 'china' } });
    try {
      const { keyId } = await env.admin.create('sovereign');
      const answer = await env.http.post(`/sovereign/${keyId}/decrypt`).type('json').send({ alg: 'RSA-OAEP-256', value: 'AAAA' });
      assert.equal(answer.status, 401);
      assert.equal(answer.headers.authorization, 'https://login.chinacloudapi.cn/common/oauth2/authorize');
      assert.equal(
        answer.headers['www-authenticate'],
        'Bearer resource="https://dke.test.example", authorization="https://login.chinacloudapi.cn/common/oauth2/authorize", realm="https://dke.test.example"',
      );
      // A token of the public cloud's issuer form is no longer accepted by a China deployment.
      const publicCloudToken = await env.token({ upn: 'alice@contoso.dev' });
      const refused = await env.http.post(`/sovereign/${keyId}/decrypt`).set('Authorization', `Bearer ${publicCloudToken}`).type('json').send({ alg: 'RSA-OAEP-256', value: 'AAAA' });
      assert.equal(refused.status, 401);
    } finally {
      await env.close();
    }
  });

  it('§2 dke serve refuses to start without DKE_AUTH_AUDIENCE, or without DKE_AUTH_TENANT_IDS and DKE_AUTH_ISSUERS', function () {
    this.timeout(30_000);
    const dir = mkdtempSync(join(tmpdir(), 'dke-noauth-'));
    const { DKE_AUTH_AUDIENCE: _a, DKE_AUTH_TENANT_IDS: _t, DKE_AUTH_ISSUERS: _i, ...inherited } = process.env;
    const env = { ...inherited, DKE_DATA_DIR: join(dir, 'data'), DKE_PKCS11_LIBRARY: join(dir, 'absent.so'), DKE_PKCS11_TOKEN_LABEL: 'x', DKE_PORT: '0' };
    const noAudience = runCli(['serve'], { ...env, DKE_AUTH_TENANT_IDS: TID });
    assert.equal(noAudience.status, 2);
    assert.equal(
      noAudience.stderr,
      'dke: DKE_AUTH_AUDIENCE is not set, so no token can be accepted and every decrypt would fail: set it to the service URL of the sensitivity label (the Application ID URI), e.g. https://dke.contoso.com.\n',
    );
    const noIssuer = runCli(['serve'], { ...env, DKE_AUTH_AUDIENCE: 'https://dke.contoso.com' });
    assert.equal(noIssuer.status, 2);
    assert.equal(
      noIssuer.stderr,
      'dke: Neither DKE_AUTH_TENANT_IDS nor DKE_AUTH_ISSUERS is set, so no token issuer is trusted and every decrypt would fail: set DKE_AUTH_TENANT_IDS to your Entra tenant id.\n',
    );
    assert.equal(noIssuer.stdout, '', 'it never logged "listening"');
  });
});
