// Declarative command-line options: every flag is also readable from an environment variable
// (STREAMEDGE_<FLAG>), and every value is validated before a component starts, so a bad option is
// a startup error naming the flag rather than a surprise at the first request.

export type OptionKind = 'string' | 'integer' | 'number' | 'port' | 'url' | 'bytes' | 'duration' | 'boolean';

export interface OptionSpec {
  readonly kind: OptionKind;
  readonly description: string;
  readonly multiple?: boolean;
  readonly required?: boolean;
  readonly default?: string | number | boolean | readonly string[];
  readonly choices?: readonly string[];
  readonly min?: number;
  readonly max?: number;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

type ValueOfKind<K extends OptionKind> = K extends 'integer' | 'number' | 'port' | 'bytes' | 'duration'
  ? number
  : K extends 'boolean'
    ? boolean
    : string;

export type ParsedOptions<S extends OptionSpecs> = {
  -readonly [Name in keyof S]: S[Name] extends { multiple: true }
    ? ValueOfKind<S[Name]['kind']>[]
    : S[Name] extends { required: true } | { default: unknown } | { kind: 'boolean' }
      ? ValueOfKind<S[Name]['kind']>
      : ValueOfKind<S[Name]['kind']> | undefined;
};

export class OptionError extends Error {
  readonly option: string;
  constructor(option: string, message: string) {
    super(`${option}: ${message}`);
    this.name = 'OptionError';
    this.option = option;
  }
}

/** Thrown for `--help`; carries the usage text so the CLI prints it and exits 0. */
export class HelpRequested extends Error {
  constructor(readonly usage: string) {
    super('help requested');
    this.name = 'HelpRequested';
  }
}

export function envName(flag: string): string {
  return `STREAMEDGE_${flag.replace(/-/g, '_').toUpperCase()}`;
}

const BYTE_UNITS: Readonly<Record<string, number>> = {
  '': 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

/** `256MB` → bytes. Units are binary (like nginx's `k`/`m`): 1 MB = 1 MiB = 1,048,576 bytes. */
export function parseByteSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text);
  const unit = match ? BYTE_UNITS[match[2]!.toLowerCase()] : undefined;
  if (!match || unit === undefined) throw new Error(`expected a size such as 1048576, 512KB or 256MB, got "${text}"`);
  return Math.floor(Number(match[1]) * unit);
}

const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** `250ms`, `2s`, `1.5m` → milliseconds; a bare number is milliseconds. */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/i.exec(text);
  if (!match) throw new Error(`expected a duration such as 250ms, 2s or 1m, got "${text}"`);
  return Math.round(Number(match[1]) * DURATION_UNITS[(match[2] ?? 'ms').toLowerCase()]!);
}

function parseValue(spec: OptionSpec, raw: string): string | number | boolean {
  switch (spec.kind) {
    case 'string':
      if (raw === '') throw new Error('must not be empty');
      if (spec.choices && !spec.choices.includes(raw)) {
        throw new Error(`expected one of ${spec.choices.join(', ')}, got "${raw}"`);
      }
      return raw;
    case 'boolean':
      if (/^(1|true|yes|on)$/i.test(raw)) return true;
      if (/^(0|false|no|off)$/i.test(raw)) return false;
      throw new Error(`expected true or false, got "${raw}"`);
    case 'url': {
      let url: URL;
      try {
        url = new URL(raw);
      } catch {
        throw new Error(`expected an absolute http(s) URL, got "${raw}"`);
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new Error(`expected an http or https URL, got "${raw}"`);
      }
      return url.href.replace(/\/$/, '');
    }
    case 'port':
    case 'integer': {
      if (!/^-?\d+$/.test(raw.trim())) throw new Error(`expected a whole number, got "${raw}"`);
      const value = Number(raw);
      const [min, max] = spec.kind === 'port' ? [0, 65535] : [spec.min ?? -Infinity, spec.max ?? Infinity];
      if (value < min || value > max) throw new Error(`expected a number from ${min} to ${max}, got ${value}`);
      return value;
    }
    case 'number': {
      const value = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(value)) throw new Error(`expected a number, got "${raw}"`);
      if (value < (spec.min ?? -Infinity) || value > (spec.max ?? Infinity)) {
        throw new Error(`expected a number from ${spec.min ?? '-∞'} to ${spec.max ?? '∞'}, got ${value}`);
      }
      return value;
    }
    case 'bytes':
    case 'duration': {
      const value = spec.kind === 'bytes' ? parseByteSize(raw) : parseDuration(raw);
      if (value < (spec.min ?? 0) || value > (spec.max ?? Infinity)) {
        throw new Error(`expected a value from ${spec.min ?? 0} to ${spec.max ?? '∞'}, got "${raw}"`);
      }
      return value;
    }
  }
}

