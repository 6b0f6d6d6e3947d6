// What never leaves the visitor's page: rrweb's masking and blocking options built from StreamDOM's
// defaults and the site's choices, and a pass over each event for the few places rrweb leaves in clear.

import type { record } from '@rrweb/record';
import type { PrivacyChoices } from './index';

type RecordOptions = NonNullable<Parameters<typeof record>[0]>;
type MaskInputOptions = NonNullable<RecordOptions['maskInputOptions']>;

/** What a masked `<select>` and each of its options show in a replay: that there is a choice, not which. */
export const MASKED_CHOICE = '•••';
/** Replaced by an empty box of the same size (rrweb's `rr-block` class works too). */
export const BLOCK = '.streamdom-block,[data-streamdom-block]';
/** Text replaced by asterisks (rrweb's `rr-mask` class works too). */
export const MASK = '.streamdom-mask,[data-streamdom-mask]';
/** On an input (not a password), a select or a textarea the site declares safe: its value is recorded. */
export const UNMASK = '.streamdom-unmask,[data-streamdom-unmask]';
/** Whatever a visitor types into the page itself. */
const EDITABLE = '[contenteditable]:not([contenteditable="false"])';

/** Every input type rrweb knows how to mask, plus hidden inputs (often tokens), which it does not. */
const ALL_INPUTS = {
  color: true, date: true, 'datetime-local': true, email: true, month: true, number: true, range: true,
  search: true, tel: true, text: true, time: true, url: true, week: true, textarea: true, select: true,
  password: true,
} satisfies MaskInputOptions;
// rrweb looks options up by tag name and by type; its type does not list `hidden`.
const ALWAYS = { password: true, hidden: true } as MaskInputOptions;


const anyOf = (...selectors: (string | false | undefined)[]) => selectors.filter(Boolean).join(',') || undefined;

/** The rules both rrweb (through its options) and the event pass apply. */
export class PrivacyPolicy {
  readonly maskInputOptions: MaskInputOptions;
  readonly maskedSelect: string | undefined;

  constructor(readonly choices: PrivacyChoices = {}) {
    this.maskInputOptions = { ...((choices.maskAllInputs ?? true) ? ALL_INPUTS : {}), ...choices.maskInputOptions, ...ALWAYS };
    // A select is masked like rrweb decides, unless the site declares it safe.
    this.maskedSelect = this.maskInputOptions.select ? 'select:not(.streamdom-unmask):not([data-streamdom-unmask])' : undefined;
  }

  /** Options for rrweb's record(). */
  recordOptions(): Partial<RecordOptions> {
    const c = this.choices;
    return {
      // rrweb ignores maskInputOptions when maskAllInputs is true; the full list is spelled out instead.
      maskAllInputs: false,
      maskInputOptions: this.maskInputOptions,
      maskInputFn: (text, el) => this.maskInput(text, el),
      maskTextSelector: anyOf(c.maskAllText && '*', MASK, EDITABLE, this.maskedSelect, c.maskTextSelector),
      maskTextFn: (text, el) => maskText(text, el),
      blockSelector: anyOf(BLOCK, c.blockSelector),
      ignoreSelector: c.ignoreSelector,
    };
  }

  /** Called by rrweb for the values of inputs whose tag or type is masked. */
  maskInput(text: string, el: HTMLElement | null): string {
    if (el && el.matches(UNMASK) && (el as HTMLInputElement).type !== 'password' && (el as HTMLInputElement).type !== 'hidden') return text;
    if (el?.tagName === 'SELECT') return text ? MASKED_CHOICE : '';
    return '*'.repeat(text.length);
  }

  /** For an element of the page: is it an option of a masked select? */
  isMaskedOption(node: Node | null): boolean {
    return !!this.maskedSelect && node?.nodeName === 'OPTION' && !!(node as Element).closest(this.maskedSelect);
  }

  /** The `value` attribute of an element of the page as it may be recorded. */
  valueAttribute(node: Node | null, value: string): string {
    // By name, not instanceof: elements of recorded same-origin iframes come from another window.
    if (!node || !['INPUT', 'TEXTAREA', 'SELECT'].includes(node.nodeName)) return value;
    const el = node as HTMLInputElement;
    const o = this.maskInputOptions as Record<string, boolean | undefined>;
    if (!o[el.nodeName.toLowerCase()] && !o[String(el.type).toLowerCase()]) return value;
    return this.maskInput(value, el);
  }

  /** The pass's rules for a page whose nodes `node` finds by id. */
  rules(node: (id: number) => Node | null): ScrubRules {
    return {
      isMaskedOption: (id) => this.isMaskedOption(node(id)),
      valueAttribute: (id, value) => this.valueAttribute(node(id), value),
    };
  }
}

function maskText(text: string, el: HTMLElement | null): string {
  return el?.closest('select') ? MASKED_CHOICE : text.replace(/\S/g, '*');
}

