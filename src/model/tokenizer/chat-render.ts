/**
 * Chat templates rendered under a budget. A model's template (tokenizer_config.json, a
 * chat_template.jinja or a GGUF's tokenizer.chat_template) is untrusted code: `range(1000000000)`,
 * a self-calling macro or a string doubled in a loop would hang or kill the process. The
 * `@huggingface/jinja` interpreter is run with:
 *
 * - a time budget and a step budget (every evaluated node counts; the clock is read every 1024),
 * - a nesting budget (macros calling themselves),
 * - a size budget: no string a step produces may exceed `maxChars` (no list `maxItems`), all strings the
 *   template produces together may not exceed `PRODUCED_FACTOR × maxChars` (loops accumulate their
 *   output outside any single step),
 * - `range()` bounded, and the operations that grow a string by more than their inputs' sizes
 *   (`replace`, the `indent` filter, `tojson(indent=…)`) checked before they run.
 *
 * Same code in Node and in the browser; the checks are synchronous, so an over-budget template
 * throws InvalidArgumentError and the engine goes on serving.
 */
import { Environment, Interpreter, Template } from '@huggingface/jinja';
import { InvalidArgumentError } from '../../errors.ts';

export interface TemplateBudget {
  /** Wall time for one rendering, ms. */
  timeMs: number;
  /** Evaluated nodes for one rendering. */
  maxSteps: number;
  /** Longest string (characters) any step may produce, the rendering included. */
  maxChars: number;
  /**
   * Longest list any step may produce, range() included. Small: a for loop makes a scope per item
   * before it runs its body once.
   */
  maxItems: number;
  /** Deepest nesting of evaluations (recursion). */
  maxDepth: number;
}

export const DEFAULT_TEMPLATE_BUDGET: TemplateBudget = {
  timeMs: 750,
  maxSteps: 5_000_000,
  maxChars: 2_000_000,
  maxItems: 65_536,
  maxDepth: 400,
};

/** All strings produced by one rendering, together, at most this many times maxChars. */
const PRODUCED_FACTOR = 16;
/** tojson's indent at most this. */
const MAX_JSON_INDENT = 64;

/** Thrown inside the interpreter; turned into InvalidArgumentError by renderTemplate. */
class BudgetExceeded extends Error {}

interface RuntimeValueLike {
  type: string;
  value: unknown;
  builtins?: Map<string, RuntimeValueLike>;
}
type JinjaNode = {
  type: string;
  value?: unknown;
  computed?: boolean;
  property?: JinjaNode;
  object?: JinjaNode;
  callee?: JinjaNode;
};
type FunctionValueCtor = new (
  fn: (args: RuntimeValueLike[], scope: unknown) => RuntimeValueLike,
) => RuntimeValueLike;

/** The interpreter's runtime-value classes are not exported: taken from values it makes. */
const probe = new Environment();
probe.set('f', () => null);
const FunctionValue = (probe.lookupVariable('f') as unknown as { constructor: FunctionValueCtor })
  .constructor;

type RV = RuntimeValueLike;
/** The interpreter's methods this file overrides (declared private in its typings). */
interface OpenInterpreter {
  run(program: unknown): RV;
  evaluate(node: unknown, env: Environment): RV;
  evaluateBlock(statements: unknown, env: Environment): RV;
  applyFilter(operand: RV, filterNode: JinjaNode, env: Environment): RV;
  evaluateArguments(args: unknown, env: Environment): [RV[], Map<string, RV>];
  evaluateMemberExpression(expr: JinjaNode, env: Environment): RV;
}
const OpenInterpreter = Interpreter as unknown as new (env: Environment) => OpenInterpreter;

class BudgetInterpreter extends OpenInterpreter {
  private steps = 0;
  private depth = 0;
  private produced = 0;
  private readonly deadline: number;
  /** A filter whose arguments are about to be evaluated, with its operand: checked once they are. */
  private pending: { name: string; operand: RuntimeValueLike } | null = null;

  constructor(
    env: Environment,
    private readonly budget: TemplateBudget,
  ) {
    super(env);
    this.deadline = performance.now() + budget.timeMs;
  }

