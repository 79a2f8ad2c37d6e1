// Row expressions for the `derive` feature step, written the way arquero writes them (`d => d.a / (d.b + 1)`,
// `d => op.log(d.x)`), but parsed by hand into a small tree and compiled into closures. Nothing the user wrote is
// ever handed to eval or new Function: an ml.yaml comes from a pull request, and the model server runs what it says.
// The grammar is a whitelist — row fields, literals, operators and a fixed set of op.<function> calls — so reaching
// for process, globalThis, constructor or any other function is a parse error, not a runtime check.
import { errorClass } from '../errors.js';
import { BINARY, FORBIDDEN_NAMES, isMissing, OP_FUNCTIONS, OP_HINTS, OP_NAMES, toNumber, truthy } from './expression-ops.js';

/** What an expression reads and returns: numbers (NaN is a missing number), text, booleans, and null (missing text). */
export type Value = number | string | boolean | null;

/** Reads one field of the current row. */
export type RowGetter = (name: string) => Value;

export type Evaluate = (get: RowGetter) => Value;

export class FeatureExpressionError extends errorClass('E_FEATURE_EXPRESSION') {}

export type BinaryOp = '+' | '-' | '*' | '/' | '%' | '**' | '==' | '===' | '!=' | '!==' | '<' | '<=' | '>' | '>=';
type LogicalOp = '&&' | '||' | '??';
type UnaryOp = '-' | '+' | '!';

export type ExpressionNode =
  | { readonly type: 'literal'; readonly value: Value }
  | { readonly type: 'field'; readonly name: string; readonly at: number }
  | { readonly type: 'unary'; readonly op: UnaryOp; readonly arg: ExpressionNode; readonly parenthesized: boolean }
  | { readonly type: 'binary'; readonly op: BinaryOp; readonly left: ExpressionNode; readonly right: ExpressionNode; readonly parenthesized: boolean }
  | { readonly type: 'logical'; readonly op: LogicalOp; readonly left: ExpressionNode; readonly right: ExpressionNode; readonly parenthesized: boolean }
  | { readonly type: 'conditional'; readonly test: ExpressionNode; readonly then: ExpressionNode; readonly otherwise: ExpressionNode }
  | { readonly type: 'call'; readonly fn: string; readonly args: readonly ExpressionNode[] };

export interface ParsedExpression {
  /** The text as written. */
  readonly text: string;
  /** The row parameter's name (`d` in `d => d.a`). */
  readonly param: string;
  readonly ast: ExpressionNode;
  /** The row fields the expression reads, in order of first use: what a fit must find before this step. */
  readonly columns: readonly string[];
}

// ---------------------------------------------------------------------------------------------------------------
// Tokens

type TokenKind = 'number' | 'string' | 'name' | 'punct' | 'end';

interface Token {
  readonly kind: TokenKind;
  readonly text: string;
  /** 0-based offset into the expression. */
  readonly at: number;
  /** The literal's value, for number and string tokens. */
  readonly value?: number | string;
}

// Longest first, so that `===` is not read as `==` then `=`. Assignment operators are tokens too, so that they
// can be refused by name rather than as a puzzling "unexpected =".
const PUNCTUATORS = [
  '>>>=', '===', '!==', '**=', '<<=', '>>=', '>>>', '...', '&&=', '||=', '??=',
  '=>', '==', '!=', '<=', '>=', '&&', '||', '??', '?.', '**', '++', '--', '+=', '-=', '*=', '/=', '%=', '&=', '|=', '^=', '<<', '>>',
  '+', '-', '*', '/', '%', '<', '>', '!', '?', ':', '(', ')', '[', ']', '{', '}', '.', ',', '=', ';', '&', '|', '^', '~', '`', '@', '#',
];

const ASSIGNMENTS: ReadonlySet<string> = new Set(['=', '+=', '-=', '*=', '/=', '%=', '**=', '&&=', '||=', '??=', '&=', '|=', '^=', '<<=', '>>=', '>>>=', '++', '--']);

