import express, { type Request, type Response, type Router } from 'express';
import helmet from 'helmet';
import type { ConsoleSettings } from './console-settings.js';

export interface ConsoleOptions {
  /** The bundle that `npm run build` writes (index.html and hashed assets). */
  readonly assetsDir: string;
  /** The console's app registration and the tenant's authority (config's `consoleSignIn`). */
  readonly signIn: { readonly clientId?: string; readonly authority: string };
  /** What the page asks Entra for: an access token for the admin API's audience. */
  readonly scope: string;
  /** The DKE service's URL that a sensitivity label names, without the key name (the page appends it). */
  readonly labelBaseUrl: string;
}

export function consoleSettings(options: Omit<ConsoleOptions, 'assetsDir'>): ConsoleSettings {
  const { clientId, authority } = options.signIn;
  return {
    clientId: clientId ?? null,
    authority,
    authorizeUrl: `${authority}/oauth2/v2.0/authorize`,
    tokenUrl: `${authority}/oauth2/v2.0/token`,
    scope: options.scope,
    labelBaseUrl: options.labelBaseUrl,
  };
}

/**
 * The console (contract §7) at /admin/: the built page and its assets, served by the service itself under a strict
 * Content-Security-Policy (scripts and styles only from this origin, nothing inline, no framing); the one other origin
 * the page may call is the authority's token endpoint, where the authorization code is exchanged (PKCE).
 */
export function consoleRoutes(options: ConsoleOptions): Router {
  const router = express.Router({ caseSensitive: true });
  const settings = consoleSettings(options);
  router.use(
    '/admin',
    helmet.contentSecurityPolicy({
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'", new URL(settings.tokenUrl).origin],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        objectSrc: ["'none'"],
      },
    }),
  );
  router.get('/admin/config.json', (_req: Request, res: Response) => {
    res.set('cache-control', 'no-store').json(settings);
  });
  router.use(
    '/admin',
    express.static(options.assetsDir, {
      index: 'index.html',
      fallthrough: true,
      setHeaders: (res, path) => {
        // Vite names assets by their content hash; the page itself must be fetched anew after an upgrade.
        res.setHeader('cache-control', path.endsWith('.html') ? 'no-cache' : 'public, max-age=31536000, immutable');
      },
    }),
  );
  return router;
}
