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

const { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } = require('node:fs')
const { basename, dirname, extname, join, resolve } = require('node:path')

/**
 * Each entry's chunks go to `<entry>.chunks/`, and `package.json` marks the output as ES modules.
 *
 * serverless-esbuild builds one function at a time into one folder and zips, for each function,
 * the whole folder except the other functions' entries and whatever starts with their name and a
 * dot (their source maps): so a function's zip holds its own chunks and no one else's. Lambda
 * and `serverless invoke local` (require(), or import() on ERR_REQUIRE_ESM) load `handlers/x.js`
 * as an ES module because of `handlers/package.json`; the project's own package.json is not
 * packaged. test/integration/packaged-artifact.test.ts runs the packaged zip to prove both.
 *
 * esbuild emits a chunk for every `import()` it meets, even one in code it then leaves out (a lazy
 * adapter another handler uses, the SDK's browser code): the chunks the entry does not import,
 * directly or through another chunk, are removed, so that a zip holds only what its code loads.
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
      build.initialOptions.metafile = true
      build.onEnd((result) => {
        if (result.errors.length > 0 || result.metafile === undefined) return
        const cwd = build.initialOptions.absWorkingDir ?? process.cwd()
        // Every import() is an entry point of esbuild's too: the handler's is the one asked for.
        const entryOutput = Object.keys(result.metafile.outputs).find((output) => {
          const entryPoint = result.metafile.outputs[output].entryPoint
          return entryPoint !== undefined && resolve(cwd, entryPoint) === resolve(cwd, entry)
        })
        if (entryOutput !== undefined) pruneChunks(resolve(cwd, entryOutput), join(outdir, chunks))
      })
    }
    build.onEnd((result) => {
      if (result.errors.length === 0 && outdir !== undefined) {
        writeFileSync(join(outdir, 'package.json'), '{ "type": "module" }\n')
      }
    })
  },
}

/** Relative specifiers of `import … from` and `import()` in a built module. */
const IMPORTS = /(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g

/** Removes the files of `chunksDir` that `entry` does not import, directly or through one another. */
function pruneChunks(entry, chunksDir) {
  const reached = new Set()
  const visit = (file) => {
    if (reached.has(file) || !existsSync(file)) return
    reached.add(file)
    for (const [, specifier] of readFileSync(file, 'utf8').matchAll(IMPORTS)) {
      visit(resolve(dirname(file), specifier))
    }
  }
  visit(entry)
  if (!existsSync(chunksDir)) return
  for (const name of readdirSync(chunksDir)) {
    const file = join(chunksDir, name)
    if (!reached.has(file.replace(/\.map$/, ''))) rmSync(file)
  }
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
  plugins: [esmPackage, zodEnglishOnly, oneLibmime],
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