const NAME_START = /[A-Za-z_$]/;
const NAME_PART = /[\w$]/;
const NUMBER = /(?:0[xX][0-9a-fA-F]+|(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)/y;

class Tokens {
  private readonly list: Token[] = [];
  private index = 0;

  constructor(private readonly source: Source) {
    const text = source.text;
    let i = 0;
    while (i < text.length) {
      const c = text[i];
      if (/\s/.test(c)) {
        i++;
        continue;
      }
      // Sticky, from i: slicing the rest of the text at every number would be quadratic on a long expression.
      NUMBER.lastIndex = i;
      const number = NUMBER.exec(text);
      if (number && (/\d/.test(c) || (c === '.' && /\d/.test(text[i + 1] ?? '')))) {
        if (NAME_PART.test(text[i + number[0].length] ?? '')) source.fail(i, `has a malformed number at column ${i + 1}`, 'write numbers like 3, 0.5 or 1e-3');
        this.list.push({ kind: 'number', text: number[0], at: i, value: Number(number[0]) });
        i += number[0].length;
        continue;
      }
      if (NAME_START.test(c)) {
        let j = i + 1;
        while (j < text.length && NAME_PART.test(text[j])) j++;
        this.list.push({ kind: 'name', text: text.slice(i, j), at: i });
        i = j;
        continue;
      }
      if (c === '"' || c === "'") {
        i = this.readString(i, c);
        continue;
      }
      const punct = PUNCTUATORS.find((p) => text.startsWith(p, i));
      if (punct === undefined) source.fail(i, `has an unexpected character ${JSON.stringify(c)} at column ${i + 1}`, source.allowed());
      this.list.push({ kind: 'punct', text: punct, at: i });
      i += punct.length;
    }
    this.list.push({ kind: 'end', text: '', at: text.length });
  }

  private readString(start: number, quote: string): number {
    const text = this.source.text;
    let value = '';
    let i = start + 1;
    const escapes: Record<string, string> = { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"', '0': '\0' };
    while (i < text.length && text[i] !== quote) {
      if (text[i] === '\\') {
        const e = escapes[text[i + 1] ?? ''];
        if (e === undefined) this.source.fail(i, `has an unsupported escape ${JSON.stringify(text.slice(i, i + 2))} at column ${i + 1}`, 'use \\n, \\t, \\r, \\\\, \\\' or \\"');
        value += e;
        i += 2;
      } else {
        value += text[i++];
      }
    }
    if (i >= text.length) this.source.fail(start, `has a string that is never closed (opened at column ${start + 1})`, `end it with ${quote}`);
    this.list.push({ kind: 'string', text: text.slice(start, i + 1), at: start, value });
    return i + 1;
  }

  peek(offset = 0): Token {
    return this.list[Math.min(this.index + offset, this.list.length - 1)];
  }

  next(): Token {
    const t = this.peek();
    if (this.index < this.list.length - 1) this.index++;
    return t;
  }

  isPunct(text: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t.kind === 'punct' && t.text === text;
  }
}

/** The expression and where it came from, for messages that quote it: `features[2].derive.x: "…" uses "process" …`. */
class Source {
  param = 'd';

  constructor(
    readonly text: string,
    readonly where: string,
  ) {}

  allowed(): string {
    return `a derive expression may read ${this.param}.<column> and call op.<function> only`;
  }

  /** Too deep to be worth quoting: the message names the place and the limit only. */
  tooDeep(at: number): never {
    throw new FeatureExpressionError(`${this.where}: nested too deep (limit ${MAX_DEPTH}); simplify the expression`, {
      where: this.where,
      column: at + 1,
      limit: MAX_DEPTH,
    });
  }

  fail(at: number, problem: string, fix: string): never {
    // A generated expression can be huge; the column points into it, so its head is enough to recognise it.
    const shown = this.text.length > 120 ? `${this.text.slice(0, 119)}…` : this.text;
    throw new FeatureExpressionError(`${this.where}: ${JSON.stringify(shown)} ${problem}; ${fix}`, {
      where: this.where,
      expression: this.text,
      column: at + 1,
    });
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The Pratt parser

const LITERAL_NAMES: Readonly<Record<string, Value>> = { true: true, false: false, null: null, NaN: NaN, Infinity: Infinity };

/** Binding power of each infix operator (JavaScript's order); ** binds right, the rest left. */
const INFIX: Readonly<Record<string, number>> = {
  '??': 3, '||': 3, '&&': 4,
  '==': 8, '!=': 8, '===': 8, '!==': 8,
  '<': 9, '<=': 9, '>': 9, '>=': 9,
  '+': 11, '-': 11,
  '*': 12, '/': 12, '%': 12,
  '**': 13,
};
const TERNARY_POWER = 2;

/**
 * How deep an expression may nest: brackets, unary signs, operands of operands. Parsing, compiling and evaluating
 * all recurse along the tree, so an unbounded depth (a generated `((((…))))` 50,000 deep) would overflow the stack
 * and end as "a bug in Bramble". 256 is far beyond any expression a person writes and far below the stack.
 */
export const MAX_DEPTH = 256;
const UNARY_POWER = 14;

class Parser {
  private readonly columns: string[] = [];
  /** Calls of `expression` now open: the parser's own recursion. */
  private open = 0;
  /** Each node's height (a leaf is 1): a long flat chain `a+a+a+…` is parsed in a loop but builds a deep tree. */
  private readonly heights = new WeakMap<ExpressionNode, number>();

  constructor(
    private readonly source: Source,
    private readonly tokens: Tokens,
  ) {}

  parse(): ParsedExpression {
    this.readParameter();
    const ast = this.expression(0);
    const end = this.tokens.peek();
    if (end.kind !== 'end') this.unexpected(end);
    return { text: this.source.text, param: this.source.param, ast, columns: this.columns };
  }

  /** `d =>` or `(d) =>`; a bare expression (arquero accepts those too) reads its row as `d`. */
  private readParameter(): void {
    const t = this.tokens;
    if (t.peek().kind === 'name' && t.isPunct('=>', 1)) {
      this.source.param = t.next().text;
      t.next();
    } else if (t.isPunct('(') && t.peek(1).kind === 'name' && t.isPunct(')', 2) && t.isPunct('=>', 3)) {
      t.next();
      this.source.param = t.next().text;
      t.next();
      t.next();
    } else if (t.isPunct('(') && t.peek(1).kind === 'name' && t.isPunct(',', 2)) {
      this.source.fail(t.peek(2).at, `takes more than one parameter (column ${t.peek(2).at + 1})`, `a derive expression takes one row, as in "d => d.a + 1"`);
    }
    const param = this.source.param;
    if (param === 'op' || FORBIDDEN_NAMES.has(param) || param in LITERAL_NAMES) {
      this.source.fail(0, `names its row ${JSON.stringify(param)}`, 'call the row d, as in "d => d.a + 1"');
    }
  }

  private expression(minPower: number): ExpressionNode {
    if (this.open >= MAX_DEPTH) this.source.tooDeep(this.tokens.peek().at);
    this.open++;
    try {
      return this.operators(minPower);
    } finally {
      this.open--;
    }
  }

  /** A node, refused when it would make the tree deeper than MAX_DEPTH. */
  private node<T extends ExpressionNode>(node: T, at: number, children: readonly ExpressionNode[]): T {
    let height = 0;
    for (const child of children) height = Math.max(height, this.heights.get(child) ?? 1);
    if (height + 1 > MAX_DEPTH) this.source.tooDeep(at);
    this.heights.set(node, height + 1);
    return node;
  }

  private operators(minPower: number): ExpressionNode {
    let left = this.prefix();
    for (;;) {
      const t = this.tokens.peek();
      if (t.kind !== 'punct') return left;
      if (ASSIGNMENTS.has(t.text)) {
        this.source.fail(t.at, `assigns with ${JSON.stringify(t.text)} at column ${t.at + 1}`, 'a derive expression computes a value and cannot assign (to compare, use ===)');
      }
      if (t.text === '?') {
        if (TERNARY_POWER < minPower) return left;
        this.tokens.next();
        const then = this.expression(0);
        this.expect(':', t);
        // Right-associative: `a ? b : c ? d : e` nests in the else branch.
        const otherwise = this.expression(TERNARY_POWER);
        left = this.node({ type: 'conditional', test: left, then, otherwise }, t.at, [left, then, otherwise]);
        continue;
      }
      const power = INFIX[t.text];
      if (power === undefined || power < minPower) return left;
      this.tokens.next();
      if (t.text === '**' && left.type === 'unary' && !left.parenthesized) {
        // JavaScript refuses `-a ** 2` too: it could mean (-a)² or −(a²).
        this.source.fail(t.at, `puts a unary ${left.op} before ** at column ${t.at + 1}`, 'add parentheses, as in (-a) ** 2 or -(a ** 2)');
      }
      const right = this.expression(t.text === '**' ? power : power + 1);
      const node: ExpressionNode = t.text === '&&' || t.text === '||' || t.text === '??'
        ? { type: 'logical', op: t.text, left, right, parenthesized: false }
        : { type: 'binary', op: t.text as BinaryOp, left, right, parenthesized: false };
      left = this.node(node, t.at, [left, right]);
    }
  }

  private prefix(): ExpressionNode {
    const t = this.tokens.next();
    if (t.kind === 'number' || t.kind === 'string') return this.noMember({ type: 'literal', value: t.value ?? null });
    if (t.kind === 'punct') {
      if (t.text === '-' || t.text === '+' || t.text === '!') {
        const arg = this.expression(UNARY_POWER);
        return this.node({ type: 'unary', op: t.text, arg, parenthesized: false }, t.at, [arg]);
      }
      if (t.text === '(') {
        const inner = this.expression(0);
        this.expect(')', t);
        const node = 'parenthesized' in inner ? { ...inner, parenthesized: true } : inner;
        if (node !== inner) this.heights.set(node, this.heights.get(inner) ?? 1);
        return this.noMember(node);
      }
      if (ASSIGNMENTS.has(t.text)) {
        this.source.fail(t.at, `assigns with ${JSON.stringify(t.text)} at column ${t.at + 1}`, 'a derive expression computes a value and cannot assign');
      }
      return this.unexpected(t);
    }
    if (t.kind === 'end') return this.unexpected(t);
    // A name.
    if (t.text === this.source.param) return this.noMember(this.field(t));
    if (t.text === 'op') return this.noMember(this.call(t));
    if (Object.hasOwn(LITERAL_NAMES, t.text)) return this.noMember({ type: 'literal', value: LITERAL_NAMES[t.text] });
    return this.source.fail(t.at, `uses ${JSON.stringify(t.text)} at column ${t.at + 1}`, this.source.allowed());
  }

  /** `d.name` or `d["name with spaces"]`. */
  private field(param: Token): ExpressionNode {
    const t = this.tokens;
    let name: string;
    let at: number;
    if (t.isPunct('.')) {
      t.next();
      const n = t.next();
      if (n.kind !== 'name') this.source.fail(n.at, `has ${describe(n)} after "${param.text}." at column ${n.at + 1}`, `name a column, as in ${param.text}.tenure or ${param.text}["a column"]`);
      name = n.text;
      at = n.at;
    } else if (t.isPunct('[')) {
      const open = t.next();
      const n = t.next();
      if (n.kind !== 'string') this.source.fail(n.at, `indexes ${param.text} with ${describe(n)} at column ${n.at + 1}`, `name the column in quotes, as in ${param.text}["a column"]`);
      this.expect(']', open);
      name = String(n.value);
      at = n.at;
    } else {
      return this.source.fail(param.at, `uses the row ${JSON.stringify(param.text)} itself at column ${param.at + 1}`, `read one of its columns, as in ${param.text}.tenure`);
    }
    if (FORBIDDEN_NAMES.has(name)) this.source.fail(at, `uses ${JSON.stringify(name)} at column ${at + 1}`, this.source.allowed());
    if (t.isPunct('(')) {
      this.source.fail(t.peek().at, `calls ${param.text}.${name} at column ${param.at + 1}`, `only op.<function> may be called, such as op.log(${param.text}.${name})`);
    }
    if (!this.columns.includes(name)) this.columns.push(name);
    return { type: 'field', name, at };
  }

  /** `op.name(args…)`, with `name` on the list. */
  private call(op: Token): ExpressionNode {
    const t = this.tokens;
    if (!t.isPunct('.')) this.source.fail(op.at, `uses "op" without a function at column ${op.at + 1}`, `call one, as in op.log(d.x) (${opList()})`);
    t.next();
    const n = t.next();
    if (n.kind !== 'name') this.source.fail(n.at, `has ${describe(n)} after "op." at column ${n.at + 1}`, `call an op function by name (${opList()})`);
    if (FORBIDDEN_NAMES.has(n.text)) this.source.fail(n.at, `uses ${JSON.stringify(n.text)} at column ${n.at + 1}`, this.source.allowed());
    const spec = Object.hasOwn(OP_FUNCTIONS, n.text) ? OP_FUNCTIONS[n.text] : undefined;
    if (spec === undefined) {
      const hint = Object.hasOwn(OP_HINTS, n.text) ? `${OP_HINTS[n.text]}` : `the functions are ${opList()}`;
      this.source.fail(n.at, `calls op.${n.text}, which is not an allowed function, at column ${op.at + 1}`, hint);
    }
    const open = t.peek();
    if (!t.isPunct('(')) this.source.fail(open.at, `names op.${n.text} without calling it at column ${op.at + 1}`, `call it, as in op.${n.text}(d.x)`);
    t.next();
    const args: ExpressionNode[] = [];
    if (!t.isPunct(')')) {
      for (;;) {
        args.push(this.expression(0));
        if (!t.isPunct(',')) break;
        t.next();
      }
    }
    this.expect(')', open);
    if (args.length < spec.min || args.length > spec.max) {
      const wanted = spec.max === Infinity ? `at least ${spec.min}` : spec.min === spec.max ? `${spec.min}` : `${spec.min} to ${spec.max}`;
      this.source.fail(op.at, `calls op.${n.text} with ${args.length} argument${args.length === 1 ? '' : 's'} at column ${op.at + 1}`, `op.${n.text} takes ${wanted}`);
    }
    return this.node({ type: 'call', fn: n.text, args }, op.at, args);
  }

  /** Properties and calls on anything but `d` and `op` are refused: `"".constructor`, `(1).toFixed()`, `d.a.b`. */
  private noMember(node: ExpressionNode): ExpressionNode {
    const t = this.tokens.peek();
    if (t.kind === 'punct' && (t.text === '.' || t.text === '[' || t.text === '?.')) {
      const n = this.tokens.peek(1);
      const shown = n.kind === 'name' ? JSON.stringify(n.text) : describe(n);
      if (n.kind === 'name' && FORBIDDEN_NAMES.has(n.text)) this.source.fail(n.at, `uses ${shown} at column ${n.at + 1}`, this.source.allowed());
      this.source.fail(t.at, `reads property ${shown} of a value at column ${t.at + 1}`, this.source.allowed());
    }
    if (t.kind === 'punct' && t.text === '(') {
      this.source.fail(t.at, `calls a value that is not an op function at column ${t.at + 1}`, 'only op.<function> may be called, such as op.log(d.x)');
    }
    return node;
  }

  private expect(text: string, opened: Token): void {
    const t = this.tokens.peek();
    if (t.kind === 'punct' && t.text === text) {
      this.tokens.next();
      return;
    }
    const found = t.kind === 'end' ? 'the expression ends' : `found ${describe(t)}`;
    const fix = opened.text === '?' ? 'give both branches, as in a ? b : c' : `close the ${JSON.stringify(opened.text)} at column ${opened.at + 1}`;
    this.source.fail(t.at, `expects ${JSON.stringify(text)} at column ${t.at + 1} but ${found}`, fix);
  }

  private unexpected(t: Token): never {
    if (t.kind === 'end') return this.source.fail(t.at, 'ends where a value is expected', 'complete the expression');
    if (t.kind === 'punct' && (t.text === ')' || t.text === ']')) {
      return this.source.fail(t.at, `has a ${JSON.stringify(t.text)} at column ${t.at + 1} that closes nothing`, 'remove it, or open it earlier');
    }
    return this.source.fail(t.at, `has an unexpected ${describe(t)} at column ${t.at + 1}`, this.source.allowed());
  }
}

function describe(t: Token): string {
  if (t.kind === 'end') return 'the end';
  if (t.kind === 'name') return `name ${JSON.stringify(t.text)}`;
  if (t.kind === 'punct') return JSON.stringify(t.text);
  return `${t.kind} ${t.text}`;
}

function opList(): string {
  return OP_NAMES.map((n) => `op.${n}`).join(', ');
}

/**
 * Parses an arquero-style row expression into the restricted form. `where` names the place for messages, such as
 * `features[2].derive.ratio`. Throws a FeatureExpressionError naming the expression, the column (1-based
 * character offset) and what is allowed.
 */
export function parseExpression(text: string, where: string): ParsedExpression {
  const source = new Source(text, where);
  if (text.trim() === '') source.fail(0, 'is empty', 'write an expression such as "d => d.a + 1"');
  // The parameter name is only known once parsed; tokens read before then report with the default `d`.
  const tokens = new Tokens(source);
  return new Parser(source, tokens).parse();
}

/**
 * Compiles a parsed expression into a tree of closures that evaluates one row through `get`. Training, batch
 * scoring and serving all call this one function, so that a value cannot differ between them.
 */
export function compileExpression(parsed: ParsedExpression): Evaluate {
  return compileNode(parsed.ast);
}

function compileNode(node: ExpressionNode): Evaluate {
  switch (node.type) {
    case 'literal': {
      const value = node.value;
      return () => value;
    }
    case 'field': {
      const name = node.name;
      return (get) => get(name);
    }
    case 'unary': {
      const arg = compileNode(node.arg);
      if (node.op === '!') return (get) => !truthy(arg(get));
      if (node.op === '-') return (get) => -toNumber(arg(get));
      return (get) => toNumber(arg(get));
    }
    case 'binary': {
      const left = compileNode(node.left);
      const right = compileNode(node.right);
      const f = BINARY[node.op];
      return (get) => f(left(get), right(get));
    }
    case 'logical': {
      const left = compileNode(node.left);
      const right = compileNode(node.right);
      if (node.op === '&&') return (get) => { const a = left(get); return truthy(a) ? right(get) : a; };
      if (node.op === '||') return (get) => { const a = left(get); return truthy(a) ? a : right(get); };
      return (get) => { const a = left(get); return isMissing(a) ? right(get) : a; };
    }
    case 'conditional': {
      const test = compileNode(node.test);
      const then = compileNode(node.then);
      const otherwise = compileNode(node.otherwise);
      return (get) => (truthy(test(get)) ? then(get) : otherwise(get));
    }
    case 'call': {
      const args = node.args.map(compileNode);
      const fn = OP_FUNCTIONS[node.fn].fn;
      return (get) => fn(args.map((a) => a(get)));
    }
  }
}
