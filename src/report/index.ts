/**
 * Renderers: pure functions of a finished Report, one signature. The CLI picks one by name.
 */
import type { Report } from '../types.js';
import { renderHtml } from './html.js';
import { renderJson } from './json-stream.js';
import { renderJunit } from './junit.js';
import { renderMarkdown } from './markdown.js';
import { renderText } from './text.js';

export interface RenderOptions {
  color: boolean;
  verbose?: boolean;
}

export type Renderer = (report: Report, opts: RenderOptions) => string;

export const RENDERERS: Record<string, Renderer> = {
  text: renderText,
  // Indented up to JSON_PRETTY_MAX_PROBES probes, compact (one probe per line) above (json-stream.ts).
  json: (report) => renderJson(report),
  markdown: (report) => renderMarkdown(report),
  html: (report) => renderHtml(report),
  junit: (report) => renderJunit(report),
};

/** The format implied by an output file's extension. */
export function formatForFile(path: string): string | undefined {
  const ext = path.toLowerCase().split('.').pop();
  return ({ json: 'json', txt: 'text', md: 'markdown', html: 'html', htm: 'html', xml: 'junit' } as Record<string, string>)[ext ?? ''];
}
