// What an admin pastes and types on the projects page: the recorder snippet of a project, and
// the origins field (one or more origins, separated by spaces, commas or new lines).

/** The two lines that record a page for the project with this ingest key. */
export function snippet(hubOrigin: string, key: string): string {
  return `<script src="${hubOrigin}/streamdom.js?key=${encodeURIComponent(key)}"></script>\n<script>StreamDOM.init()</script>`;
}

export function parseOrigins(text: string): string[] {
  return [...new Set(text.split(/[\s,]+/).map((o) => o.trim()).filter(Boolean))];
}

/** A retention field's value, or null when it is not a whole number of days in range. */
export function parseDays(text: string): number | null {
  const n = Number(text.trim());
  return Number.isInteger(n) && n >= 1 && n <= 36500 ? n : null;
}
