/**
 * Contract §2 (src/config/): the environment wins over config/local.json, which wins over config/default.json;
 * `PORT` is the fallback of `DKE_PORT`; a malformed value is refused with a sentence naming the setting; the PIN is
 * never printed.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, it } from 'mocha';
import { ConfigError, loadConfig } from '../../src/config/config.js';

const base = { DKE_AUTH_AUDIENCE: 'https://dke.example', DKE_AUTH_TENANT_IDS: 'T1', DKE_PKCS11_LIBRARY: '/x.so', DKE_PKCS11_TOKEN_LABEL: 'l' };

describe('§2 configuration', () => {
  it('environment wins over config/local.json, which wins over config/default.json', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dke-config-'));
    writeFileSync(join(dir, 'default.json'), JSON.stringify({ DKE_PORT: 1111, DKE_LOG_LEVEL: 'warn' }));
    writeFileSync(join(dir, 'local.json'), JSON.stringify({ DKE_PORT: 2222, DKE_PUBLIC_KEY_CACHE_HOURS: 5 }));
    const config = loadConfig({ ...base, DKE_PORT: '3333' }, dir);
    assert.equal(config.port, 3333);
    assert.equal(config.logLevel, 'warn');
    assert.equal(config.publicKeyCacheHours, 5);
    assert.deepEqual(config.auth.tenantIds, ['t1']);
  });

  it('falls back to PORT (iisnode, App Service) and accepts a named pipe', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dke-config-'));
    assert.equal(loadConfig({ ...base, PORT: '\\\\.\\pipe\\abc' }, dir).port, '\\\\.\\pipe\\abc');
    assert.equal(loadConfig({ ...base, PORT: '9000', DKE_PORT: '9001' }, dir).port, 9001);
  });

  it('issue 25: DKE_OUTAGE_MODE is journal (the default) or refuse; anything else is refused with a sentence', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dke-config-'));
    assert.equal(loadConfig(base, dir).outageMode, 'journal');
    assert.equal(loadConfig({ ...base, DKE_OUTAGE_MODE: 'Refuse' }, dir).outageMode, 'refuse');
    assert.throws(() => loadConfig({ ...base, DKE_OUTAGE_MODE: 'drop' }, dir), { message: 'DKE_OUTAGE_MODE must be journal or refuse, not "drop".' });
  });

  it('refuses malformed values with a sentence naming the setting', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dke-config-'));
    assert.throws(() => loadConfig({ ...base, DKE_PUBLIC_KEY_CACHE_HOURS: 'soon' }, dir), (e: unknown) => e instanceof ConfigError && /DKE_PUBLIC_KEY_CACHE_HOURS/.test(e.message));
    assert.throws(() => loadConfig({ ...base, DKE_TLS_CERT: 'a.pem' }, dir), /DKE_TLS_CERT and DKE_TLS_KEY/);
    assert.throws(() => loadConfig({ ...base, DKE_PKCS11_TOKEN_LABEL: '' }, dir), /DKE_PKCS11_TOKEN_LABEL or DKE_PKCS11_SLOT/);
    writeFileSync(join(dir, 'local.json'), JSON.stringify({ DKE_PROT: 1 }));
    assert.throws(() => loadConfig(base, dir), /unknown setting DKE_PROT/);
  });

  it('issue 18: DKE_TRUST_PROXY is false, a hop count or proxy addresses and CIDR ranges; true is refused with the fix', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dke-config-'));
    const trust = (value: string | undefined) => loadConfig(value === undefined ? base : { ...base, DKE_TRUST_PROXY: value }, dir).trustProxy;
    assert.equal(trust(undefined), false);
    assert.equal(trust('false'), false);
    assert.equal(trust('2'), 2);
    assert.deepEqual(trust('10.0.0.4, 10.1.0.0/16,fd00::/8,loopback'), ['10.0.0.4', '10.1.0.0/16', 'fd00::/8', 'loopback']);
    for (const value of ['true', 'TRUE', ' true ']) {
      assert.throws(
        () => trust(value),
        (e: unknown) =>
          e instanceof ConfigError &&
          e.message ===
            'DKE_TRUST_PROXY=true would let any caller choose its own address and host name through X-Forwarded-* headers; ' +
              'set the number of proxies in front of the service (for example 1) or the addresses of the trusted proxies (for example 10.0.0.4,10.1.0.0/16).',
        value,
      );
    }
    for (const value of ['yes', '10.0.0.0/33', 'proxy.contoso.com', '10.0.0.1/8/8', '11']) {
      assert.throws(() => trust(value), (e: unknown) => e instanceof ConfigError && /DKE_TRUST_PROXY/.test(e.message), value);
    }
  });

  it('never prints the PIN when the configuration is logged or serialised', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dke-config-'));
    const config = loadConfig({ ...base, DKE_PKCS11_PIN: 'sup3r-s3cret' }, dir);
    assert.equal(config.pkcs11.pin?.reveal(), 'sup3r-s3cret');
    assert.ok(!JSON.stringify(config).includes('sup3r-s3cret'));
    assert.ok(!inspect(config, { depth: 10 }).includes('sup3r-s3cret'));
  });
});
