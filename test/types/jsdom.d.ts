// The part of jsdom the Mermaid test uses (jsdom ships no types; @types/jsdom would be one more package for one line).
declare module 'jsdom' {
  export class JSDOM {
    constructor(html?: string);
    readonly window: Window & typeof globalThis;
  }
}
