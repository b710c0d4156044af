/**
 * Run as its own process by close-under-load.test.ts (a crash must end this process, not the test runner): opens the
 * service's HSM on the token in argv[2] again and again, closes it while decrypts are in flight on the decrypt threads
 * and in the pool's queue, and prints one JSON line with what the callers got.
 */
import { randomBytes } from 'node:crypto';
import { encryptOaepSha256 } from '../../src/app/software-rsa.js';
import { parseSettings } from '../../src/config/config.js';
import { openHsm } from '../../src/hsm/open-hsm.js';
import { HsmUnavailable } from '../../src/keys/errors.js';

const [settingsJson, roundsText] = process.argv.slice(2);
const config = parseSettings(JSON.parse(settingsJson!) as Record<string, string>);
const ref = { name: 'closing', keyId: 'k1' };
const outcomes = { plaintext: 0, wrongPlaintext: 0, unavailable: 0, other: [] as string[] };

const first = openHsm(config.pkcs11);
const publicKey = await first.vault.generateKeyPair(ref);
await first.close();

for (let round = 0; round < Number(roundsText); round += 1) {
  const hsm = openHsm(config.pkcs11);
  await hsm.startDecryptThreads();
  // Twice as many decrypts as sessions: half run on the threads, half wait in the pool's queue when close() starts.
  const calls = Array.from({ length: hsm.pool.size * 2 }, () => {
    const plaintext = randomBytes(32);
    return hsm.vault.decrypt(ref, encryptOaepSha256(publicKey, plaintext)).then(
      (result) => (result.equals(plaintext) ? outcomes.plaintext++ : outcomes.wrongPlaintext++),
      (error: unknown) => (error instanceof HsmUnavailable ? outcomes.unavailable++ : outcomes.other.push(String(error))),
    );
  });
  // Let the first half reach their sessions (and the threads) before close() begins.
  await new Promise((resolve) => setImmediate(resolve));
  await hsm.close();
  await Promise.all(calls);
  const late = await hsm.vault.decrypt(ref, encryptOaepSha256(publicKey, Buffer.from('late'))).then(
    () => 'answered',
    (error: unknown) => (error instanceof HsmUnavailable ? 'HsmUnavailable' : String(error)),
  );
  if (late !== 'HsmUnavailable') outcomes.other.push(`a decrypt after close: ${late}`);
}
console.log(JSON.stringify(outcomes));
