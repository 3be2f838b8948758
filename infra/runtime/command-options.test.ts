import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { HelpRequested, OptionError, parseByteSize, parseCommandOptions, parseDuration } from './command-options.js';

const specs = {
  port: { kind: 'port', description: 'listen port', default: 8080 },
  origin: { kind: 'url', description: 'origin', multiple: true },
  'cache-size': { kind: 'bytes', description: 'cache', default: '64MB' },
  mode: { kind: 'string', description: 'mode', choices: ['a', 'b'], default: 'a' },
  hedge: { kind: 'duration', description: 'hedge delay' },
  verbose: { kind: 'boolean', description: 'verbose' },
  id: { kind: 'string', description: 'id', required: true },
} as const;

const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseCommandOptions('test', 'summary', specs, argv, env);

describe('parseCommandOptions', () => {
  it('reads flags in both spellings and applies defaults', () => {
    const options = parse(['--id', 'e1', '--origin=http://a:1/', '--origin', 'http://b:2', '--hedge', '250ms', '--verbose']);
    assert.equal(options.port, 8080);
    assert.deepEqual(options.origin, ['http://a:1', 'http://b:2']);
    assert.equal(options.hedge, 250);
    assert.equal(options.verbose, true);
    assert.equal(options.mode, 'a');
    assert.equal(options['cache-size'], 64 * 1024 * 1024, 'a default written as text is parsed like a flag');
  });

  it('falls back to STREAMEDGE_* environment variables, flags winning', () => {
    const env = { STREAMEDGE_ID: 'from-env', STREAMEDGE_PORT: '9000', STREAMEDGE_ORIGIN: 'http://a:1, http://b:2' };
    const options = parse(['--port', '9001'], env);
    assert.equal(options.id, 'from-env');
    assert.equal(options.port, 9001);
    assert.deepEqual(options.origin, ['http://a:1', 'http://b:2']);
  });

  it('names the bad option in its error', () => {
    const cases: Array<[string[], NodeJS.ProcessEnv, RegExp]> = [
      [['--id', 'x', '--port', '70000'], {}, /^--port: expected a number from 0 to 65535/],
      [['--id', 'x', '--port', 'http'], {}, /^--port: expected a whole number/],
      [['--id', 'x', '--origin', 'ftp://a'], {}, /^--origin: expected an http or https URL/],
      [['--id', 'x', '--mode', 'c'], {}, /^--mode: expected one of a, b/],
      [['--id', 'x', '--cache-size', 'lots'], {}, /^--cache-size: expected a size/],
      [['--id', 'x', '--nope', '1'], {}, /^--nope: unknown option/],
      [['--id', 'x', '--port'], {}, /^--port: missing value/],
      [['--id', 'x', '--id', 'y'], {}, /^--id: given more than once/],
      [[], {}, /^--id: required/],
      [[], { STREAMEDGE_ID: 'x', STREAMEDGE_PORT: '-1' }, /^STREAMEDGE_PORT: expected a number/],
    ];
    for (const [argv, env, pattern] of cases) {
      assert.throws(() => parse(argv, env), (error: unknown) => error instanceof OptionError && pattern.test(error.message));
    }
  });

  it('answers --help with a usage text listing every flag and its variable', () => {
    assert.throws(
      () => parse(['--help']),
      (error: unknown) =>
        error instanceof HelpRequested && /--cache-size <bytes>/.test(error.usage) && /STREAMEDGE_CACHE_SIZE/.test(error.usage),
    );
  });
});

describe('value parsers', () => {
  it('parses byte sizes with binary units', () => {
    assert.equal(parseByteSize('1048576'), 1048576);
    assert.equal(parseByteSize('256MB'), 256 * 1024 * 1024);
    assert.equal(parseByteSize('512k'), 512 * 1024);
    assert.equal(parseByteSize('1.5GiB'), 1.5 * 1024 ** 3);
    assert.throws(() => parseByteSize('-1MB'));
    assert.throws(() => parseByteSize('12 parsecs'));
  });

  it('parses durations to milliseconds', () => {
    assert.equal(parseDuration('250'), 250);
    assert.equal(parseDuration('2s'), 2000);
    assert.equal(parseDuration('1.5m'), 90_000);
    assert.throws(() => parseDuration('soon'));
  });
});
