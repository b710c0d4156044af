import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApprovalsPage } from './pages/approvals';
import { AuditPage } from './pages/audit';
import { HealthPage } from './pages/health';
import { KeyPage } from './pages/key';
import { KeysPage } from './pages/keys';
import { VaultsPage } from './pages/vaults';
import { api } from './api';
import { EmergencyBanner } from './emergency';
import { loadPolicy } from './impact';
import { currentSession, finishSignIn, loadSettings, signOut, startSignIn, type ConsoleSettings, type Session } from './sign-in';
import { ErrorText, describe, useLoad } from './ui';
import type { EmergencyBlockView } from './vocabulary';

const ADMIN_ROLE = 'DKE.Admin';

type Route = { page: 'keys' } | { page: 'key'; name: string } | { page: 'approvals' } | { page: 'audit' } | { page: 'vaults' } | { page: 'health' };

function routeOf(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/');
  if (parts[0] === 'keys' && parts[1]) return { page: 'key', name: decodeURIComponent(parts[1]) };
  if (parts[0] === 'approvals' || parts[0] === 'audit' || parts[0] === 'vaults' || parts[0] === 'health') return { page: parts[0] };
  return { page: 'keys' };
}

function useRoute(): Route {
  const [route, setRoute] = useState(routeOf(location.hash));
  useEffect(() => {
    const onChange = (): void => setRoute(routeOf(location.hash));
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

const NAV = [
  { page: 'keys', href: '#/keys', label: 'Keys' },
  { page: 'approvals', href: '#/approvals', label: 'Approvals' },
  { page: 'audit', href: '#/audit', label: 'Audit' },
  { page: 'vaults', href: '#/vaults', label: 'Vaults' },
  { page: 'health', href: '#/health', label: 'Health' },
] as const;

function App() {
  const [settings, setSettings] = useState<ConsoleSettings>();
  const [session, setSession] = useState<Session | undefined>(currentSession());
  const [error, setError] = useState<string>();
  const [starting, setStarting] = useState(true);
  const route = useRoute();

  useEffect(() => {
    loadSettings()
      .then(async (loaded) => {
        setSettings(loaded);
        setSession(await finishSignIn(loaded));
      })
      .catch((e: unknown) => setError(describe(e)))
      .finally(() => setStarting(false));
  }, []);

  if (session === undefined) {
    return (
      <main class="sign-in">
        <h1>dke-service console</h1>
        <p>Keys, label URLs, approvals, decrypt activity and the audit trail of this Double Key Encryption service.</p>
        <ErrorText text={error} />
        {settings?.clientId === null && <p class="error">Sign-in is not configured: set DKE_ADMIN_CLIENT_ID on the service.</p>}
        <button type="button" disabled={starting || settings === undefined || settings.clientId === null} onClick={() => settings && startSignIn(settings).catch((e: unknown) => setError(describe(e)))}>
          Sign in with Microsoft Entra ID
        </button>
      </main>
    );
  }

  return <SignedIn session={session} labelBase={settings?.labelBaseUrl ?? ''} route={route} onSignOut={() => setSession(undefined)} />;
}

/**
 * The pages of a signed-in user, under the emergency block's banner: the switch is read again on every change of
 * page and after every change of it, so no page shows keys as serving while it is on.
 */
function SignedIn({ session, labelBase, route, onSignOut }: { session: Session; labelBase: string; route: Route; onSignOut: () => void }) {
  const canChange = session.roles.includes(ADMIN_ROLE);
  const block = useLoad(() => api<EmergencyBlockView>('GET', '/emergency-block').then((r) => r.body), [route]);
  const policy = useLoad(loadPolicy, []);
  const current = route.page === 'key' ? 'keys' : route.page;
  const blockProps = { block: block.data, canChange, policy: policy.data, onChanged: block.reload };
  return (
    <>
      <header>
        <span class="brand">dke-service</span>
        <nav aria-label="Console">
          <ul>
            {NAV.map((item) => (
              <li key={item.page}>
                <a href={item.href} aria-current={current === item.page ? 'page' : undefined}>
                  {item.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who">
          {session.name} <span class="roles">({session.roles.join(', ') || 'no app role'})</span>
        </span>
        <button
          type="button"
          onClick={() => {
            signOut();
            onSignOut();
          }}
        >
          Sign out
        </button>
      </header>
      <main>
        <EmergencyBanner {...blockProps} />
        {route.page === 'keys' && <KeysPage labelBase={labelBase} canChange={canChange} policy={policy.data} block={block.data} onBlockChanged={block.reload} />}
        {route.page === 'key' && <KeyPage name={route.name} labelBase={labelBase} canChange={canChange} policy={policy.data} block={block.data} />}
        {route.page === 'approvals' && <ApprovalsPage canChange={canChange} policy={policy.data} onBlockChanged={block.reload} />}
        {route.page === 'audit' && <AuditPage />}
        {route.page === 'vaults' && <VaultsPage />}
        {route.page === 'health' && <HealthPage />}
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
