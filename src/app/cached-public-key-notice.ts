/**
 * Contract §4: disabling or retiring the published version stops opening at once, but Office clients that fetched
 * its public key keep protecting with it until their cache.exp. Said by the CLI (and any admin front) every time
 * such a change is made, because documents protected in that window will not open while the version stays blocked.
 * Undefined when the service sends no cache part (DKE_PUBLIC_KEY_CACHE_HOURS=0).
 */
export function cachedPublicKeyNotice(name: string, keyId: string, cacheHours: number): string | undefined {
  if (cacheHours === 0) return undefined;
  return (
    `Opening documents protected with ${name} version ${keyId} stops at once, but Office clients that fetched its public key ` +
    `keep protecting new documents with it until their cache.exp (up to ${cacheHours} h after their last fetch), and those documents ` +
    `will not open while this version stays blocked.`
  );
}
