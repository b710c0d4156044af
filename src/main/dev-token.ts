import { embeddedTokenSettings } from '../config/embedded-token.js';
import { useOneNssIteration } from '../config/nss-environment.js';
import { createNssToken, nssTokenExists } from '../hsm/nss-token-database.js';

/** Makes the embedded NSS development token when it does not exist yet; says whether it was made now, and where. */
export function ensureDevToken(dataDir: string): { readonly made: boolean; readonly tokenDir: string } {
  const { tokenDir } = embeddedTokenSettings(dataDir);
  if (nssTokenExists(tokenDir)) return { made: false, tokenDir };
  useOneNssIteration();
  createNssToken(tokenDir);
  return { made: true, tokenDir };
}
