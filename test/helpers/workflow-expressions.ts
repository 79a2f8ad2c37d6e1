// GitHub Actions expressions as test/e2e-story.test.ts plays model-pipeline.yml: the forms the workflow uses,
// evaluated as GitHub evaluates them, and anything else refused, so the story breaks when the workflow grows an
// expression it does not know rather than guessing.
//
// Known: 'string' literals (with '' for a quote), numbers, true, false, null; property paths
// (`needs.plan.outputs.champion-env`; a missing property is null); `!`, `==`, `!=`, `&&`, `||` with GitHub's
// precedence (! then comparisons then && then ||) and parentheses; `&&` and `||` give one of their operands, as on
// GitHub (`a && 'x' || b`); the functions fromJSON and format. Comparison is of strings, null counting as '' (the
// workflow compares strings only; GitHub's own rule coerces null and '' alike to 0).

export type Context = Record<string, unknown>;

type Token = { kind: 'string' | 'number' | 'word' | 'op'; text: string };

function tokenize(expression: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < expression.length) {
    const rest = expression.slice(i);
    const space = /^\s+/.exec(rest);
    const string = /^'((?:[^']|'')*)'/.exec(rest);
    const number = /^-?\d+(\.\d+)?/.exec(rest);
    const word = /^[a-zA-Z_][\w-]*(\.[a-zA-Z_][\w-]*)*/.exec(rest);
    const op = /^(&&|\|\||==|!=|!|\(|\)|,)/.exec(rest);
    if (space) i += space[0].length;
    else if (string) {
      tokens.push({ kind: 'string', text: string[1].replaceAll("''", "'") });
      i += string[0].length;
    } else if (number) {
      tokens.push({ kind: 'number', text: number[0] });
      i += number[0].length;
    } else if (word) {
      tokens.push({ kind: 'word', text: word[0] });
      i += word[0].length;
    } else if (op) {
      tokens.push({ kind: 'op', text: op[0] });
      i += op[0].length;
    } else {
      throw new Error(`the story cannot read ${JSON.stringify(expression)} at ${JSON.stringify(rest)} (model-pipeline.yml uses an expression it does not know)`);
    }
  }
  return tokens;
}

/** GitHub's truthiness: null, false, 0, NaN and '' are false. */
export function truthy(value: unknown): boolean {
  return !(value === null || value === undefined || value === false || value === 0 || value === '' || Number.isNaN(value));
}

function text(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

const FUNCTIONS: Record<string, (args: unknown[]) => unknown> = {
  fromJSON: ([json]) => JSON.parse(text(json)) as unknown,
  format: ([template, ...args]) => text(template).replace(/\{(\d+)\}/g, (_, n: string) => text(args[Number(n)])),
};

class Parser {
  private at = 0;

  constructor(
    private readonly tokens: Token[],
    private readonly context: Context,
    private readonly source: string,
  ) {}

  parse(): unknown {
    const value = this.or();
    if (this.at < this.tokens.length) this.fail(`unexpected ${this.tokens[this.at].text}`);
    return value;
  }

  private fail(why: string): never {
    throw new Error(`the story cannot evaluate ${JSON.stringify(this.source)}: ${why} (model-pipeline.yml uses an expression it does not know)`);
  }

  private take(op: string): boolean {
    const t = this.tokens[this.at];
    if (t?.kind === 'op' && t.text === op) {
      this.at++;
      return true;
    }
    return false;
  }

  private or(): unknown {
    return this.chain('||', () => this.and());
  }

  private and(): unknown {
    return this.chain('&&', () => this.comparison());
  }

  /** `a || b` is a when a is truthy, else b; `a && b` is a when a is falsy, else b. */
  private chain(op: '||' | '&&', next: () => unknown): unknown {
    let value = next();
    while (this.take(op)) {
      const right = next();
      if ((op === '||') !== truthy(value)) value = right;
    }
    return value;
  }

  private comparison(): unknown {
    const left = this.unary();
    if (this.take('==')) return text(left) === text(this.unary());
    if (this.take('!=')) return text(left) !== text(this.unary());
    return left;
  }

  private unary(): unknown {
    if (this.take('!')) return !truthy(this.unary());
    return this.primary();
  }

  private primary(): unknown {
    const t = this.tokens[this.at++];
    if (t === undefined) return this.fail('it ends early');
    if (t.kind === 'string') return t.text;
    if (t.kind === 'number') return Number(t.text);
    if (t.kind === 'op') {
      if (t.text !== '(') return this.fail(`unexpected ${t.text}`);
      const value = this.or();
      if (!this.take(')')) this.fail('a parenthesis is not closed');
      return value;
    }
    if (t.text === 'true' || t.text === 'false') return t.text === 'true';
    if (t.text === 'null') return null;
    if (this.take('(')) {
      const fn = FUNCTIONS[t.text];
      if (fn === undefined) this.fail(`the function ${t.text}`);
      const args: unknown[] = [];
      if (!this.take(')')) {
        do {
          args.push(this.or());
        } while (this.take(','));
        if (!this.take(')')) this.fail(`${t.text}( is not closed`);
      }
      return fn(args);
    }
    let value: unknown = this.context;
    for (const key of t.text.split('.')) value = typeof value === 'object' && value !== null ? (value as Context)[key] : null;
    return value ?? null;
  }
}

/** The value of an expression (the part between `${{` and `}}`, or an `if:`). */
export function evaluate(expression: string, context: Context): unknown {
  return new Parser(tokenize(expression), context, expression).parse();
}

/** Whether an `if:` holds. */
export function holds(expression: string, context: Context): boolean {
  return truthy(evaluate(expression, context));
}

/** A `with:` value or output with each `${{ … }}` replaced by its value as text. */
export function interpolate(value: string | number | boolean, context: Context): string {
  return String(value).replace(/\$\{\{(.*?)\}\}/g, (_, expression: string) => text(evaluate(expression, context)));
}

/** A value that is one `${{ … }}` and nothing else is that expression's value itself, as for a matrix; else its text. */
export function expressionValue(value: string, context: Context): unknown {
  const whole = /^\s*\$\{\{(.*)\}\}\s*$/s.exec(value);
  return whole ? evaluate(whole[1], context) : interpolate(value, context);
}
