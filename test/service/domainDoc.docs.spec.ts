/**
 * The project's own documents say what its code does: docs/domain.md's settings and endpoint
 * tables are the domain's defaults, ranges and capabilities, and every file the README or a doc
 * links to is in the repository (a link out of a clone is dead).
 */
import { existsSync } from 'node:fs';
import { readFile, readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultCapabilities, endpoints } from '../../domain/endpoint.js';
import { defaultSettings, settingRanges } from '../../domain/parkPolicy.js';
import { repositoryRoot } from '../support/serviceProcess.js';

const root = repositoryRoot();
const domainDoc = (): Promise<string> => readFile(join(root, 'docs', 'domain.md'), 'utf8');

/** The rows of the first table after a heading, as cells. */
const tableAfter = (markdown: string, heading: string): string[][] => {
  const section = markdown.slice(markdown.indexOf(`## ${heading}\n`));
  const lines = section.split('\n');
  const first = lines.findIndex((line) => line.startsWith('|'));
  const rows: string[][] = [];
  for (const line of lines.slice(first + 2)) {
    if (!line.startsWith('|')) break;
    rows.push(line.slice(1, -1).split('|').map((cell) => cell.trim()));
  }
  return rows;
};

const codes = (cell: string): string[] => [...cell.matchAll(/`([^`]*)`/g)].map((match) => match[1]!);

describe('docs/domain.md', () => {
  it('lists every policy setting with the default and range the code has', async () => {
    const rows = tableAfter(await domainDoc(), 'Park policy settings');
    const documented = new Map(rows.map(([setting, fallback, range]) => [codes(setting!)[0]!, { fallback: fallback!, range: range! }]));
    expect([...documented.keys()].sort()).toEqual(Object.keys(defaultSettings).sort());
    for (const [setting, value] of Object.entries(defaultSettings)) {
      const row = documented.get(setting)!;
      expect(codes(row.fallback)[0], setting).toBe(typeof value === 'string' && value === '' ? "''" : String(value));
      const range = settingRanges[setting as keyof typeof settingRanges] as { min: number; max: number } | undefined;
      if (range) expect(row.range, setting).toBe(`${range.min}..${range.max}`);
    }
  });

  it('gives every endpoint the capabilities the code defaults to', async () => {
    const rows = tableAfter(await domainDoc(), 'Who can do what');
    const documented = new Map<string, { park: boolean; retrieve: boolean; ringBack: boolean }>();
    for (const [names, park, retrieve, ringBack] of rows) {
      for (const endpoint of codes(names!)) documented.set(endpoint, { park: park === 'yes', retrieve: retrieve === 'yes', ringBack: ringBack === 'yes' });
    }
    expect([...documented.keys()].sort()).toEqual([...endpoints].sort());
    for (const endpoint of endpoints) expect(documented.get(endpoint), endpoint).toEqual(defaultCapabilities[endpoint]);
  });
});

describe('links in the documents', () => {
  it('point at files in the repository', async () => {
    const documents = ['README.md', ...(await readdir(join(root, 'docs'), { recursive: true })).filter((name) => name.endsWith('.md')).map((name) => join('docs', name))];
    const dead: string[] = [];
    for (const document of documents) {
      const text = await readFile(join(root, document), 'utf8');
      const targets = [...text.matchAll(/\]\(([^)#\s]+)[^)]*\)/g), ...text.matchAll(/`((?:\.\.?\/|docs\/)[^`\s]+\.md)`/g)].map((match) => match[1]!);
      for (const target of targets.filter((link) => !/^[a-z]+:/.test(link))) {
        const base = target.startsWith('docs/') ? root : dirname(join(root, document));
        if (!existsSync(join(base, target)) || !join(base, target).startsWith(root)) dead.push(`${document} → ${target}`);
      }
    }
    expect(dead).toEqual([]);
  });
});
