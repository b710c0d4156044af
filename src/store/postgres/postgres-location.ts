/** Where a `postgres://` URL points, in the words a sentence uses: never the password. */
export interface DatabaseLocation {
  readonly host: string;
  readonly port: number;
  readonly database: string;
  readonly user: string;
  /** `the database "dke" on db.example:5432` */
  readonly sentence: string;
}

/** Reads host, port, database and user from a URL (and libpq's defaults for what it leaves out). */
export function databaseLocation(url: string): DatabaseLocation {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { host: 'unknown', port: 5432, database: 'unknown', user: 'unknown', sentence: 'the database of DKE_DATABASE_URL (not a valid URL)' };
  }
  const user = decodeURIComponent(parsed.username) || 'postgres';
  const host = parsed.searchParams.get('host') ?? (decodeURIComponent(parsed.hostname) || 'localhost');
  const port = Number(parsed.port || 5432);
  const database = decodeURIComponent(parsed.pathname.replace(/^\//, '')) || user;
  return { host, port, database, user, sentence: `the database "${database}" on ${host}:${port}` };
}

/** A driver's error in words, with any password of the URL taken out (drivers may echo the connection string). */
export function describeDatabaseError(error: unknown, url: string): string {
  const code = typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : undefined;
  let text = error instanceof Error ? error.message || code || error.name : String(error);
  if (error instanceof AggregateError && error.errors.length > 0 && text === '') text = describeDatabaseError(error.errors[0], url);
  let password = '';
  try {
    password = decodeURIComponent(new URL(url).password);
  } catch {
    // not a URL: nothing to take out
  }
  if (password !== '') text = text.split(password).join('***');
  return code !== undefined && !text.includes(code) ? `${text} (${code})` : text;
}
