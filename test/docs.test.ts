import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { renderGeneratedDocs } from '../server/generate-docs.js';

describe('generated documentation', () => {
  it.each(Object.entries(renderGeneratedDocs()))('keeps %s equal to what the code generates (run `npm run docs`)', async (file, expected) => {
    expect(await readFile(new URL(`../${file}`, import.meta.url), 'utf8')).toBe(expected);
  });
});
