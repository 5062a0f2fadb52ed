/**
 * `allowed_hosts` as Extism reads it: each entry is a glob on the request's host name, where `*`
 * matches any run of characters (dots included, so `*.example.com` also covers `a.b.example.com`),
 * `?` one character and `[a-z]`/`[!0-9]` a character class. Host names compare case-insensitively.
 */
export type HostMatcher = (host: string) => boolean;

export function hostMatcher(patterns: readonly string[]): HostMatcher {
  if (patterns.length === 0) return () => false;
  const expressions = patterns.map(globToRegExp);
  return (host) => {
    const name = host.toLowerCase();
    return expressions.some((expression) => expression.test(name));
  };
}

function globToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '[') {
      const close = pattern.indexOf(']', i + 2);
      if (close === -1) source += '\\[';
      else {
        let body = pattern.slice(i + 1, close);
        const negated = body.startsWith('!');
        if (negated) body = body.slice(1);
        source += `[${negated ? '^' : ''}${body.replace(/[\\^\]]/g, '\\$&')}]`;
        i = close;
      }
    } else source += c.replace(/[.+^${}()|\\/]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'i');
}
