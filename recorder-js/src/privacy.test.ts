// Unit tests of privacy.ts: the options given to rrweb, and the pass over events (the page's
// elements described by plain rules; the browser test privacy.test.mjs runs both on a real page).

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MASKED_CHOICE, MaskedValues, PrivacyPolicy, scrub, type ScrubRules } from './privacy';

const options = new Set([11, 12]);
const rules: ScrubRules = {
  isMaskedOption: (id) => options.has(id),
  valueAttribute: (id, v) => (id === 20 ? '*'.repeat(v.length) : v),
};

const el = (id: number, tagName: string, attributes: Record<string, unknown>, childNodes: unknown[] = []) =>
  ({ id, type: 2, tagName, attributes, childNodes });

describe('PrivacyPolicy.recordOptions', () => {
  it('masks every input, hidden ones and passwords by default, and leaves rrweb none to ignore', () => {
    const o = new PrivacyPolicy().recordOptions();
    assert.equal(o.maskAllInputs, false, 'rrweb would drop maskInputOptions');
    const m = o.maskInputOptions as Record<string, boolean>;
    for (const t of ['text', 'email', 'textarea', 'select', 'password', 'hidden']) assert.equal(m[t], true, t);
  });

  it('keeps hidden inputs and passwords masked when the site unmasks the rest', () => {
    const m = new PrivacyPolicy({ maskAllInputs: false, maskInputOptions: { password: false } }).recordOptions().maskInputOptions as Record<string, boolean>;
    assert.deepEqual(m, { password: true, hidden: true });
  });

  it('masks the marked areas, contenteditable text and masked selects, plus the site\'s selector', () => {
    const sel = new PrivacyPolicy({ maskTextSelector: '.pii' }).recordOptions().maskTextSelector ?? '';
    for (const s of ['.streamdom-mask', '[data-streamdom-mask]', '[contenteditable]:not([contenteditable="false"])', 'select:not(.streamdom-unmask)', '.pii']) {
      assert.ok(sel.includes(s), `${s} in ${sel}`);
    }
    assert.ok(!sel.split(',').includes('*'));
  });

  it('masks every text with maskAllText', () => {
    assert.ok((new PrivacyPolicy({ maskAllText: true }).recordOptions().maskTextSelector ?? '').split(',').includes('*'));
  });

  it('adds the site\'s block selector to the built-in ones', () => {
    assert.equal(new PrivacyPolicy({ blockSelector: '.ad' }).recordOptions().blockSelector, '.streamdom-block,[data-streamdom-block],.ad');
  });

  it('shows a masked choice as a fixed mark, and an empty one as empty', () => {
    const p = new PrivacyPolicy();
    assert.equal(p.maskInput('diagnosis', null), '*********');
    assert.equal(p.recordOptions().maskTextFn?.('Jane Doe', null), '**** ***');
    assert.equal(MASKED_CHOICE, '•••');
  });
});

describe('scrub', () => {
  it('hides the options of a masked select in a full snapshot: values, labels, selected', () => {
    const e = {
      type: 2,
      data: {
        node: el(1, 'select', {}, [
          el(11, 'option', { value: 'hiv', selected: true, label: 'HIV' }),
          el(12, 'option', { value: '' }),
          el(13, 'option', { value: 'kept' }),
        ]),
      },
    };
    scrub(e, rules);
    const [a, b, c] = e.data.node.childNodes as ReturnType<typeof el>[];
    assert.deepEqual(a.attributes, { value: MASKED_CHOICE, label: MASKED_CHOICE });
    assert.deepEqual(b.attributes, { value: '' });
    assert.deepEqual(c.attributes, { value: 'kept' });
  });

  it('masks value attributes of masked inputs in added nodes and attribute changes', () => {
    const e = {
      type: 3,
      data: {
        source: 0,
        adds: [{ parentId: 1, node: el(20, 'input', { value: 'token', type: 'hidden' }) }],
        attributes: [{ id: 20, attributes: { value: 'newtoken' } }, { id: 21, attributes: { value: 'public' } }, { id: 11, attributes: { selected: '' } }],
      },
    };
    scrub(e, rules);
    assert.equal(e.data.adds[0].node.attributes.value, '*****');
    assert.deepEqual(e.data.attributes.map((a) => a.attributes), [{ value: '********' }, { value: 'public' }, {}]);
  });

  it('marks blocked elements with rrweb\'s block class for the replay', () => {
    const e = { type: 2, data: { node: el(1, 'div', { class: 'box streamdom-block', rr_width: '10px', rr_height: '5px' }) } };
    scrub(e, rules);
    assert.equal(e.data.node.attributes.class, 'box streamdom-block rr-block');
  });

  it('leaves other events alone', () => {
    const e = { type: 3, data: { source: 5, id: 20, text: 'typed' } };
    assert.deepEqual(scrub(structuredClone(e), rules), e);
  });
});

describe('MaskedValues', () => {
  const input = (type: string, value: string, unmasked = false) =>
    ({ nodeName: 'INPUT', tagName: 'INPUT', type, value, matches: () => unmasked });
  const page = (inputs: ReturnType<typeof input>[]) =>
    Object.assign(new EventTarget(), { querySelectorAll: () => inputs }) as unknown as Document;

  it('lists the values the policy masks, not those the site unmasked, nor checkboxes', () => {
    const doc = page([input('text', 'typed secret'), input('password', 'pw-1'), input('text', 'public', true), input('checkbox', 'on'), input('text', '')]);
    assert.deepEqual(new MaskedValues(new PrivacyPolicy(), doc).get(), ['typed secret', 'pw-1']);
    assert.deepEqual(new MaskedValues(new PrivacyPolicy({ maskAllInputs: false }), doc).get(), ['pw-1']);
  });

  it('looks again as soon as the visitor types, not on every call', () => {
    const field = input('text', 'first');
    const doc = page([field]);
    const values = new MaskedValues(new PrivacyPolicy(), doc);
    assert.deepEqual(values.get(), ['first']);
    field.value = 'second';
    assert.deepEqual(values.get(), ['first'], 'kept while nothing was typed');
    doc.dispatchEvent(new Event('input'));
    assert.deepEqual(values.get(), ['second']);
    values.stop();
    field.value = 'third';
    doc.dispatchEvent(new Event('input'));
    assert.deepEqual(values.get(), ['second'], 'no longer listening');
  });
});
