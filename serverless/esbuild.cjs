'use strict'

/**
 * How every function is bundled: serverless.yml `custom.esbuild.config` (serverless-esbuild) and
 * scripts/bench use these options, so what is measured is what ships.
 *
 * ES modules with code splitting: each handler's file holds what its cold start runs, and every
 * `import()` of the code (src/runtime/lazy-adapters.ts, the MIME and YAML code) becomes a chunk
 * that is read and compiled only when first used. A single CommonJS file made V8 compile the AWS
 * SDK clients, the encoding tables and the MIME code at every cold start (docs/performance.md).
 */

const { rmSync, writeFileSync } = require('node:fs')
const { basename, extname, join } = require('node:path')

/**
 * Each entry's chunks go to `<entry>.chunks/`, and `package.json` marks the output as ES modules.
 *
 * serverless-esbuild builds one function at a time into one folder and zips, for each function,
 * the whole folder except the other functions' entries and whatever starts with their name and a
 * dot (their source maps): so a function's zip holds its own chunks and no one else's. Lambda
 * and `serverless invoke local` (require(), or import() on ERR_REQUIRE_ESM) load `handlers/x.js`
 * as an ES module because of `handlers/package.json`; the project's own package.json is not
 * packaged. test/integration/template.test.ts runs the packaged zip to prove both.
 */
const esmPackage = {
  name: 'ses-bouncer-esm-package',
  setup(build) {
    const { entryPoints, outdir } = build.initialOptions
    const entries = Array.isArray(entryPoints) ? entryPoints : Object.values(entryPoints ?? {})
    if (entries.length === 1 && outdir !== undefined) {
      const entry = String(typeof entries[0] === 'string' ? entries[0] : entries[0].in)
      const chunks = `${basename(entry, extname(entry))}.chunks`
      build.initialOptions.chunkNames = `${chunks}/[name]-[hash]`
      // Chunk names carry a hash: the folder is emptied first, or chunks of an earlier build
      // (`serverless invoke local` keeps its output) would be zipped with this one.
      build.onStart(() => rmSync(join(outdir, chunks), { recursive: true, force: true }))
    }
    build.onEnd((result) => {
      if (result.errors.length === 0 && outdir !== undefined) {
        writeFileSync(join(outdir, 'package.json'), '{ "type": "module" }\n')
      }
    })
  },
}

/**
 * zod's `z` namespace re-exports every locale (about 260 KB of messages in 50 languages), and
 * esbuild keeps a namespace whole once code uses it as an object (`z.object(...)`), as zod and
 * Powertools both do. Only English is ever used: zod registers it itself, from locales/en.js; no
 * code here or in Powertools reads `z.locales`. So the index of locales is replaced by an empty
 * module, which keeps a quarter of a megabyte out of every cold start.
 */
const zodEnglishOnly = {
  name: 'ses-bouncer-zod-english-only',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, (args) =>
      /[\\/]node_modules[\\/]zod[\\/]/.test(args.importer)
        ? { path: 'zod-locales', namespace: 'ses-bouncer-empty' }
        : undefined,
    )
    build.onLoad({ filter: /.*/, namespace: 'ses-bouncer-empty' }, () => ({ contents: '', loader: 'js' }))
  },
}

/**
 * libmime ships an ES module build and a CommonJS one; mailsplit require()s the CommonJS build,
 * our code imports the package, which would bundle both and load both with the first message that
 * is read. Resolving our imports as mailsplit's require keeps one copy.
 */
const oneLibmime = {
  name: 'ses-bouncer-one-libmime',
  setup(build) {
    build.onResolve({ filter: /^libmime$/ }, (args) =>
      args.kind === 'require-call'
        ? undefined
        : build.resolve(args.path, { kind: 'require-call', resolveDir: args.resolveDir }),
    )
  },
}

/**
 * The SDK's browser user agent code loads bowser with import(); on Node that code is never
 * bundled (tree-shaken), but esbuild still emits the import's chunk, 39 KB that no file imports.
 * Left to Node to resolve, the import disappears with the code around it.
 */
const noBrowserUserAgent = {
  name: 'ses-bouncer-no-browser-user-agent',
  setup(build) {
    build.onResolve({ filter: /^bowser$/ }, () => ({ path: 'bowser', external: true }))
  },
}

/** esbuild's own options, for any build of the handlers (the bench builds with these too). */
const esbuildOptions = {
  bundle: true,
  minify: true,
  keepNames: true, // error names in logs survive minification
  sourcemap: true,
  sourcesContent: false,
  target: 'node22',
  platform: 'node',
  format: 'esm',
  splitting: true,
  // The ES module builds of the AWS SDK, which esbuild can tree-shake, before the CommonJS ones.
  mainFields: ['module', 'main'],
  // Bundled CommonJS packages (mailsplit, iconv-lite) require() Node's built-in modules.
  banner: {
    js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);",
  },
  plugins: [esmPackage, zodEnglishOnly, oneLibmime, noBrowserUserAgent],
}

/** serverless-esbuild's configuration: esbuild's options and the plugin's own. */
function serverlessEsbuildConfig() {
  return {
    ...esbuildOptions,
    outputFileExtension: '.js',
    // Everything bundled, our pinned AWS SDK included; an external would make the plugin run npm.
    exclude: [],
    external: [],
    // A build or init error exits instead of leaving an esbuild watcher hanging.
    skipRebuild: true,
  }
}

module.exports = serverlessEsbuildConfig
module.exports.esbuildOptions = esbuildOptions
