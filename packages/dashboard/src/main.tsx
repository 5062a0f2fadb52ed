// The dashboard: hash routes (so the server serves one page), sign-in by API key into a session cookie.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, type Who } from './api.js';
import { Installations } from './pages/installations.js';
import { Overview, prefetchOverview } from './pages/overview.js';
import { PluginPage, Plugins } from './pages/plugins.js';
import { Points } from './pages/points.js';
import { ReplayPage, Replays } from './pages/replays.js';
import { Runs } from './pages/runs.js';
import { Loading, Problem } from './ui.js';

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const update = () => setHash(location.hash);
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return hash.replace(/^#/, '') || '/';
}

function SignIn({ onSignedIn }: { onSignedIn: (who: Who) => void }) {
  const [key, setKey] = useState('');
  const [error, setError] = useState<Error>();
  return (
    <main id="main" class="signin">
      <h1>Tenon</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          api<Who>('POST', 'v1/session', { key }).then(onSignedIn, setError);
        }}
      >
        <label>
          API key (operator or partner)
          <input
            type="password"
            name="key"
            autoComplete="current-password"
            value={key}
            onInput={(e) => setKey((e.target as HTMLInputElement).value)}
            required
          />
        </label>
        <button type="submit">Sign in</button>
        {error && <Problem error={error} />}
      </form>
    </main>
  );
}

const NAV = [
  { href: '#/', label: 'Overview', operatorOnly: false },
  { href: '#/points', label: 'Extension points', operatorOnly: false },
  { href: '#/plugins', label: 'Plug-ins', operatorOnly: false },
  { href: '#/installations', label: 'Installations', operatorOnly: true },
  { href: '#/runs', label: 'Runs', operatorOnly: false },
  { href: '#/replays', label: 'Replays', operatorOnly: false },
];

// Asked as the script starts, before the first render: the first page's data waits on it.
const session = api<Who>('GET', 'v1/session');
if ((location.hash.replace(/^#/, '') || '/') === '/') prefetchOverview();

function App() {
  const [who, setWho] = useState<Who | null>();
  const route = useHash();
  useEffect(() => {
    // Not signed in, or the server unreachable: the sign-in form either way (it says why on submit).
    session.then(setWho, () => setWho(null));
  }, []);
  if (who === undefined) return <Loading />;
  if (who === null) return <SignIn onSignedIn={setWho} />;
  const signOut = () => api('DELETE', 'v1/session').then(() => setWho(null), alert);
  const [path = '/', search = ''] = route.split('?');
  const params = new URLSearchParams(search);
  const plugin = /^\/plugins\/(.+)$/.exec(path)?.[1];
  const replay = /^\/replays\/(.+)$/.exec(path)?.[1];
  return (
    <>
      <header>
        <strong>Tenon</strong>
        <nav aria-label="main">
          {NAV.filter((n) => !n.operatorOnly || who.kind === 'operator').map((n) => (
            <a key={n.href} href={n.href} aria-current={`#${path}` === n.href ? 'page' : undefined}>
              {n.label}
            </a>
          ))}
        </nav>
        <span data-testid="who">{who.kind === 'operator' ? 'operator' : `partner ${who.name}`}</span>
        <button type="button" onClick={signOut}>
          Sign out
        </button>
      </header>
      <main id="main" tabIndex={-1}>
        {path === '/' && <Overview />}
        {path === '/points' && <Points who={who} />}
        {path === '/plugins' && <Plugins />}
        {plugin !== undefined && <PluginPage id={decodeURIComponent(plugin)} />}
        {path === '/installations' && <Installations />}
        {path === '/runs' && <Runs who={who} />}
        {path === '/replays' && <Replays version={params.get('version') ?? undefined} />}
        {replay !== undefined && <ReplayPage id={decodeURIComponent(replay)} />}
      </main>
    </>
  );
}

const root = document.getElementById('app');
if (root !== null) render(<App />, root);
