/**
 * Hostile chat templates (each must give InvalidArgumentError quickly, within budget) and the
 * benign templates that must keep rendering after them.
 */
export const TEMPLATE_BOMBS: [string, string][] = [
  ['range(1e9)', '{% for i in range(1000000000) %}x{% endfor %}'],
  ['range(3e6)', '{% for i in range(3000000) %}x{% endfor %}'],
  ['negative-step range(1e9)', '{% for i in range(1000000000, 0, -1) %}x{% endfor %}'],
  [
    'nested loops (1e10 steps)',
    '{% for i in range(100000) %}{% for j in range(100000) %}xxxxxxxxxx{% endfor %}{% endfor %}',
  ],
  [
    'nested loops under the range bound',
    '{% for i in range(60000) %}{% for j in range(60000) %}xxxxxxxxxx{% endfor %}{% endfor %}',
  ],
  [
    'nested loops, empty body',
    '{% for i in range(60000) %}{% for j in range(60000) %}{% endfor %}{% endfor %}',
  ],
  ['self-calling macro', '{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}'],
  [
    'mutual recursion',
    '{% macro a(n) %}{{ b(n) }}{% endmacro %}{% macro b(n) %}{{ a(n) }}{% endmacro %}{{ a(0) }}',
  ],
  [
    'string doubling',
    "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s }}",
  ],
  [
    'string doubling with ~',
    "{% set ns = namespace(s='xy') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s|length }}",
  ],
  [
    'replace method x10 per step',
    "{% set ns = namespace(s='xxxxxxxxxx') %}{% for i in range(20) %}{% set ns.s = ns.s.replace('x', 'xxxxxxxxxx') %}{% endfor %}{{ ns.s }}",
  ],
  [
    'replace filter with an empty pattern',
    "{% set ns = namespace(s='abcdefgh') %}{% for i in range(30) %}{% set ns.s = ns.s|replace('', ns.s) %}{% endfor %}{{ ns.s }}",
  ],
  [
    'indent of many lines',
    "{% set ns = namespace(s='\\n') %}{% for i in range(18) %}{% set ns.s = ns.s + ns.s %}{% endfor %}{{ ns.s|indent(100000) }}",
  ],
  ['tojson with a huge indent', '{{ messages|tojson(indent=100000000) }}'],
  [
    'list doubling',
    '{% set ns = namespace(l=[1]) %}{% for i in range(40) %}{% set ns.l = ns.l + ns.l %}{% endfor %}{{ ns.l|length }}',
  ],
  [
    'join of a doubled list',
    "{% set ns = namespace(l=['abc']) %}{% for i in range(40) %}{% set ns.l = ns.l + ns.l %}{% endfor %}{{ ns.l|join('-') }}",
  ],
  ['messages rendered a million times', '{% for i in range(1000000) %}{{ messages|tojson }}{% endfor %}'],
  [
    'split into characters, repeatedly',
    '{% for i in range(1000000) %}{{ (messages[0].content * 1)|list|length }}{% endfor %}',
  ],
  ['deeply nested parentheses', `{{ ${'('.repeat(50_000)}1${')'.repeat(50_000)} }}`],
  ['raise_exception', "{{ raise_exception('no') }}"],
  ['a syntax error', '{% for %}'],
  ['an unknown filter', "{{ 'x'|center(1000000000) }}"],
];

/** A normal template: must render after each bomb, proving the renderer still works. */
export const GOOD_TEMPLATE =
  "{% for m in messages %}{{ bos_token + m['role'] + ': ' + m['content'] + '\\n' }}{% endfor %}" +
  "{% if add_generation_prompt %}{{ 'assistant:' }}{% endif %}";