export function formatUsage(command: string, summary: string, specs: OptionSpecs): string {
  const lines = [`Usage: streamedge ${command} [options]`, '', summary, '', 'Options (each also read from the environment variable shown):'];
  for (const [name, spec] of Object.entries(specs)) {
    const flag = spec.kind === 'boolean' ? `--${name}` : `--${name} <${spec.kind}>`;
    const extras = [
      spec.multiple ? 'repeatable' : '',
      spec.required ? 'required' : '',
      spec.default !== undefined ? `default: ${String(spec.default)}` : '',
      spec.choices ? `one of: ${spec.choices.join(', ')}` : '',
    ].filter(Boolean);
    lines.push(`  ${flag.padEnd(28)} ${spec.description}${extras.length ? ` (${extras.join('; ')})` : ''}`);
    lines.push(`  ${''.padEnd(28)} env ${envName(name)}`);
  }
  lines.push(`  ${'--help'.padEnd(28)} show this help`);
  return lines.join('\n');
}

/**
 * Parses argv (flags only, `--name value` or `--name=value`) with the environment as fallback.
 * Throws OptionError naming the offending flag, or HelpRequested for `--help`.
 */
export function parseCommandOptions<S extends OptionSpecs>(
  command: string,
  summary: string,
  specs: S,
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): ParsedOptions<S> {
  const fromArgs = new Map<string, string[]>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') throw new HelpRequested(formatUsage(command, summary, specs));
    if (!arg.startsWith('--')) throw new OptionError(arg, `unexpected argument (see streamedge ${command} --help)`);
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
    const spec = specs[name];
    if (!spec) throw new OptionError(`--${name}`, `unknown option (see streamedge ${command} --help)`);
    let value: string;
    if (eq !== -1) value = arg.slice(eq + 1);
    else if (spec.kind === 'boolean' && (argv[i + 1] === undefined || argv[i + 1]!.startsWith('--'))) value = 'true';
    else if (argv[i + 1] === undefined) throw new OptionError(`--${name}`, 'missing value');
    else value = argv[++i]!;
    const values = fromArgs.get(name) ?? [];
    if (values.length > 0 && !spec.multiple) throw new OptionError(`--${name}`, 'given more than once');
    fromArgs.set(name, [...values, value]);
  }

  const result: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(specs)) {
    const envValue = env[envName(name)];
    let raws = fromArgs.get(name);
    let source = `--${name}`;
    if (!raws && envValue !== undefined && envValue !== '') {
      raws = spec.multiple ? envValue.split(',').map((part) => part.trim()).filter(Boolean) : [envValue];
      source = envName(name);
    }
    if (!raws) {
      if (spec.required) throw new OptionError(`--${name}`, `required (or set ${envName(name)})`);
      // Defaults may be written the way a user would type them ('256MB', '2s'), so they are parsed too.
      const parseDefault = (value: unknown): unknown => (typeof value === 'string' ? parseValue(spec, value) : value);
      const fallback = spec.default;
      if (spec.multiple) result[name] = fallback === undefined ? [] : (fallback as readonly string[]).map(parseDefault);
      else result[name] = fallback === undefined ? (spec.kind === 'boolean' ? false : undefined) : parseDefault(fallback);
      continue;
    }
    const parsed = raws.map((raw) => {
      try {
        return parseValue(spec, raw);
      } catch (error) {
        throw new OptionError(source, (error as Error).message);
      }
    });
    result[name] = spec.multiple ? parsed : parsed[0];
  }
  return result as ParsedOptions<S>;
}
