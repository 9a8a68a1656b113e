// A lone surrogate has no UTF-8 encoding: hashing it would silently turn it into U+FFFD, so two
// different strings would share a hash. RFC 8785 §3.2.2.2 requires rejecting it.
// String#isWellFormed (ES2024, Node ≥ 20) is native and fast; TypeScript's ES2023 lib lacks it.
const isWellFormed = (value: string): boolean =>
  (value as unknown as { isWellFormed(): boolean }).isWellFormed();

/**
 * RFC 8785 JSON Canonicalization Scheme (JCS): the one byte sequence a JSON value serialises to.
 *
 * Objects have their keys sorted by UTF-16 code units, numbers use ECMAScript `Number#toString`
 * (so `-0` is `0`, `1e21` is `1e+21`), strings use the minimal JSON escapes, no whitespace.
 * Object members whose value is `undefined` are omitted (as `JSON.stringify` does, so optional
 * fields hash the same whether absent or undefined); `toJSON()` is honoured (a `Date` becomes its
 * ISO string). Anything else JSON cannot represent throws a `TypeError`: `NaN`, `±Infinity`,
 * `undefined` at the top level or in an array, functions, symbols, bigints, non-plain objects
 * (`Map`, `Set`, class instances), lone surrogates and cycles.
 */
export function canonicalize(value: unknown): string {
  return serialize(value, { path: [], ancestors: new Set() });
}

// The path is a stack of keys turned into a JSON pointer only when reporting an error: building
// it eagerly for every member costs more than the serialisation itself.
interface Walk {
  path: Array<string | number>;
  ancestors: Set<object>;
}

function serialize(input: unknown, walk: Walk): string {
  const value = withToJson(input, walk);
  switch (typeof value) {
    case 'string':
      return serializeString(value, walk);
    case 'number':
      if (!Number.isFinite(value)) throw notJson(walk, String(value));
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      if (value === null) return 'null';
      return serializeContainer(value, walk);
    default:
      throw notJson(walk, typeof value);
  }
}

function withToJson(value: unknown, walk: Walk): unknown {
  if (typeof value !== 'object' || value === null) return value;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON !== 'function') return value;
  const key = walk.path.length === 0 ? '' : String(walk.path[walk.path.length - 1]);
  return (toJSON as (key: string) => unknown).call(value, key);
}

function serializeContainer(value: object, walk: Walk): string {
  if (walk.ancestors.has(value)) throw new TypeError(`canonicalize: cyclic structure at ${pointer(walk)}`);
  walk.ancestors.add(value);
  try {
    if (Array.isArray(value)) return serializeArray(value, walk);
    if (!isPlainObject(value)) throw notJson(walk, `an instance of ${constructorName(value)}`);
    return serializeObject(value as Record<string, unknown>, walk);
  } finally {
    walk.ancestors.delete(value);
  }
}

function serializeArray(value: readonly unknown[], walk: Walk): string {
  let out = '[';
  for (let i = 0; i < value.length; i++) {
    walk.path.push(i);
    // JSON.stringify would write null here, which would hash a value nobody wrote.
    if (value[i] === undefined) throw notJson(walk, 'undefined');
    out += (i === 0 ? '' : ',') + serialize(value[i], walk);
    walk.path.pop();
  }
  return out + ']';
}

function serializeObject(value: Record<string, unknown>, walk: Walk): string {
  // Array#sort without a comparator orders by UTF-16 code units, exactly what RFC 8785 §3.2.3 asks.
  const keys = Object.keys(value).sort();
  let out = '{';
  for (const key of keys) {
    const member = value[key];
    if (member === undefined) continue;
    walk.path.push(key);
    out += (out.length === 1 ? '' : ',') + serializeString(key, walk) + ':' + serialize(member, walk);
    walk.path.pop();
  }
  return out + '}';
}

// ES2019 JSON.stringify already emits the RFC 8785 string form for well-formed strings.
function serializeString(value: string, walk: Walk): string {
  if (!isWellFormed(value)) throw notJson(walk, 'a string with a lone surrogate');
  return JSON.stringify(value);
}

function isPlainObject(value: object): boolean {
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

function constructorName(value: object): string {
  const ctor: unknown = (value as { constructor?: unknown }).constructor;
  return typeof ctor === 'function' && ctor.name ? ctor.name : 'an unknown class';
}

function notJson(walk: Walk, what: string): TypeError {
  return new TypeError(`canonicalize: ${what} at ${pointer(walk)} cannot be represented in JSON`);
}

// An RFC 6901 JSON pointer, so error messages point at the offending member unambiguously.
function pointer(walk: Walk): string {
  if (walk.path.length === 0) return 'the root';
  return walk.path.map((key) => `/${String(key).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}
