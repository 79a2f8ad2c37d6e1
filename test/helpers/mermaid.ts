// mermaid's own parser, in jsdom (it needs a DOM even to parse), for tests that check the diagrams people will see.
import type { Mermaid } from 'mermaid';

let loaded: Promise<Mermaid> | undefined;

export function loadMermaid(): Promise<Mermaid> {
  loaded ??= (async () => {
    const { JSDOM } = await import('jsdom');
    const dom = new JSDOM('<!doctype html><html><body></body></html>');
    const g = globalThis as Record<string, unknown>;
    g.window = dom.window;
    g.document = dom.window.document;
    g.DOMParser = dom.window.DOMParser;
    const mermaid = (await import('mermaid')).default;
    mermaid.initialize({ startOnLoad: false });
    return mermaid;
  })();
  return loaded;
}

/** Every ```mermaid block of a Markdown text. */
export function mermaidBlocks(markdown: string): string[] {
  return [...markdown.matchAll(/^```mermaid\n([\s\S]*?)\n```$/gm)].map((m) => m[1]);
}
