// Secrets kept out of what StreamDOM reports beside the DOM: URL parameters, body fields and
// headers with secret-looking names, and the values of masked inputs wherever they show up.

/** Names (case-insensitive, matched anywhere in the name) whose values are masked; `init({ maskParams })` replaces the list. */
export const DEFAULT_MASK_PARAMS = ['pass', 'pwd', 'token', 'secret', 'auth', 'key', 'session', 'sig', 'credential'];
/** Never recorded, even from URLs whose headers are allowed. */
const SECRET_HEADERS = ['authorization', 'proxy-authorization', 'cookie', 'set-cookie'];
export const MASKED = '***';
// Masked input values shorter than this would blank out common words of the text they are looked for in.
const MIN_SECRET_LENGTH = 3;
const JSON_MAX_DEPTH = 20;

const decode = (s: string): string => {
  try { return decodeURIComponent(s.replace(/\+/g, ' ')); } catch { return s; }
};

export class Redactor {
  private names: string[];

  /** `secrets()`: the values of the page's masked inputs right now (see privacy.ts). */
  constructor(names: string[] = DEFAULT_MASK_PARAMS, private secrets: () => string[] = () => []) {
    this.names = names.map((n) => n.toLowerCase()).filter(Boolean);
  }

  isSecretName(name: string): boolean {
    const n = name.toLowerCase();
    return this.names.some((s) => n.includes(s));
  }

  /** `k=v` pairs after `?`, `&`, `;` or `#` (query and fragment, e.g. `#access_token=`) with secret names get `***`. */
  private pairs(text: string): string {
    return text.replace(/([?&;#])([^=&;#?]+)=([^&;#]*)/g, (m, sep: string, k: string, v: string) =>
      v && this.isSecretName(decode(k)) ? `${sep}${k}=${MASKED}` : m);
  }

  /** A URL as it may be recorded: no user:password, secret parameters masked, masked input values out. */
  url(u: string): string {
    let s = u;
    if (/^[a-z][a-z0-9+.-]*:\/\/[^/?#]*@/i.test(s)) s = s.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, '$1');
    return this.values(this.pairs(s));
  }

  /** A request or response body: JSON fields and form fields with secret names masked, masked input values out. */
  body(text: string): string {
    const t = text.trim();
    if (t.startsWith('{') || t.startsWith('[')) {
      try {
        return this.values(JSON.stringify(this.json(JSON.parse(t), 0)));
      } catch { /* not JSON after all */ }
    }
    // application/x-www-form-urlencoded: a=1&b=2 (no spaces or line breaks)
    if (/^[^\s=&]+=[^\s]*$/.test(t)) return this.values(this.pairs(`&${t}`).slice(1));
    return this.values(text);
  }

  private json(v: unknown, depth: number): unknown {
    if (v === null || typeof v !== 'object' || depth > JSON_MAX_DEPTH) return v;
    if (Array.isArray(v)) return v.map((x) => this.json(x, depth + 1));
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) out[k] = this.isSecretName(k) && x !== null && typeof x !== 'object' ? MASKED : this.json(x, depth + 1);
    return out;
  }

  /** Headers as they may be recorded: never cookies or credentials, secret-named ones left out too. */
  headers(entries: Iterable<[string, string]>): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [name, value] of entries) {
      const n = name.toLowerCase();
      if (SECRET_HEADERS.includes(n) || this.isSecretName(n)) continue;
      out[n] = this.values(value);
    }
    return out;
  }

  /** Text with every masked input value of the page (at least MIN_SECRET_LENGTH long) replaced by asterisks. */
  values(text: string): string {
    let found: string[];
    try { found = this.secrets(); } catch { return text; }
    for (const v of found) {
      if (v.length < MIN_SECRET_LENGTH) continue;
      for (const form of new Set([v, encodeURIComponent(v), JSON.stringify(v).slice(1, -1)])) {
        if (text.includes(form)) text = text.split(form).join('*'.repeat(v.length));
      }
    }
    return text;
  }
}
