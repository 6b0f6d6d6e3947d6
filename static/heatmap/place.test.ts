// Unit tests of heatmap/place.ts: points go on their element when it is found, on page coordinates otherwise.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { HeatPoint } from '@streamdom/recorder/protocol';
import { bucketOf, heatmapHref, place } from './place';

const byElement = (selector: string, ox: number, oy: number): HeatPoint => ({ selector, ox, oy, x: 5, y: 6, count: 2 });

describe('place', () => {
  it('puts a point at its offset within the element found', () => {
    const got = place([byElement('main#shop>button', 0.5, 0.25)], () => ({ left: 100, top: 200, width: 80, height: 40 }));
    assert.deepEqual(got, [{ x: 140, y: 210, count: 2, by: 'element' }]);
  });

  it('falls back to page coordinates when the element is not in the snapshot', () => {
    const got = place([byElement('gone', 0.5, 0.5), { selector: null, ox: null, oy: null, x: 30, y: 40, count: 1 }], () => null);
    assert.deepEqual(got, [{ x: 5, y: 6, count: 2, by: 'page' }, { x: 30, y: 40, count: 1, by: 'page' }]);
  });

  it('looks each selector up once', () => {
    let finds = 0;
    place([byElement('a', 0, 0), byElement('a', 1, 1)], () => { finds++; return null; });
    assert.equal(finds, 1);
  });
});

describe('heatmapHref', () => {
  it('keeps the path only and picks the bucket by width', () => {
    assert.equal(heatmapHref('https://shop.example/product/1?x=1#y', 400), '/heatmaps?url=%2Fproduct%2F1&bucket=mobile');
    assert.equal(heatmapHref('https://shop.example/', 1280), '/heatmaps?url=%2F&bucket=desktop');
    assert.equal(bucketOf(800), 'tablet');
  });
});