// ---- the pass over events ----

/** How the pass learns about the page's elements (the recorder asks the live page through rrweb's mirror). */
export interface ScrubRules {
  isMaskedOption(id: number): boolean;
  valueAttribute(id: number, value: string): string;
  /** The page's URL as a Meta event may carry it (secret parameters masked; see redact.ts). */
  url?(href: string): string;
}

type Attributes = Record<string, unknown>;
interface SerializedNode { id: number; type: number; tagName?: string; attributes?: Attributes; childNodes?: SerializedNode[] }
interface Event { type: number; data?: unknown }
// rrweb's EventType.FullSnapshot, EventType.IncrementalSnapshot, EventType.Meta and IncrementalSource.Mutation.
const FULL_SNAPSHOT = 2;
const META = 4;
const INCREMENTAL = 3;
const MUTATION = 0;
const ELEMENT = 2;
const RR_BLOCK = 'rr-block';

/**
 * What rrweb leaves in clear: the values, labels and `selected` of a masked select's options
 * (which would tell the choice), and an input's `value` attribute when its live value is empty
 * (a value the server filled in, then cleared), and secret parameters of the page's URL in Meta
 * events. Also marks blocked elements for the replay.
 * Changes the event in place and returns it.
 */
export function scrub<E extends Event>(e: E, rules: ScrubRules): E {
  if (e.type === META) {
    const d = e.data as { href?: unknown };
    if (rules.url && typeof d.href === 'string') d.href = rules.url(d.href);
  } else if (e.type === FULL_SNAPSHOT) {
    walk((e.data as { node: SerializedNode }).node, rules);
  } else if (e.type === INCREMENTAL && (e.data as { source: number }).source === MUTATION) {
    const d = e.data as { adds?: { node: SerializedNode }[]; attributes?: { id: number; attributes: Attributes }[] };
    for (const add of d.adds ?? []) walk(add.node, rules);
    for (const a of d.attributes ?? []) scrubAttributes(a.id, a.attributes, rules);
  }
  return e;
}

function walk(node: SerializedNode, rules: ScrubRules): void {
  if (node.type === ELEMENT && node.attributes) {
    scrubAttributes(node.id, node.attributes, rules, node.tagName);
    markBlocked(node.attributes);
  }
  for (const child of node.childNodes ?? []) walk(child, rules);
}

/**
 * rrweb records a blocked element as its tag, classes and size (`rr_width`) only, whatever selected
 * it; the replay knows it by rrweb's own block class and draws it as a box of exactly that size.
 */
function markBlocked(attrs: Attributes): void {
  if (typeof attrs.rr_width !== 'string') return;
  const classes = typeof attrs.class === 'string' ? attrs.class.split(/\s+/).filter(Boolean) : [];
  if (!classes.includes(RR_BLOCK)) attrs.class = [...classes, RR_BLOCK].join(' ');
}

/** `tagName` when known spares asking the page about every element of a snapshot. */
function scrubAttributes(id: number, attrs: Attributes, rules: ScrubRules, tagName?: string): void {
  if ((tagName === undefined || tagName === 'option') && rules.isMaskedOption(id)) {
    for (const name of ['value', 'label']) if (typeof attrs[name] === 'string' && attrs[name]) attrs[name] = MASKED_CHOICE;
    if ('selected' in attrs) delete attrs.selected;
  } else if (typeof attrs.value === 'string') {
    attrs.value = rules.valueAttribute(id, attrs.value);
  }
}

/** The current values of the page's inputs that `policy` masks: they must not leak through console or network text either. */
export function maskedValues(policy: PrivacyPolicy, root: ParentNode = document): string[] {
  const out: string[] = [];
  root.querySelectorAll('input,textarea').forEach((el) => {
    const v = (el as HTMLInputElement).value;
    if (v && policy.valueAttribute(el, v) !== v) out.push(v);
  });
  return out;
}

/** How long the list may be reused while nothing is typed (values scripts set fire no event). */
const MASKED_VALUES_TTL_MS = 1000;

/**
 * maskedValues, looked up again only after the visitor typed or a second went by: a page making
 * many requests or logs would otherwise scan all its inputs for each. Typing clears the list in
 * the capture phase, before the page's own handlers can log or send the new value.
 */
export class MaskedValues {
  private values: string[] | null = null;
  private at = 0;
  private clear = (): void => { this.values = null; };

  constructor(private policy: PrivacyPolicy, private doc: Document = document) {
    for (const type of ['input', 'change']) doc.addEventListener(type, this.clear, { capture: true });
  }

  get = (): string[] => {
    const now = Date.now();
    if (!this.values || now - this.at > MASKED_VALUES_TTL_MS) {
      this.values = maskedValues(this.policy, this.doc);
      this.at = now;
    }
    return this.values;
  };

  stop(): void {
    for (const type of ['input', 'change']) this.doc.removeEventListener(type, this.clear, { capture: true });
  }
}
