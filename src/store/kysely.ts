/**
 * The one import of Kysely, the store's query builder. Its ESM build is 263 files, and every `dke` command is a new
 * process: loading them took about a quarter of a second of CPU per start. The build (scripts/bundle-libraries.mjs,
 * run by `npm run build` and `npm test`) replaces this module's compiled file with one bundled file of the same
 * exports; without that step this re-export works the same, only slower to load.
 */
export * from 'kysely';