  /** One step: counted, and every 1024th checks the clock. */
  private tick(): void {
    if (++this.steps > this.budget.maxSteps)
      throw new BudgetExceeded(`more than ${this.budget.maxSteps} steps`);
    if ((this.steps & 1023) === 0 && performance.now() > this.deadline)
      throw new BudgetExceeded(`more than ${this.budget.timeMs} ms`);
  }

  override evaluate(statement: unknown, environment: Environment): RV {
    this.tick();
    if (++this.depth > this.budget.maxDepth)
      throw new BudgetExceeded(`nested deeper than ${this.budget.maxDepth}`);
    try {
      const v = super.evaluate(statement, environment);
      // Looking a value up makes nothing new: only its size is checked.
      const type = (statement as JinjaNode | undefined)?.type;
      this.checkSize(v, type !== 'Identifier' && type !== 'MemberExpression');
      return v;
    } finally {
      this.depth--;
    }
  }

  /** Also each pass of a loop body (an empty body evaluates nothing). */
  override evaluateBlock(statements: unknown, environment: Environment): RV {
    this.tick();
    const v = super.evaluateBlock(statements, environment);
    this.checkSize(v);
    return v;
  }

  private checkSize(v: RuntimeValueLike | undefined, made = true): void {
    if (!v) return;
    if (typeof v.value === 'string') {
      const n = v.value.length;
      if (n > this.budget.maxChars)
        throw new BudgetExceeded(`a string of more than ${this.budget.maxChars} characters`);
      if (made) this.produced += n;
      if (this.produced > PRODUCED_FACTOR * this.budget.maxChars)
        throw new BudgetExceeded(`more than ${PRODUCED_FACTOR * this.budget.maxChars} characters produced`);
    } else if (Array.isArray(v.value) && v.value.length > this.budget.maxItems) {
      throw new BudgetExceeded(`a list of more than ${this.budget.maxItems} items`);
    }
  }

  override applyFilter(operand: RV, filterNode: JinjaNode, environment: Environment): RV {
    const name = filterNode.type === 'CallExpression' ? filterNode.callee?.value : undefined;
    if (name === 'indent' || name === 'replace' || name === 'tojson') this.pending = { name, operand };
    try {
      return super.applyFilter(operand, filterNode, environment);
    } finally {
      this.pending = null;
    }
  }

  override evaluateArguments(args: unknown, environment: Environment): [RV[], Map<string, RV>] {
    const pending = this.pending;
    this.pending = null; // nested calls inside the arguments are not this filter's
    const out = super.evaluateArguments(args, environment);
    if (pending) this.checkFilter(pending.name, pending.operand, out[0], out[1]);
    return out;
  }

  private checkFilter(
    name: string,
    operand: RuntimeValueLike,
    args: RuntimeValueLike[],
    kwargs: Map<string, RuntimeValueLike>,
  ): void {
    const text = typeof operand.value === 'string' ? operand.value : '';
    if (name === 'indent') {
      const width = Number((args[0] ?? kwargs.get('width'))?.value ?? 4);
      let lines = 1;
      for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lines++;
      this.checkGrowth(text.length + lines * Math.max(0, width));
    } else if (name === 'replace') {
      this.checkReplace(text, args);
    } else if (name === 'tojson') {
      const indent = Number(kwargs.get('indent')?.value ?? args[0]?.value ?? 0);
      if (indent > MAX_JSON_INDENT) throw new BudgetExceeded(`tojson indent above ${MAX_JSON_INDENT}`);
    }
  }

  /** `old → new` replacements in `text` (at most `count`): the longest result, checked. */
  private checkReplace(text: string, args: RuntimeValueLike[]): void {
    const from = args[0]?.value;
    const to = args[1]?.value;
    if (typeof from !== 'string' || typeof to !== 'string') return; // the builtin rejects these
    let times = from.length === 0 ? text.length + 1 : Math.floor(text.length / from.length);
    const count = args[2]?.type === 'KeywordArgumentsValue' ? undefined : args[2]?.value;
    if (typeof count === 'number' && count >= 0) times = Math.min(times, count);
    this.checkGrowth(text.length + times * Math.max(0, to.length - from.length));
  }

  private checkGrowth(chars: number): void {
    if (chars > this.budget.maxChars)
      throw new BudgetExceeded(`an operation would make more than ${this.budget.maxChars} characters`);
  }

  /** `s.replace(a, b)`: the string method, checked like the filter before it runs. */
  override evaluateMemberExpression(node: JinjaNode, environment: Environment): RV {
    if (node.computed || node.property?.type !== 'Identifier' || node.property.value !== 'replace')
      return super.evaluateMemberExpression(node, environment);
    const object = this.evaluate(node.object, environment);
    const own = object.value instanceof Map ? (object.value.get('replace') as RuntimeValueLike) : undefined;
    const method = own ?? object.builtins?.get('replace');
    if (!method) return super.evaluateMemberExpression(node, environment); // undefined, as before
    if (typeof object.value !== 'string' || method.type !== 'FunctionValue') return method;
    const text = object.value;
    const call = method.value as (args: RuntimeValueLike[], scope: unknown) => RuntimeValueLike;
    return new FunctionValue((args, scope) => {
      this.checkReplace(text, args);
      return call(args, scope);
    });
  }
}

/** `range()` as Jinja's, refusing more than `max` items before making any. */
function boundedRange(max: number) {
  return (start: number, stop?: number, step = 1): number[] => {
    if (stop === undefined) {
      stop = start;
      start = 0;
    }
    if (![start, stop, step].every(Number.isFinite))
      throw new InvalidArgumentError('range() arguments must be numbers');
    if (step === 0) throw new InvalidArgumentError('range() step must not be zero');
    const n = Math.max(0, Math.ceil((stop - start) / step));
    if (n > max) throw new BudgetExceeded(`range() of ${n} items (at most ${max})`);
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(start + i * step);
    return out;
  };
}

/** Parses a template once (a syntax error is the caller's InvalidArgumentError). */
export function compileTemplate(source: string): Template {
  return new Template(source);
}

/**
 * Renders `template` with `context` under `budget`: InvalidArgumentError when the template fails
 * or goes past the budget (the message says which), never a hang or an out-of-memory crash.
 */
export function renderTemplate(
  template: Template,
  context: Record<string, unknown>,
  budget: TemplateBudget = DEFAULT_TEMPLATE_BUDGET,
): string {
  const env = new Environment();
  for (const [k, v] of Object.entries({
    false: false,
    true: true,
    none: null,
    False: false,
    True: true,
    None: null,
    raise_exception: (msg: unknown) => {
      throw new InvalidArgumentError(String(msg));
    },
    strftime_now: (format: string) => strftimeNow(format),
    ...context,
    range: boundedRange(budget.maxItems),
  }))
    env.set(k, v);
  const parsed = (template as unknown as { parsed: unknown }).parsed;
  try {
    return String(new BudgetInterpreter(env, budget).run(parsed).value);
  } catch (e) {
    if (e instanceof BudgetExceeded)
      throw new InvalidArgumentError(`The chat template went past its budget: ${e.message}.`);
    if (e instanceof RangeError)
      throw new InvalidArgumentError(`The chat template went past its budget: ${e.message}.`);
    throw new InvalidArgumentError(
      `The chat template could not render these messages: ${(e as Error).message}`,
    );
  }
}

/** `@huggingface/jinja`'s strftime_now (not exported), restated: %Y %m %d %b %B %H %M %%. */
function strftimeNow(format: string): string {
  const date = new Date();
  const pad2 = (n: number) => (n < 10 ? `0${n}` : n.toString());
  return format.replace(/%[YmdbBHM%]/g, (token) => {
    switch (token) {
      case '%Y':
        return date.getFullYear().toString();
      case '%m':
        return pad2(date.getMonth() + 1);
      case '%d':
        return pad2(date.getDate());
      case '%b':
        return new Intl.DateTimeFormat(undefined, { month: 'short' }).format(date);
      case '%B':
        return new Intl.DateTimeFormat(undefined, { month: 'long' }).format(date);
      case '%H':
        return pad2(date.getHours());
      case '%M':
        return pad2(date.getMinutes());
      default:
        return '%';
    }
  });
}
